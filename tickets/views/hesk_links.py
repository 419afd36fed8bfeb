"""HESK's public addresses, from old e-mails and bookmarks, sent on to ours (301).

The same checks as our own pages: tracking IDs go through ``get_ticket_or_404``,
failed look-ups count against the same limit (``throttle_failed_lookups``), an
unknown ID gets our 404 page, and HESK's ``e=`` (the requester's address) proves
nothing. HESK may have lived in a folder (``/soporte/ticket.php``): any leading
folders are accepted. Included from mesaayuda/urls.py before the admin, whose
catch-all would otherwise answer ``admin/admin_ticket.php``.
"""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.urls import re_path, reverse

from tickets import tracking
from tickets.models import Attachment, Ticket
from tickets.views.limits import throttle_failed_lookups
from tickets.views.ticket import get_ticket_or_404

app_name = "hesk"
_FOLDERS = r"^(?:[\w.-]+/)*"


def _to(name: str, *args) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(reverse(name, args=args))


@throttle_failed_lookups
def ticket(request):
    """ticket.php?track=ID[&e=…][&Refresh=…] and print.php?track=ID → the ticket page."""
    track = request.GET.get("track", "")
    if settings.LOOKUP_REQUIRES_EMAIL:
        # Our page asks this browser for the e-mail whether or not the ID exists;
        # answering here would tell which IDs do.
        normalized = tracking.normalize(track)
        if not normalized:
            raise Http404
        return _to("tickets:ticket", normalized)
    found = get_ticket_or_404(request, track)
    return _to("tickets:ticket", found.tracking_id)


@throttle_failed_lookups
def attachment(request):
    """download_attachment.php?att_id=N&track=ID → the same file, if it is that ticket's and public."""
    found = get_ticket_or_404(request, request.GET.get("track", ""))
    att_id = request.GET.get("att_id", "")
    if not att_id.isdigit():
        raise Http404
    f = get_object_or_404(
        Attachment.objects.exclude(reply__is_internal=True), hesk_id=int(att_id), ticket=found
    )
    return _to("tickets:attachment", found.tracking_id, f.pk)


def index(request):
    """index.php?a=add → new ticket; ?a=forgot_tid → "¿Olvidó su ID?"; anything else → home."""
    action = request.GET.get("a", "")
    if action == "add":
        return _to("tickets:submit")
    if action == "forgot_tid":
        return _to("tickets:forgotten_id")
    return _to("tickets:home")


@staff_member_required
def admin_ticket(request):
    """admin/admin_ticket.php?track=ID → our admin ticket page (log-in first)."""
    normalized = tracking.normalize(request.GET.get("track", ""))
    found = get_object_or_404(Ticket.objects.only("pk"), tracking_id=normalized)
    return _to("admin:tickets_ticket_change", found.pk)


urlpatterns = [
    re_path(_FOLDERS + r"admin/admin_ticket\.php$", admin_ticket, name="admin_ticket"),
    re_path(_FOLDERS + r"(?:ticket|print)\.php$", ticket, name="ticket"),
    re_path(_FOLDERS + r"download_attachment\.php$", attachment, name="attachment"),
    re_path(_FOLDERS + r"index\.php$", index, name="index"),
    re_path(_FOLDERS + r"knowledgebase\.php$", index, name="knowledgebase"),
]
