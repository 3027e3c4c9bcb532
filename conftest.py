"""Fixtures shared by every package's tests: the embedded broker and the test databases."""

import gateway  # noqa: F401 - see below

# The gateway's package and its folder share a name: importing the package before pytest
# collects gateway/tests keeps pytest from standing in an empty module for it.
pytest_plugins = ["tests.support.fixtures"]
