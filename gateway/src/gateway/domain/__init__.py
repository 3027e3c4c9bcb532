"""The gateway's rules: no FastAPI, no database session."""
