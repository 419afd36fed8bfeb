"""Creating a ticket: the one flow that touches several models and the outbox."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from tickets import emails, tracking
from tickets.models import Sequence, Ticket


def submit_ticket(
    *,
    name,
    email,
    category,
    region,
    project_number,
    message,
    files=(),
    ip_address=None,
    language="es",
    submission_token=None,
) -> Ticket:
    """Create the ticket, its attachments and its e-mails in one transaction.

    A repeated submission_token (double click, refreshed POST) returns the ticket
    that token already created.
    """
    if submission_token:
        existing = Ticket.objects.filter(submission_token=submission_token).first()
        if existing:
            return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                now = timezone.now()
                ticket = Ticket(
                    number=Sequence.next("ticket"),
                    tracking_id=tracking.new_tracking_id(),
                    submission_token=submission_token,
                    name=name,
                    email=email,
                    category=category,
                    region=region,
                    project_number=project_number,
                    subject=Ticket.subject_from(message),
                    message=message,
                    ip_address=ip_address,
                    language=language,
                    created_at=now,
                    updated_at=now,
                )
                ticket._start_staff_clock(now)
                ticket.save()
                ticket.add_attachments(files)
                emails.ticket_created(ticket)
                return ticket
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
