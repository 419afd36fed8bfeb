"""Data-subject requests under Ley 21.719, for one e-mail address, and the access log.

Plain functions with keyword-only arguments, called by the admin (tickets/admin/personal_data.py)
and the public views. Every request a supervisor carries out leaves a DataRequest row.

An address matches case-insensitively: the public forms store addresses lower-cased,
but a request must never miss a ticket because of "Alicia@…". These are rare,
one-person operations, so the scan an ``iexact`` costs on PostgreSQL is acceptable.
"""

import io
import json
import zipfile

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from tickets.addresses import normalize_email
from tickets.clientip import client_ip
from tickets.models import (
    AccessLog,
    Attachment,
    DataRequest,
    InboundEmail,
    OutgoingEmail,
    Priority,
    Reply,
    Status,
    Ticket,
    user_label,
)
from tickets.models.personal_data import address_fingerprint
from tickets.spreadsheets import csv_bytes_from_dicts

Action = DataRequest.Action


def tickets_of(email: str):
    return Ticket.objects.filter(email__iexact=normalize_email(email))


# --- the access log ------------------------------------------------------------------
ADMIN_KINDS = {AccessLog.Kind.ADMIN_VIEW, AccessLog.Kind.ADMIN_DOWNLOAD}


def record_access(request, ticket, kind) -> None:
    """One row: this ticket (or its pk) was opened or one of its files downloaded, by whom, from where.

    Public pages record no user: they have no accounts, and reading request.user
    there would cost a session query on every public page view.
    """
    kind = AccessLog.Kind(kind)  # a typo in a caller fails loudly, not as a row of an unknown kind
    user = request.user if kind in ADMIN_KINDS and request.user.is_authenticated else None
    AccessLog.objects.create(
        ticket_id=getattr(ticket, "pk", ticket), kind=kind, user=user, ip_address=client_ip(request)
    )


# --- export (access and portability) ---------------------------------------------------
def _when(value):
    return timezone.localtime(value).isoformat() if value else ""


def collect(email: str) -> dict[str, list[dict]]:
    """Everything the portal holds about the address, as lists of flat rows (one per CSV file)."""
    address = normalize_email(email)
    tickets = list(tickets_of(address).select_related("category", "region").order_by("number"))
    ids = [t.pk for t in tickets]
    numbers = {t.pk: t.number for t in tickets}
    with translation.override("es"):
        data = {
            "tickets": [
                {
                    "numero": t.number,
                    "id_seguimiento": t.tracking_id,
                    "nombre": t.name,
                    "email": t.email,
                    "categoria": t.category.name,
                    "region": t.region.name,
                    "numero_proyecto": t.project_number,
                    "asunto": t.subject,
                    "mensaje": t.message,
                    "direccion_ip": t.ip_address or "",
                    "idioma": t.language,
                    "estado": str(Status(t.status).label),
                    "prioridad": str(Priority(t.priority).label),
                    "creado": _when(t.created_at),
                    "actualizado": _when(t.updated_at),
                    "cerrado": _when(t.closed_at),
                }
                for t in tickets
            ],
            # Internal notes too, marked: they may hold data about the person, and the
            # supervisor answering the request decides what to hand over.
            "respuestas": [
                {
                    "ticket": numbers[r.ticket_id],
                    "id": r.pk,
                    "fecha": _when(r.created_at),
                    "autor": str(Reply.Kind(r.kind).label),
                    "nombre_autor": r.author_name,
                    "mensaje": r.message,
                    "direccion_ip": r.ip_address or "",
                    "nota_interna": r.is_internal,
                    "solicita_informacion": r.requests_information,
                }
                for r in Reply.objects.filter(ticket_id__in=ids).order_by(
                    "ticket__number", "created_at", "pk"
                )
            ],
            "adjuntos": [
                {
                    "ticket": numbers[f.ticket_id],
                    "respuesta": f.reply_id or "",
                    "nombre": f.original_name,
                    "bytes": f.size,
                    "tipo": f.content_type,
                    "sha256": f.sha256,
                    "fecha": _when(f.created_at),
                }
                for f in Attachment.objects.filter(ticket_id__in=ids).order_by(
                    "ticket__number", "created_at", "pk"
                )
            ],
            # What was sent to the address, the forgotten-ID lists (no ticket) included;
            # not the notices about their tickets sent to staff, which are staff's mail.
            "notificaciones": [
                {
                    "fecha": _when(m.created_at),
                    "tipo": m.kind,
                    "destinatario": m.to,
                    "asunto": m.subject,
                    "estado": str(OutgoingEmail.State(m.state).label),
                    "enviado": _when(m.sent_at),
                    "ticket": m.ticket.number if m.ticket else "",
                    "texto": m.body_text,
                }
                for m in OutgoingEmail.objects.filter(to__iexact=address)
                .select_related("ticket")
                .order_by("created_at", "pk")
            ],
            # Who opened their tickets. The IP is kept for public views only: a staff
            # member's address is the staff member's data, not the requester's.
            "accesos": [
                {
                    "ticket": numbers[a.ticket_id],
                    "fecha": _when(a.created_at),
                    "tipo": str(AccessLog.Kind(a.kind).label),
                    "usuario": user_label(a.user),
                    "direccion_ip": (a.ip_address or "")
                    if a.kind in AccessLog.PUBLIC_KINDS
                    else "",
                }
                for a in AccessLog.objects.filter(ticket_id__in=ids)
                .select_related("user")
                .order_by("created_at", "pk")
            ],
        }
    return data


