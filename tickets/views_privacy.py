"""The public privacy notice (Ley 21.719: transparency at collection)."""

from django.http import Http404
from django.shortcuts import render

from tickets.models import PrivacyNotice


def privacy_notice(request):
    notice = PrivacyNotice.current()
    if notice is None:
        # Seeded by migration 0004_privacy and never deleted through admin.
        raise Http404
    return render(
        request, "tickets/privacy_notice.html", {"notice": notice, "body": notice.rendered_body()}
    )
