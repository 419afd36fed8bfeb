from .outbox import OutgoingEmail
from .reference import CannedResponse, Category, NonWorkingDay, Region, RegionalContact
from .ticket import Attachment, Priority, Reply, Sequence, Status, Ticket, TicketEvent

__all__ = [
    "Attachment",
    "CannedResponse",
    "Category",
    "NonWorkingDay",
    "OutgoingEmail",
    "Priority",
    "Region",
    "RegionalContact",
    "Reply",
    "Sequence",
    "Status",
    "Ticket",
    "TicketEvent",
]
