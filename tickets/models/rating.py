"""The requester's satisfaction rating: one per resolution of a ticket.

A resolution is named by the ticket's ``closed_at`` when it became Resuelto or
Cerrado: a reopened and resolved-again ticket has a new ``closed_at`` and may be
rated again; the rating of an earlier resolution stays as it was.
"""

from datetime import UTC, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .ticket import FINISHED_STATUSES, Ticket

SCORE_LABELS = {
    1: _("Muy mala"),
    2: _("Mala"),
    3: _("Regular"),
    4: _("Buena"),
    5: _("Muy buena"),
}


def rating_open_until(ticket: Ticket):
    """Until when the current resolution may be rated or the rating changed; None if not finished."""
    if ticket.status not in FINISHED_STATUSES or ticket.closed_at is None:
        return None
    return ticket.closed_at + timedelta(days=settings.RATING_WINDOW_DAYS)


def can_rate(ticket: Ticket, now=None) -> bool:
    until = rating_open_until(ticket)
    return until is not None and (now or timezone.now()) < until


class JSONArrayAgg(models.Aggregate):
    """The grouped rows as one JSON array: SQLite's JSON_GROUP_ARRAY, PostgreSQL's JSONB_AGG.

    Django 5.2 has one only for PostgreSQL (contrib.postgres' JSONBAgg); the site runs on both.
    """

    function = "JSON_GROUP_ARRAY"
    output_field = models.JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


# The annotation Rating.folded_into adds to each ticket, read back by Rating.of.
FOLDED = "ratings_folded"


class Rating(models.Model):
    ticket = models.ForeignKey(
        Ticket, models.CASCADE, related_name="ratings", verbose_name=_("ticket")
    )
    resolved_at = models.DateTimeField(_("resolución calificada"))
    score = models.PositiveSmallIntegerField(
        _("calificación"),
        choices=list(SCORE_LABELS.items()),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = models.TextField(_("comentario"), blank=True)
    created_at = models.DateTimeField(_("creada"), default=timezone.now)
    updated_at = models.DateTimeField(_("actualizada"), default=timezone.now)

    class Meta:
        ordering = ["-resolved_at"]
        verbose_name = _("calificación")
        verbose_name_plural = _("calificaciones")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "resolved_at"], name="rating_one_per_resolution"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["-created_at"], name="rating_created")]

    def __str__(self):
        return f"{self.ticket} · {self.score}/5"

    @classmethod
    def folded_into(cls, tickets: QuerySet) -> QuerySet:
        """``tickets``, each carrying its ratings in its own row, for ``Rating.of``.

        The ticket page shows every rating, and its query budget (12) has no room for a
        query of their own: they come as a JSON array from a subquery on the rating's
        unique (ticket, resolution) index.
        """
        fields = [f.attname for f in cls._meta.concrete_fields if f.name != "ticket"]
        rows = (
            cls.objects.filter(ticket=OuterRef("pk"))
            .order_by()
            .values("ticket")
            .annotate(rows=JSONArrayAgg(JSONObject(**{name: name for name in fields})))
            .values("rows")
        )
        return tickets.annotate(**{FOLDED: Subquery(rows)})

    @classmethod
    def of(cls, ticket: Ticket) -> list["Rating"]:
        """The ticket's ratings, newest resolution first; no query if it came through
        ``folded_into``."""
        if not hasattr(ticket, FOLDED):
            return list(ticket.ratings.all())
        ratings = [cls._from_json(ticket, row) for row in getattr(ticket, FOLDED) or ()]
        return sorted(ratings, key=lambda r: r.resolved_at, reverse=True)

    @classmethod
    def _from_json(cls, ticket: Ticket, row: dict) -> "Rating":
        values = {}
        for name, value in row.items():
            if isinstance(cls._meta.get_field(name), models.DateTimeField):
                # SQLite gives the stored UTC text without an offset, PostgreSQL ISO with one.
                value = parse_datetime(value)
                if timezone.is_naive(value):
                    value = timezone.make_aware(value, UTC)
            values[name] = value
        return cls(ticket=ticket, **values)

    @classmethod
    def current(cls, ticket: Ticket) -> "Rating | None":
        """The rating of the ticket's present resolution, if it was rated."""
        if ticket.status not in FINISHED_STATUSES or ticket.closed_at is None:
            return None
        return cls.objects.filter(ticket=ticket, resolved_at=ticket.closed_at).first()

    @classmethod
    def rate(cls, ticket: Ticket, *, score: int, comment: str = "") -> "Rating":
        """Record or change the rating of the ticket's present resolution.

        update_or_create on the unique (ticket, resolution): a double click or two
        tabs end as one row, the last answer kept.
        """
        now = timezone.now()
        rating, _created = cls.objects.update_or_create(
            ticket=ticket,
            resolved_at=ticket.closed_at,
            defaults={"score": score, "comment": comment, "updated_at": now},
            create_defaults={
                "score": score,
                "comment": comment,
                "created_at": now,
                "updated_at": now,
            },
        )
        return rating
