from .inbound import InboundEmail
from .outbox import OutgoingEmail
from .privacy import AccessLog, DataRequest, PrivacyNotice
from .reference import CannedResponse, Category, NonWorkingDay, Region, RegionalContact
from .ticket import Attachment, Priority, Reply, Sequence, Status, Ticket, TicketEvent, user_label

__all__ = [
    "AccessLog",
    "Attachment",
    "CannedResponse",
    "Category",
    "DataRequest",
    "InboundEmail",
    "NonWorkingDay",
    "OutgoingEmail",
    "Priority",
    "PrivacyNotice",
    "Region",
    "RegionalContact",
    "Reply",
    "Sequence",
    "Status",
    "Ticket",
    "TicketEvent",
    "user_label",
]
