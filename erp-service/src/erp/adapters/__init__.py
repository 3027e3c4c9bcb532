"""SQLAlchemy models and repositories of the ERP service."""
