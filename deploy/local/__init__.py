"""The platform on one machine: `make run`, `make seed`, and the end-to-end tests."""
