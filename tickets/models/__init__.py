from .inbound import InboundEmail
from .outgoing_email import OutgoingEmail
from .personal_data import AccessLog, DataRequest, PrivacyNotice
from .rating import Rating
from .reference import CannedResponse, Category, NonWorkingDay, Region, RegionalContact
from .staff import RateLimitCounter, SecondFactorReset
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
    "InboundEmail",
    "MergeError",
    "NonWorkingDay",
    "OutgoingEmail",
    "Priority",
    "RateLimitCounter",
    "PrivacyNotice",
    "Rating",
    "Region",
    "RegionalContact",
    "Reply",
    "SecondFactorReset",
    "Sequence",
    "Status",
    "Ticket",
    "TicketEvent",
    "user_label",
]
