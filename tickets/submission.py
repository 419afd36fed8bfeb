"""Submitting a ticket from the public form: ``Ticket.open`` plus the form's guarantees.

A double click or a refreshed POST must not make a second ticket, and a tracking-ID
collision must not lose the submission; the verb itself knows neither.
"""

import uuid

from django.db import IntegrityError

from tickets import uploads
from tickets.models import Category, Region, Ticket


def submit_ticket(
    *,
    name: str,
    email: str,
    category: Category,
    region: Region,
    project_number: int,
    message: str,
    files=(),
    ip_address: str | None = None,
    language: str = "es",
    submission_token: uuid.UUID | None = None,
    channel: str = "web",
) -> Ticket:
    """Open the ticket; a repeated submission_token returns the ticket it already created.

    The token's unique key finds a repeat: the statement that writes the ticket fails,
    writes nothing and gives its number back. Only a submission with files looks first,
    as their files would be stored before that statement.
    """
    if submission_token and files:
        existing = Ticket.objects.filter(submission_token=submission_token).first()
        if existing:
            return existing
    for _attempt in range(5):
        try:
            return Ticket.open(
                name=name,
                email=email,
                category=category,
                region=region,
                project_number=project_number,
                message=message,
                files=files,
                ip_address=ip_address,
                language=language,
                submission_token=submission_token,
                channel=channel,
            )
        except IntegrityError:
            # Either the same token won a race (return its ticket) or, once in
            # ~10^14, a tracking ID collided (draw another).
            if submission_token:
                existing = Ticket.objects.filter(submission_token=submission_token).first()
                if existing:
                    return existing
            for f in files:
                f.seek(0)
    raise RuntimeError("could not allocate a unique tracking ID")


def submit_form(data: dict, **extra) -> Ticket:
    """``submit_ticket`` from a valid form with the public form's fields (the callers' form
    has the same ones). Raises ValidationError when the files pass the ticket's total."""
    uploads.check_ticket_total(None, data["attachments"])
    return submit_ticket(
        name=data["name"],
        email=data["email"],
        category=data["category"],
        region=data["region"],
        project_number=data["project_number"],
        message=data["message"],
        files=data["attachments"],
        submission_token=data["submission_token"],
        **extra,
    )
