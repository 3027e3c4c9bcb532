"""HTTP routers of the CRM service, one module per resource."""
