"""Deployment checks of our own settings, run by ``manage.py check --deploy`` and gunicorn.

Most settings refuse a bad value at import (settings.py). These are the ones a
development or benchmark server may run without, but production must not.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def privacy_contact(app_configs, **kwargs) -> list[Error]:
    address = settings.PRIVACY_CONTACT_EMAIL
    if address and not address.endswith("@localhost"):
        return []
    return [
        Error(
            f"PRIVACY_CONTACT_EMAIL is {address!r}: the privacy notice would tell requesters to "
            "write there to exercise their rights (Ley 21.719).",
            hint="Set PRIVACY_CONTACT_EMAIL (or HELPDESK_NOTIFY_EMAIL, its fallback) to a real "
            "mailbox of the ministry.",
            id="tickets.E001",
        )
    ]
