"""The agent workspace. One module per noun; importing them registers them."""

from . import (  # noqa: F401
    inbound,
    outgoing_email,
    personal_data,
    reference,
    staff_records,
    tickets,
    users,
)
