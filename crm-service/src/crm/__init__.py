"""The CRM service: customers, leads, opportunities, quotes, inquiries, activities."""
