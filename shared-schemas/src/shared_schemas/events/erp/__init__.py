"""The event contracts erp-service publishes, one model per event type."""

from shared_schemas.events.base import EventData
from shared_schemas.events.erp.employees import (
    EmployeeHired,
    EmployeeTerminated,
    EmployeeUpdated,
)
from shared_schemas.events.erp.invoices import (
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceVoided,
    PaymentReceived,
)
from shared_schemas.events.erp.orders import (
    OrderBackordered,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderDelivered,
    OrderOnHold,
    OrderShipped,
)
from shared_schemas.events.erp.products import ProductCreated, ProductUpdated
from shared_schemas.events.erp.stock import StockAdjusted, StockLow

ERP_EVENTS: tuple[type[EventData], ...] = (
    ProductCreated,
    ProductUpdated,
    OrderCreated,
    OrderConfirmed,
    OrderBackordered,
    OrderOnHold,
    OrderShipped,
    OrderDelivered,
    OrderCancelled,
    StockLow,
    StockAdjusted,
    InvoiceIssued,
    InvoicePaid,
    InvoiceOverdue,
    InvoiceVoided,
    PaymentReceived,
    EmployeeHired,
    EmployeeUpdated,
    EmployeeTerminated,
)

__all__ = [
    "ERP_EVENTS",
    "EmployeeHired",
    "EmployeeTerminated",
    "EmployeeUpdated",
    "InvoiceIssued",
    "InvoiceOverdue",
    "InvoicePaid",
    "InvoiceVoided",
    "OrderBackordered",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderCreated",
    "OrderDelivered",
    "OrderOnHold",
    "OrderShipped",
    "PaymentReceived",
    "ProductCreated",
    "ProductUpdated",
    "StockAdjusted",
    "StockLow",
]
