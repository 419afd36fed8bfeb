"""The information pages: home, upload limits, regional contacts, the privacy notice."""

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from tickets import uploads
from tickets.models import PrivacyNotice, Region, RegionalContact


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/home.html")


@require_safe
def upload_limits(request: HttpRequest) -> HttpResponse:
    ctx = {
        "types": uploads.allowed_types(),
        "max_files": settings.TICKET_MAX_FILES,
        "max_mb": settings.TICKET_MAX_FILE_SIZE // (1024 * 1024),
        "max_total_mb": settings.TICKET_MAX_TOTAL_SIZE // (1024 * 1024),
    }
    return render(request, "tickets/upload_limits.html", ctx)


@require_safe
def regional_contacts(request: HttpRequest) -> HttpResponse:
    regions = Region.objects.prefetch_related(
        Prefetch("contacts", queryset=RegionalContact.objects.order_by("position", "name"))
    )
    return render(
        request,
        "tickets/regional_contacts.html",
        {"regions": [r for r in regions if r.contacts.all()]},
    )


@require_safe
def privacy_notice(request: HttpRequest) -> HttpResponse:
    """The "Aviso de privacidad" (Ley 21.719: transparency at collection)."""
    notice = PrivacyNotice.current()
    if notice is None:
        # Seeded by migration 0004_privacy and never deleted through admin.
        raise Http404
    return render(
        request, "tickets/privacy_notice.html", {"notice": notice, "body": notice.rendered_body()}
    )
