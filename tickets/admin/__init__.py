"""The agent workspace. One module per noun; importing them registers them."""

from . import landing, outgoing_email, personal_data, reference, tickets, users  # noqa: F401
