"""The event contracts crm-service publishes, one model per event type."""

from shared_schemas.events.base import EventData
from shared_schemas.events.crm.customers import (
    CustomerArchived,
    CustomerCreated,
    CustomerUpdated,
)
from shared_schemas.events.crm.inquiries import InquiryOpened, InquiryResolved
from shared_schemas.events.crm.leads import (
    LeadConverted,
    LeadCreated,
    LeadDisqualified,
    LeadQualified,
)
from shared_schemas.events.crm.opportunities import (
    OpportunityLost,
    OpportunityStageChanged,
    OpportunityWon,
)
from shared_schemas.events.crm.quotes import QuoteAccepted, QuoteExpired, QuoteRejected, QuoteSent

CRM_EVENTS: tuple[type[EventData], ...] = (
    CustomerCreated,
    CustomerUpdated,
    CustomerArchived,
    LeadCreated,
    LeadQualified,
    LeadConverted,
    LeadDisqualified,
    OpportunityStageChanged,
    OpportunityWon,
    OpportunityLost,
    QuoteSent,
    QuoteAccepted,
    QuoteRejected,
    QuoteExpired,
    InquiryOpened,
    InquiryResolved,
)

__all__ = [
    "CRM_EVENTS",
    "CustomerArchived",
    "CustomerCreated",
    "CustomerUpdated",
    "InquiryOpened",
    "InquiryResolved",
    "LeadConverted",
    "LeadCreated",
    "LeadDisqualified",
    "LeadQualified",
    "OpportunityLost",
    "OpportunityStageChanged",
    "OpportunityWon",
    "QuoteAccepted",
    "QuoteExpired",
    "QuoteRejected",
    "QuoteSent",
]