README = """Datos personales que la {site_name} tiene de {email}
Generado el {when}.

datos.json contiene todo; cada archivo .csv contiene una parte (UTF-8, separado por comas):
  tickets.csv         los tickets enviados desde esta dirección
  respuestas.csv      las respuestas de esos tickets (nota_interna = notas del personal)
  adjuntos.csv        la lista de archivos adjuntos (nombre, tamaño, SHA-256, fecha)
  notificaciones.csv  los correos enviados a esta dirección
  accesos.csv         quién abrió esos tickets o sus archivos, y cuándo
"""


def export_zip(email: str) -> bytes:
    """A ZIP with datos.json and one CSV per kind of data. One person's data fits in memory."""
    address = normalize_email(email)
    data = collect(address)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "LEAME.txt",
            README.format(site_name=settings.SITE_NAME, email=address, when=_when(timezone.now())),
        )
        z.writestr(
            "datos.json", json.dumps({"email": address, **data}, ensure_ascii=False, indent=2)
        )
        for name, rows in data.items():
            z.writestr(f"{name}.csv", csv_bytes_from_dicts(rows))
    return buf.getvalue()


def export(email: str, *, by, reference: str = "") -> tuple[DataRequest, bytes]:
    address = normalize_email(email)
    data = export_zip(address)
    row = DataRequest.log(
        Action.EXPORT,
        address,
        by=by,
        reference=reference,
        ticket_count=tickets_of(address).count(),
        details=f"{len(data)} bytes",
    )
    return row, data


# --- rectification ------------------------------------------------------------------------
@transaction.atomic
def rectify(email: str, *, new_name=None, new_email=None, by, reference: str = "") -> DataRequest:
    """Correct the name and/or the address on every ticket of the address.

    The requester's replies carry the name they were written under, and "last
    reply by" too: both follow. The old values are not recorded anywhere (no
    history event): a rectified datum was wrong, and keeping it would defeat the
    request. Queued notices follow the new address; sent ones are a record of
    what was sent and stay as they were.
    """
    address = normalize_email(email)
    new_name = (new_name or "").strip()
    new_email = normalize_email(new_email)
    if not new_name and not new_email:
        raise ValueError("rectify needs a new name or a new e-mail")
    ids = list(tickets_of(address).values_list("pk", flat=True))
    done = []
    if new_name:
        Reply.objects.filter(ticket_id__in=ids, kind=Reply.Kind.REQUESTER).update(
            author_name=new_name
        )
        Ticket.objects.filter(pk__in=ids, last_replier=F("name")).update(last_replier=new_name)
        Ticket.objects.filter(pk__in=ids).update(name=new_name)
        done.append("nombre")
    if new_email:
        OutgoingEmail.objects.filter(to__iexact=address, state=OutgoingEmail.State.QUEUED).update(
            to=new_email
        )
        Ticket.objects.filter(pk__in=ids).update(email=new_email)
        done.append("e-mail")
    return DataRequest.log(
        Action.RECTIFY,
        address,
        by=by,
        new_name=new_name,
        new_email=new_email,
        reference=reference,
        ticket_count=len(ids),
        details="; ".join(done),
    )


# --- erasure --------------------------------------------------------------------------------
def erase(email: str, *, by, reference: str = "") -> DataRequest:
    """Anonymize every ticket of the address and delete what else names it.

    Each ticket goes through ``Ticket.anonymize`` (the same as the retention command),
    in its own transaction: it deletes attachment files, which no rollback brings
    back, so one failing ticket must not roll back rows whose files are gone. If
    something fails half-way the request can simply be run again: anonymized
    tickets no longer match the address, and the rest is idempotent.

    Beyond what ``anonymize`` covers: the requester's IP on the public access-log
    rows of those tickets, the e-mails sent to the address that belong to no
    ticket (forgotten-ID lists), and the address in earlier DataRequest rows.
    Kept for statistics: number, tracking ID, category, region, project number,
    status, priority, dates, history and the access log's who/when.
    """
    address = normalize_email(email)
    ids = list(tickets_of(address).order_by("pk").values_list("pk", flat=True))
    anonymized = files = 0
    for ticket in Ticket.objects.filter(pk__in=ids).only("pk", "number").order_by("pk"):
        deleted = ticket.anonymize()
        if deleted is not None:
            anonymized += 1
            files += deleted
    sha, domain = address_fingerprint(address)
    with transaction.atomic():
        AccessLog.objects.filter(ticket_id__in=ids, kind__in=AccessLog.PUBLIC_KINDS).update(
            ip_address=None
        )
        emails = OutgoingEmail.objects.filter(to__iexact=address).delete()[0]
        emails += InboundEmail.objects.filter(sender__iexact=address).delete()[0]
        # See DataRequest's docstring: the log keeps the hash and domain, not the address.
        DataRequest.objects.filter(Q(email_sha256=sha) | Q(new_email__iexact=address)).update(
            email="", new_name="", new_email=""
        )
        return DataRequest.log(
            Action.ERASE,
            address,
            keep_address=False,
            by=by,
            reference=reference,
            ticket_count=anonymized,
            details=f"{files} archivos eliminados; {emails} correos eliminados",
        )
