"""The figures of the supervisors' report: plain functions, each a few aggregate queries.

No function loops over tickets: the database counts and groups. What it needs per ticket
(the first public answer, the business hours to it and to closure, by the ticket's
regional calendar) is stored on the ticket by its verbs (tickets/models/ticket.py), and
filled for older tickets by migration 0008. Python only loops over the groups a query
returns (regions, weeks, agents).

Percentiles are those of PostgreSQL's ``percentile_cont`` (linear interpolation between
the two nearest ranks). SQLite has no such aggregate: there each percentile is one query
that ranks the durations with window functions (ROW_NUMBER and COUNT over the group) and
returns only the two rows around the wanted rank, between which Python interpolates the
same way. Both databases thus give the same figure and read two rows per group, however
many tickets there are.

Dates: a report covers whole days in America/Santiago, from ``start`` to ``end`` inclusive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, Value, Window
from django.db.models.functions import Floor, RowNumber, TruncMonth, TruncWeek
from django.utils import timezone, translation
from django.utils.translation import gettext

from tickets import ratings
from tickets.business_calendar import TIME_ZONE
from tickets.models import Rating, Reply, Status, Ticket, TicketEvent, user_label
from tickets.models.ticket import OPEN_STATUSES

WEEKS = 12
GROWTH_ROWS = 5


# --- what a report covers ------------------------------------------------------------------
def local_midnight(day: date) -> datetime:
    # On the September change night Chile has no 00:00; zoneinfo's fold=0 reading of it is
    # the instant of the jump, which is where that day starts.
    return datetime.combine(day, time(), tzinfo=TIME_ZONE)


@dataclass(frozen=True)
class Scope:
    """A date range (whole local days) and optionally one region, category or assigned agent."""

    start: date
    end: date
    region: Any = None
    category: Any = None
    agent: Any = None

    @classmethod
    def this_month(cls, today: date | None = None, **filters) -> Scope:
        today = today or timezone.localdate(timezone=TIME_ZONE)
        return cls(start=today.replace(day=1), end=today, **filters)

    @property
    def since(self) -> datetime:
        return local_midnight(self.start)

    @property
    def until(self) -> datetime:
        return local_midnight(self.end + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Scope:
        """The same number of days just before, for "grows most"."""
        return replace(
            self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(1)
        )

    def ticket_q(self, prefix: str = "", *, with_agent: bool = True) -> Q:
        q = Q()
        if self.region is not None:
            q &= Q(**{f"{prefix}region": self.region})
        if self.category is not None:
            q &= Q(**{f"{prefix}category": self.category})
        if with_agent and self.agent is not None:
            q &= Q(**{f"{prefix}assignee": self.agent})
        return q

    def tickets(self, *, with_agent: bool = True):
        return Ticket.objects.filter(self.ticket_q(with_agent=with_agent)).order_by()

    def created(self, **kw):
        return self.tickets(**kw).filter(created_at__gte=self.since, created_at__lt=self.until)


# --- percentiles ------------------------------------------------------------------------------
class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate ``percentile_cont(p) WITHIN GROUP (ORDER BY x)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percentile: float, **extra):
        # float(): the value is written into the SQL, so it must be a number.
        super().__init__(expression, percentile=float(percentile), **extra)


def percentiles(
    q, column: str, ps: Sequence[float] = (0.5, 0.9), *, group: str | None = None
) -> dict[Any, list[float | None]]:
    """{group value (None without a group): [the ps-th percentiles of column]}; NULLs ignored."""
    q = q.filter(**{f"{column}__isnull": False}).order_by()
    if connection.vendor == "postgresql":
        aggs = {f"p{i}": PercentileCont(column, p) for i, p in enumerate(ps)}
        if group is None:
            row = q.aggregate(**aggs)
            return {None: [row[f"p{i}"] for i in range(len(ps))]}
        rows = q.values(group).annotate(**aggs)
        return {r[group]: [r[f"p{i}"] for i in range(len(ps))] for r in rows}
    return _ranked_percentiles(q, column, ps, group)


def _ranked_percentiles(q, column, ps, group):
    partition = [F(group)] if group else None
    ranked = q.annotate(
        _rank=Window(RowNumber(), partition_by=partition, order_by=F(column).asc()),
        _n=Window(Count("pk"), partition_by=partition),
    )
    result: dict[Any, list[float | None]] = {}
    for i, p in enumerate(ps):
        # percentile_cont's position, 0-based: p × (n − 1); the rows ranked floor+1 and floor+2.
        low = Floor((F("_n") - 1) * Value(p, output_field=FloatField())) + 1
        rows = (
            ranked.annotate(_low=low)
            .filter(_rank__gte=F("_low"), _rank__lte=F("_low") + 1)
            .values_list(group or "pk", "_rank", "_n", column)
        )
        found: dict[Any, dict[int, float]] = {}
        counts: dict[Any, int] = {}
        for key, rank, n, value in rows:
            key = key if group else None
            found.setdefault(key, {})[rank] = value
            counts[key] = n
        for key, values in found.items():
            position = p * (counts[key] - 1)
            first = math.floor(position) + 1
            low_value = values[first]
            high_value = values.get(first + 1, low_value)
            result.setdefault(key, [None] * len(ps))[i] = low_value + (position - first + 1) * (
                high_value - low_value
            )
    if group is None:
        result.setdefault(None, [None] * len(ps))
    return result


# --- 1. now ------------------------------------------------------------------------------------
def open_now(scope: Scope, now: datetime | None = None) -> dict:
    """Open tickets (whatever the dates) by status, category, region and assignee."""
    now = now or timezone.now()
    q = scope.tickets().filter(status__in=OPEN_STATUSES)
    totals = q.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(staff_due_at__lt=now)),
        waiting_requester=Count("pk", filter=Q(status=Status.ANSWERED)),
        **{f"status_{s}": Count("pk", filter=Q(status=s)) for s in OPEN_STATUSES},
    )
    by_status = [(Status(s).label, totals.pop(f"status_{s}")) for s in OPEN_STATUSES]
    by_category = [
        (r["category__name"], r["n"])
        for r in q.values("category__name").annotate(n=Count("pk")).order_by("-n", "category__name")
    ]
    by_region = [
        (r["region__name"], r["n"])
        for r in q.values("region__name", "region__position")
        .annotate(n=Count("pk"))
        .order_by("-n", "region__position")
    ]
    people = q.values(
        "assignee", "assignee__first_name", "assignee__last_name", "assignee__username"
    ).annotate(n=Count("pk"))
    by_assignee = sorted(
        ((_person(r, "assignee"), r["n"]) for r in people), key=lambda row: (-row[1], row[0])
    )
    return {**totals, "by_status": by_status, "by_category": by_category,
            "by_region": by_region, "by_assignee": by_assignee}  # fmt: skip


def _person(row: dict, prefix: str) -> str:
    if row[prefix] is None:
        return gettext("Sin asignar")
    full = f"{row[prefix + '__first_name']} {row[prefix + '__last_name']}".strip()
    return full or row[prefix + "__username"]


# --- 2. service level ----------------------------------------------------------------------------
def share(within: int, answered: int) -> float | None:
    return round(100 * within / answered, 1) if answered else None


def service_level(scope: Scope) -> dict:
    """First answers of the tickets created in the range; resolutions of those finished in it."""
    target = settings.STAFF_RESPONSE_HOURS
    created = scope.created()
    within = Q(first_answer_business_hours__lte=target)
    totals = created.aggregate(
        created=Count("pk"),
        answered=Count("first_answer_business_hours"),
        within=Count("pk", filter=within),
        unanswered_open=Count(
            "pk", filter=Q(first_public_answer_at__isnull=True, status__in=OPEN_STATUSES)
        ),
    )
    (first_p50, first_p90) = percentiles(created, "first_answer_business_hours")[None]
    answered = created.filter(first_answer_business_hours__isnull=False)
    counts = {"answered": Count("pk"), "within": Count("pk", filter=within)}
    by_month = [
        (r["month"], r["answered"], r["within"], share(r["within"], r["answered"]))
        for r in answered.annotate(month=TruncMonth("created_at", tzinfo=TIME_ZONE))
        .values("month")
        .annotate(**counts)
        .order_by("month")
    ]
    by_region = [
        (r["region__name"], r["answered"], r["within"], share(r["within"], r["answered"]))
        for r in answered.values("region__name", "region__position")
        .annotate(**counts)
        .order_by("region__position")
    ]
    finished = scope.tickets().filter(
        closed_at__gte=scope.since,
        closed_at__lt=scope.until,
        resolution_business_hours__isnull=False,
    )
    (resolution_p50, resolution_p90) = percentiles(finished, "resolution_business_hours")[None]
    return {
        **totals,
        "target": target,
        "share": share(totals["within"], totals["answered"]),
        "first_p50": first_p50,
        "first_p90": first_p90,
        "finished": finished.count(),
        "resolution_p50": resolution_p50,
        "resolution_p90": resolution_p90,
        # Months as local dates: TruncMonth hands back local midnights.
        "by_month": [(timezone.localtime(m, TIME_ZONE).date(), *rest) for m, *rest in by_month],
        "by_region": by_region,
    }


# --- 3. outcomes -----------------------------------------------------------------------------------
def outcomes(scope: Scope) -> dict:
    """Status changes in the range, read from the history (stored with Spanish labels)."""
    with translation.override(settings.LANGUAGE_CODE):
        resolved, closed = str(Status.RESOLVED.label), str(Status.CLOSED.label)
    q = TicketEvent.objects.filter(
        scope.ticket_q("ticket__"),
        field__in=["status", "merge"],
        created_at__gte=scope.since,
        created_at__lt=scope.until,
    )
    status = Q(field="status")
    figures = q.aggregate(
        resolved_by_staff=Count("pk", filter=status & Q(new_value=resolved, actor_kind="agent")),
        closed_by_staff=Count("pk", filter=status & Q(new_value=closed, actor_kind="agent")),
        resolved_by_requester=Count(
            "pk", filter=status & Q(new_value=resolved, actor_kind="requester")
        ),
        resolved_automatically=Count(
            "pk", filter=status & Q(new_value=resolved, actor_kind="system")
        ),
        closed_automatically=Count("pk", filter=status & Q(new_value=closed, actor_kind="system")),
        reopened_by_requester=Count(
            "pk", filter=status & Q(actor_kind="requester", old_value__in=[resolved, closed])
        ),
        # Ticket.merge_into records "merge" on the main ticket, once per duplicate.
        merged=Count("pk", filter=Q(field="merge")),
    )
    rated = Rating.objects.filter(
        scope.ticket_q("ticket__"), created_at__gte=scope.since, created_at__lt=scope.until
    )
    figures["satisfaction"] = ratings.summary(rated)
    return figures


# --- 4. trends ------------------------------------------------------------------------------------
def trends(scope: Scope) -> dict:
    """New and finished tickets per week (Monday first) for the 12 weeks that end with ``end``."""
    last_monday = scope.end - timedelta(days=scope.end.weekday())
    weeks = [last_monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    since, until = local_midnight(weeks[0]), scope.until
    base = scope.tickets()

    def per_week(column):
        rows = (
            base.filter(**{f"{column}__gte": since, f"{column}__lt": until})
            .annotate(week=TruncWeek(column, tzinfo=TIME_ZONE))
            .values("week")
            .annotate(n=Count("pk"))
        )
        return {timezone.localtime(r["week"], TIME_ZONE).date(): r["n"] for r in rows}

    new, finished = per_week("created_at"), per_week("closed_at")
    return {
        "weeks": [(w, new.get(w, 0), finished.get(w, 0)) for w in weeks],
        "growth_category": growth(scope, "category"),
        "growth_region": growth(scope, "region"),
    }


def growth(scope: Scope, dimension: str) -> list[tuple[str, int, int, int, float | None]]:
    """(name, previous period, this period, difference, % change), the largest rises first."""
    previous = scope.previous()
    name = f"{dimension}__name"
    rows = (
        scope.tickets()
        .filter(created_at__gte=previous.since, created_at__lt=scope.until)
        .values(name)
        .annotate(
            current=Count("pk", filter=Q(created_at__gte=scope.since)),
            before=Count("pk", filter=Q(created_at__lt=scope.since)),
        )
        .annotate(rise=F("current") - F("before"))
        .filter(rise__gt=0)
        .order_by("-rise", name)[:GROWTH_ROWS]
    )
    return [
        (
            r[name],
            r["before"],
            r["current"],
            r["rise"],
            round(100 * r["rise"] / r["before"], 1) if r["before"] else None,
        )
        for r in rows
    ]


# --- 5. workload ------------------------------------------------------------------------------------
def workload(scope: Scope, *, person=None) -> list[tuple[str, int, float | None, int]]:
    """(agent, tickets answered in the range, median business hours of their first answers,
    open tickets assigned now) per agent; only ``person`` (or the scope's agent) if given."""
    person = person or scope.agent
    dims = scope.ticket_q(with_agent=False)
    replies = Reply.objects.filter(
        scope.ticket_q("ticket__", with_agent=False),
        kind=Reply.Kind.AGENT,
        is_internal=False,
        author__isnull=False,
        created_at__gte=scope.since,
        created_at__lt=scope.until,
    )
    firsts = scope.created(with_agent=False).filter(first_answer_by__isnull=False)
    assigned = Ticket.objects.filter(dims, status__in=OPEN_STATUSES, assignee__isnull=False)
    if person is not None:
        replies = replies.filter(author=person)
        firsts = firsts.filter(first_answer_by=person)
        assigned = assigned.filter(assignee=person)
    answered = {
        r["author"]: r["n"]
        for r in replies.values("author").annotate(n=Count("ticket", distinct=True)).order_by()
    }
    medians = percentiles(firsts, "first_answer_business_hours", (0.5,), group="first_answer_by")
    open_ = {
        r["assignee"]: r["n"]
        for r in assigned.values("assignee").annotate(n=Count("pk")).order_by()
    }
    ids = set(answered) | set(medians) | set(open_) | ({person.pk} if person else set())
    people = get_user_model().objects.filter(pk__in=ids).only("first_name", "last_name", "username")
    rows = [
        (user_label(u), answered.get(u.pk, 0), medians.get(u.pk, [None])[0], open_.get(u.pk, 0))
        for u in people
    ]
    return sorted(rows, key=lambda r: r[0].lower())


# --- the tables (shown on the page and exported: one copy of every number) --------------------------
@dataclass
class Table:
    key: str
    caption: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def supervisor_figures(scope: Scope, now: datetime | None = None) -> dict:
    return {
        "now": open_now(scope, now),
        "service": service_level(scope),
        "outcomes": outcomes(scope),
        "trends": trends(scope),
        "workload": workload(scope),
    }


def tables(figures: dict) -> dict[str, Table]:
    """Every table of the report, in Spanish (or the active language), numbers as numbers."""
    t: dict[str, Table] = {}
    now, service = figures.get("now"), figures.get("service")
    if now is not None:
        t["now"] = Table(
            "now",
            gettext("Tickets abiertos ahora"),
            [gettext("Indicador"), gettext("Tickets")],
            [
                [gettext("Abiertos"), now["open"]],
                [gettext("Vencidos (plazo de respuesta cumplido)"), now["overdue"]],
                [gettext("Esperando al solicitante (Respondido)"), now["waiting_requester"]],
            ],
        )
        for key, caption, header, rows in [
            ("by_status", gettext("Abiertos por estado"), gettext("Estado"), now["by_status"]),
            (
                "by_category",
                gettext("Abiertos por categoría"),
                gettext("Categoría"),
                now["by_category"],
            ),
            ("by_region", gettext("Abiertos por región"), gettext("Región"), now["by_region"]),
            (
                "by_assignee",
                gettext("Abiertos por asignado"),
                gettext("Asignado a"),
                now["by_assignee"],
            ),
        ]:
            t[f"now_{key}"] = Table(
                f"now_{key}",
                caption,
                [header, gettext("Tickets")],
                [[str(a), b] for a, b in rows],
            )
    if service is not None:
        s = service
        t["service"] = Table(
            "service",
            gettext("Nivel de servicio"),
            [gettext("Indicador"), gettext("Valor")],
            [
                [gettext("Tickets creados en el período"), s["created"]],
                [gettext("Con primera respuesta pública"), s["answered"]],
                [
                    gettext("Respondidos dentro de %(h)d horas hábiles") % {"h": s["target"]},
                    s["within"],
                ],  # fmt: skip
                [gettext("% dentro del plazo"), s["share"]],
                [gettext("Abiertos aún sin respuesta"), s["unanswered_open"]],
                [gettext("Mediana de horas hábiles a la primera respuesta"), hours(s["first_p50"])],
                [
                    gettext("Percentil 90 de horas hábiles a la primera respuesta"),
                    hours(s["first_p90"]),
                ],  # fmt: skip
                [gettext("Tickets finalizados en el período"), s["finished"]],
                [gettext("Mediana de horas hábiles a la resolución"), hours(s["resolution_p50"])],
                [
                    gettext("Percentil 90 de horas hábiles a la resolución"),
                    hours(s["resolution_p90"]),
                ],  # fmt: skip
            ],
        )
        share_headers = [
            gettext("Respondidos"),
            gettext("Dentro del plazo"),
            gettext("% dentro del plazo"),
        ]
        t["service_month"] = Table(
            "service_month",
            gettext("Nivel de servicio por mes de creación"),
            [gettext("Mes"), *share_headers],
            [[m, a, w, p] for m, a, w, p in s["by_month"]],
        )
        t["service_region"] = Table(
            "service_region",
            gettext("Nivel de servicio por región"),
            [gettext("Región"), *share_headers],
            [[r, a, w, p] for r, a, w, p in s["by_region"]],
        )
    if figures.get("outcomes") is not None:
        o = figures["outcomes"]
        t["outcomes"] = Table(
            "outcomes",
            gettext("Resultados en el período"),
            [gettext("Resultado"), gettext("Tickets")],
            [
                [gettext("Resueltos por el equipo"), o["resolved_by_staff"]],
                [gettext("Cerrados por el equipo"), o["closed_by_staff"]],
                [gettext("Marcados como resueltos por el solicitante"), o["resolved_by_requester"]],
                [
                    gettext("Resueltos automáticamente (sin respuesta del solicitante)"),
                    o["resolved_automatically"],
                ],  # fmt: skip
                [
                    gettext("Cerrados automáticamente tras solicitar información"),
                    o["closed_automatically"],
                ],  # fmt: skip
                [gettext("Reabiertos por el solicitante"), o["reopened_by_requester"]],
                [gettext("Fusionados en otro ticket"), o["merged"]],
                [gettext("Calificaciones de satisfacción recibidas"), o["satisfaction"]["count"]],
                [
                    gettext("Satisfacción promedio (1 a 5)"),
                    o["satisfaction"]["average"]
                    if o["satisfaction"]["average"] is not None
                    else "—",
                ],  # fmt: skip
            ],
        )
    if figures.get("trends") is not None:
        tr = figures["trends"]
        t["weeks"] = Table(
            "weeks",
            gettext("Tickets nuevos y finalizados por semana (últimas %(n)d semanas)")
            % {"n": WEEKS},
            [gettext("Semana del lunes"), gettext("Nuevos"), gettext("Finalizados")],
            [list(w) for w in tr["weeks"]],
        )
        growth_headers = [
            gettext("Período anterior"),
            gettext("Período"),
            gettext("Aumento"),
            gettext("% de aumento"),
        ]
        t["growth_category"] = Table(
            "growth_category",
            gettext("Categorías que más crecen respecto del período anterior"),
            [gettext("Categoría"), *growth_headers],
            [list(r) for r in tr["growth_category"]],
        )
        t["growth_region"] = Table(
            "growth_region",
            gettext("Regiones que más crecen respecto del período anterior"),
            [gettext("Región"), *growth_headers],
            [list(r) for r in tr["growth_region"]],
        )
    if figures.get("workload") is not None:
        t["workload"] = Table(
            "workload",
            gettext("Carga de trabajo por agente"),
            [
                gettext("Agente"),
                gettext("Tickets respondidos"),
                gettext("Mediana de horas hábiles a la primera respuesta"),
                gettext("Abiertos asignados"),
            ],
            [[a, n, hours(m), o] for a, n, m, o in figures["workload"]],
        )
    return t


def table_sheets(report: Iterable[Table]):
    """(sheet name, header, rows) for tickets.spreadsheets.xlsx_file."""
    return [(table.caption, table.headers, table.rows) for table in report]
