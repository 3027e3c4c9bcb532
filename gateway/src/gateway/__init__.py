"""The gateway: the one entry point for frontend apps and other systems."""
