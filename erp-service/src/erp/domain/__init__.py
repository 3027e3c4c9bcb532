"""Business rules of the ERP: stock arithmetic, order state machine; no I/O."""
