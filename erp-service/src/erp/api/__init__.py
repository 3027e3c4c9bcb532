"""HTTP routers of the ERP service, one module per resource."""
