from .outgoing_email import OutgoingEmail
from .personal_data import AccessLog, DataRequest, PrivacyNotice
from .reference import CannedResponse, Category, NonWorkingDay, Region, RegionalContact
from .ticket import (
    MAX_POSITIVE_INT,
    Attachment,
    Channel,
    MergeError,
    Priority,
    Reply,
    Sequence,
    Status,
    Ticket,
    TicketEvent,
    user_label,
)

__all__ = [
    "MAX_POSITIVE_INT",
    "AccessLog",
    "Attachment",
    "CannedResponse",
    "Channel",
    "Category",
    "DataRequest",
    "MergeError",
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
