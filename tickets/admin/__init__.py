"""The agent workspace. One module per noun; importing them registers them."""

from . import inbound, outbox, privacy, reference, tickets, users  # noqa: F401
