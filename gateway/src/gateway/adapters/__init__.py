"""SQLAlchemy models of the gateway's own database."""
