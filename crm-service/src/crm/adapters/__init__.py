"""SQLAlchemy models and repositories of the CRM service."""
