"""The ERP service: products, stock, orders, shipments, finance and employees."""
