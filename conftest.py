"""Fixtures shared by every package's tests: the embedded broker and the test databases."""

pytest_plugins = ["tests.support.fixtures"]
