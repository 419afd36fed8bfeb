"""¿Cómo fue la atención?: the requester rates a resolved or closed ticket.

From the ticket page (the tracking ID is the key, as for replying) or from the
link in the Resuelto/Cerrado e-mail (a signed token naming the ticket and the
resolution, see tickets/ratings.py). Never required; changeable while the
resolution is recent (RATING_WINDOW_DAYS).
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from tickets import ratings
from tickets.forms import RatingForm
from tickets.models import Rating, Ticket
from tickets.models.rating import can_rate, rating_open_until
from tickets.views.headers import private_page
from tickets.views.limits import ratelimit, throttle_failed_lookups
from tickets.views.ticket import get_ticket_or_404, render_ticket

ANCHOR = "#calificacion"


def thank(request: HttpRequest, rating: Rating, created: bool) -> None:
    if created:
        messages.success(request, gettext("Gracias por calificar la atención."))
    else:
        messages.success(request, gettext("Su calificación quedó actualizada. Gracias."))


@private_page
@ratelimit("rating")
@throttle_failed_lookups
@require_POST
def rate(request: HttpRequest, tracking_id: str) -> HttpResponse:
    ticket = get_ticket_or_404(request, tracking_id)
    if not can_rate(ticket):
        messages.info(request, gettext("Este ticket ya no se puede calificar."))
        return redirect(ticket)
    form = RatingForm(request.POST)
    if form.is_valid():
        existed = Rating.current(ticket) is not None
        rating = Rating.rate(ticket, **form.cleaned_data)
        thank(request, rating, created=not existed)
        return redirect(ticket.get_absolute_url() + ANCHOR)
    return render_ticket(request, ticket, rating_form=form)


@private_page
@ratelimit("rating")
@require_http_methods(["GET", "HEAD", "POST"])
def rate_by_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        pk, resolution = ratings.read_token(token)
    except ratings.BadLink:
        ticket = None
    else:
        ticket = (
            Ticket.objects.filter(pk=pk)
            .only("pk", "tracking_id", "number", "status", "closed_at")
            .first()
        )
    # A forged or expired link, a ticket reopened since the e-mail, or one past its
    # window: one answer, which says what the person can still do.
    if (
        ticket is None
        or not ratings.names_resolution(resolution, ticket.closed_at)
        or not can_rate(ticket)
    ):
        return render(
            request,
            "tickets/rating_link_invalid.html",
            {"days": settings.RATING_WINDOW_DAYS},
            status=404,
        )

    rating = Rating.current(ticket)
    if request.method == "POST":
        form = RatingForm(request.POST)
        if form.is_valid():
            saved = Rating.rate(ticket, **form.cleaned_data)
            thank(request, saved, created=rating is None)
            return redirect(request.path)
    else:
        initial = {"score": rating.score, "comment": rating.comment} if rating else {}
        form = RatingForm(initial=initial)
    ctx = {
        "ticket": ticket,
        "form": form,
        "rating": rating,
        "until": rating_open_until(ticket),
    }
    return render(request, "tickets/rate.html", ctx, status=400 if form.errors else 200)
