"""What the queue and the report export, and the access-log row every export leaves.

The files themselves are written by tickets/spreadsheets.py (formula neutralisation,
streaming); this module decides the columns, in Spanish, and turns stored values into
what a person reads: labels for status and priority, dates in America/Santiago.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext

from tickets.business_calendar import TIME_ZONE
from tickets.clientip import client_ip
from tickets.models import AccessLog, Priority, Status

# A server-side cursor hands the rows over in chunks: memory stays flat at any size.
CHUNK = 2000
DETAILS_MAX = AccessLog._meta.get_field("details").max_length


def local(value: datetime | None) -> datetime | None:
    """A stored instant as the wall-clock time in Santiago, naive (spreadsheets have no zones)."""
    if value is None:
        return None
    return timezone.localtime(value, TIME_ZONE).replace(tzinfo=None, microsecond=0)


def queue_header() -> list[str]:
    return [
        gettext("Número"),
        gettext("ID de seguimiento"),
        gettext("Creado"),
        gettext("Estado"),
        gettext("Prioridad"),
        gettext("Categoría"),
        gettext("Región"),
        gettext("Número de proyecto"),
        gettext("Asunto"),
        gettext("Nombre del solicitante"),
        gettext("E-mail del solicitante"),
        gettext("Asignado a"),
        gettext("Plazo de respuesta"),
        gettext("Primera respuesta"),
        gettext("Horas hábiles hasta la primera respuesta"),
        gettext("Actualizado"),
        gettext("Cerrado"),
    ]


QUEUE_FIELDS = (
    "number",
    "tracking_id",
    "created_at",
    "status",
    "priority",
    "category__name",
    "region__name",
    "project_number",
    "subject",
    "name",
    "email",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "staff_due_at",
    "first_public_answer_at",
    "first_answer_business_hours",
    "updated_at",
    "closed_at",
)


def queue_rows(queryset) -> Iterator[list[Any]]:
    """The queue's tickets in its order, one list per row, read in chunks."""
    statuses = {s.value: str(s.label) for s in Status}
    priorities = {p.value: str(p.label) for p in Priority}
    rows = queryset.values_list(*QUEUE_FIELDS).iterator(chunk_size=CHUNK)
    for (
        number,
        tracking_id,
        created,
        status,
        priority,
        category,
        region,
        project,
        subject,
        name,
        email,
        first_name,
        last_name,
        username,
        due,
        answered,
        answer_hours,
        updated,
        closed,
    ) in rows:
        yield [
            number,
            tracking_id,
            local(created),
            statuses.get(status, status),
            priorities.get(priority, priority),
            category,
            region,
            project,
            subject,
            name,
            email,
            f"{first_name} {last_name}".strip() or username or "",
            local(due),
            local(answered),
            None if answer_hours is None else round(answer_hours, 1),
            local(updated),
            local(closed),
        ]


def record_export(request, what: str, *, rows: int | None = None) -> AccessLog:
    """One access-log row: who exported what (the filters, the format) and how many rows."""
    # Stored text read by staff in the Spanish admin, like the ticket history.
    details = what if rows is None else f"{what} · {rows} filas"
    return AccessLog.objects.create(
        ticket=None,
        kind=AccessLog.Kind.EXPORT,
        user=request.user if request.user.is_authenticated else None,
        ip_address=client_ip(request),
        details=details[:DETAILS_MAX],
    )
