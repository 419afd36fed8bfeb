"""The link that lets a requester rate an answer from the e-mail, and the figures for reports.

The link carries a signed token naming the ticket and the resolution it rates, so it
works without typing the tracking ID and cannot rate another ticket (or another
resolution of the same one). Signed with SECRET_KEY and its own salt, it expires
after RATING_WINDOW_DAYS. No model import here: the e-mails, which the models
import, build the link.
"""

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db.models import Avg, Count, QuerySet
from django.urls import reverse

SALT = "tickets.rating"


class BadLink(Exception):
    """The token is forged, altered or past its lifetime."""


def token_for(ticket) -> str:
    return _token(signing.TimestampSigner(salt=SALT), ticket)


def _token(signer: signing.TimestampSigner, ticket) -> str:
    # signing.dumps(…, salt=SALT) with a signer made once for a batch (it reads the
    # settings each time it is made). Whole seconds: the same on every database,
    # whatever precision it keeps.
    return signer.sign_object(
        {"t": ticket.pk, "r": int(ticket.closed_at.timestamp())}, compress=False
    )


def read_token(token: str) -> tuple[int, int]:
    """(ticket pk, resolution timestamp) named by a valid token; BadLink otherwise."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.RATING_WINDOW_DAYS * 86400)
        return int(data["t"]), int(data["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadLink from exc


def names_resolution(resolution: int, closed_at: datetime | None) -> bool:
    return closed_at is not None and int(closed_at.timestamp()) == resolution


def rating_url(ticket) -> str:
    """The absolute address of the rating page for the ticket's present resolution."""
    return settings.PUBLIC_SITE_URL + reverse("tickets:rate_by_link", args=[token_for(ticket)])


def rating_urls(tickets) -> dict[int, str]:
    """``rating_url`` of each ticket (by pk), for a batch of notices.

    One signer and one URL look-up for all: a look-up per link was half of its cost.
    """
    signer = signing.TimestampSigner(salt=SALT)
    marker = "token"
    before, _, after = reverse("tickets:rate_by_link", args=[marker]).partition(marker)
    start = settings.PUBLIC_SITE_URL + before
    return {t.pk: start + _token(signer, t) + after for t in tickets}


def summary(ratings: QuerySet) -> dict:
    """How many ratings, their average score (None without any) and how many of each score.

    For the reports: pass any queryset of Rating (filtered by date, category, region…).
    Two queries whatever the number of rows.
    """
    totals = ratings.aggregate(count=Count("pk"), average=Avg("score"))
    by_score = dict.fromkeys(range(1, 6), 0)
    for row in ratings.order_by().values("score").annotate(n=Count("pk")):
        by_score[row["score"]] = row["n"]
    average = totals["average"]
    return {
        "count": totals["count"],
        "average": round(float(average), 2) if average is not None else None,
        "by_score": by_score,
    }
