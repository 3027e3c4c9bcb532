"""Handlers for the events the other service publishes."""
