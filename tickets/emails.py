"""One function per message. Each renders a template triplet into outbox rows.

Called inside the transaction of the change that causes the message, so the
mail exists if and only if the change does. ``send_queued_mail`` sends them.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from tickets.models import OutgoingEmail


def _queue(kind, recipients, *, ticket=None, language="es", **ctx):
    ctx.setdefault("ticket", ticket)
    ctx["site_url"] = settings.PUBLIC_SITE_URL
    with translation.override(language):
        # A subject is one line: whatever a template renders, collapse it.
        subject = " ".join(render_to_string(f"emails/{kind}-subject.txt", ctx).split())
        text = render_to_string(f"emails/{kind}-body.txt", ctx)
        html = render_to_string(f"emails/{kind}-body.html", ctx)
    rows = [
        OutgoingEmail(kind=kind, to=to, subject=subject[:250], body_text=text, body_html=html, ticket=ticket)
        for to in sorted(set(recipients))
        if to
    ]
    OutgoingEmail.objects.bulk_create(rows)
    if rows and settings.EMAIL_SEND_ON_COMMIT:
        from tickets import outbox

        ids = [r.pk for r in rows if r.pk]
        transaction.on_commit(lambda: outbox.send_soon(ids))
    return rows


def _agent_addresses(ticket):
    """Agents routed for the ticket's category or region, else the help desk's address."""
    User = get_user_model()
    q = User.objects.filter(is_active=True, is_staff=True).exclude(email="")
    q = q.filter(routed_categories=ticket.category_id) | q.filter(routed_regions=ticket.region_id)
    addresses = set(q.values_list("email", flat=True))
    return addresses or {settings.HELPDESK_NOTIFY_EMAIL}


# --- to the requester ----------------------------------------------------------------
def ticket_created(ticket):
    _queue("ticket_created", [ticket.email], ticket=ticket, language=ticket.language)
    _queue("new_ticket_agents", _agent_addresses(ticket), ticket=ticket)


def agent_replied(reply):
    ticket = reply.ticket
    _queue("agent_replied", [ticket.email], ticket=ticket, language=ticket.language, reply=reply)


def information_requested(reply):
    ticket = reply.ticket
    _queue("information_requested", [ticket.email], ticket=ticket, language=ticket.language, reply=reply)


def ticket_resolved(ticket):
    _queue("ticket_resolved", [ticket.email], ticket=ticket, language=ticket.language)


def ticket_closed_automatically(ticket):
    _queue("ticket_closed_automatically", [ticket.email], ticket=ticket, language=ticket.language)


def forgotten_ids(email, tickets, *, language="es"):
    _queue("forgotten_ids", [email], language=language, tickets=tickets, email=email)


# --- to agents ---------------------------------------------------------------------------
def requester_replied(reply):
    ticket = reply.ticket
    if ticket.assignee_id and ticket.assignee.email:
        recipients = {ticket.assignee.email}
    else:
        recipients = _agent_addresses(ticket)
    _queue("requester_replied", recipients, ticket=ticket, reply=reply)


def ticket_assigned(ticket):
    if ticket.assignee and ticket.assignee.email:
        _queue("ticket_assigned", [ticket.assignee.email], ticket=ticket)
