"""Business rules of the CRM: state machines, validation, arithmetic; no I/O."""
