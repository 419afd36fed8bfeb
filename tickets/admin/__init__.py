"""The agent workspace. One module per noun; importing them registers them."""

from . import outgoing_email, personal_data, reference, staff_records, tickets, users  # noqa: F401
