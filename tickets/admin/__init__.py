"""The agent workspace. One module per noun; importing them registers them."""

from . import (  # noqa: F401
    inbound,
    landing,
    outgoing_email,
    personal_data,
    reference,
    staff_records,
    tickets,
    users,
)
