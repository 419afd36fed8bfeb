"""Load benchmark: the portal under gunicorn, at 100,000 tickets, against Django's own ceiling.

    .venv/bin/python benchmarks/load.py                      # needs wrk: apt-get install -y wrk
    .venv/bin/python benchmarks/load.py --duration 30 --scenarios home,ticket --profile ticket

What it does, start to end (about five minutes with the defaults):

1. builds PostgreSQL databases (dropped and created afresh): one of --tickets tickets
   (100,000, spread over statuses, categories, regions and three years, with replies,
   attachment rows, history and access-log rows, loaded with COPY, then VACUUM ANALYZE)
   and one of --small-tickets (1,000) used only to count queries. Each also holds a
   ticket with 20 replies and 5 real attachments (one of 5 MB) in a temporary
   MEDIA_ROOT, and an agent (group Agentes) whose session the queue scenarios use;
2. counts the SQL queries of each scenario's request in-process (django.test.Client
   and CaptureQueriesContext, the same request three times, the last one counted) in
   both databases: the count must not grow with the tickets. The same child measures
   each request's CPU time (figures the machine's load hardly moves) and, for the
   upload and the download, the Python heap peak of one request;
3. collects the static files into a temporary STATIC_ROOT and starts gunicorn exactly
   as the image does (gunicorn --config gunicorn.conf.py mesaayuda.wsgi, DEBUG=0,
   production settings), first with benchmarks/bare_settings.py (the same settings and
   middleware, one view returning "ok": the framework's ceiling on this machine; once
   more without worker recycling, for reference), then with the portal's own settings;
4. drives each scenario with wrk from a separate process on loopback, --concurrency
   connections (8) for --duration seconds (15) after --warmup seconds (2), as nginx
   would talk to gunicorn (keep-alive, X-Forwarded-Proto: https), and samples the
   workers' memory (/proc/<pid>/status, VmHWM and VmRSS) meanwhile;
5. prints one table (requests/s, share of the bare ceiling, p50/p95/p99 latency,
   errors, queries per request at both sizes, CPU ms per request, workers' peak-memory
   growth) and the targets of issue 9; --append-results adds it to benchmarks/RESULTS.md;
6. with --profile SCENARIO[,…], runs those scenarios again under py-spy
   (pip install '.[bench]') and prints where the workers spend their time; the raw
   stacks are left in benchmarks/out/ for speedscope or flamegraph.pl;
7. stops gunicorn, drops the databases and deletes the temporary directory, whatever
   happened (--keep leaves the databases).

Only for benchmarks: the captcha's test mode (CAPTCHA_TEST_MODE=1, answer "PASSED")
and rate limits raised so one client address can send thousands of requests. To
protect other data, only databases whose names start with "mesaayuda_bench_load"
are ever created or dropped. --env NAME=VALUE tries another setting (for example
EMAIL_SEND_ON_COMMIT=0 or GUNICORN_WORKERS=3) and says so in the report.
"""

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import common

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().with_suffix(".lua")
OUT = ROOT / "benchmarks" / "out"
SAFE_PREFIX = "mesaayuda_bench_load"
DEFAULT_URL = f"postgres://postgres@127.0.0.1:5432/{SAFE_PREFIX}"
HOST = "mesadeayuda.example.gob.cl"
MB = 1024 * 1024
BIG_FILE = 5 * MB
HEADERS = {"host": HOST, "x-forwarded-proto": "https"}  # what nginx sends on (in-process requests)


# --- the environment: production settings plus the two benchmark-only switches ------------------
def settings_env(database_url, tmp, media_root, *, settings_module="mesaayuda.settings"):
    """The whole environment of every Django process here, gunicorn included; nothing inherited."""
    return {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",  # as in the image
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-never-used-elsewhere-" + "k" * 40,
        "PUBLIC_SITE_URL": f"https://{HOST}",
        "ALLOWED_HOSTS": HOST,
        # nginx terminates TLS in front of gunicorn and says so (docs/deployment.md).
        "BEHIND_HTTPS_PROXY": "1",
        "DATABASE_URL": database_url,
        "EMAIL_URL": "dummymail://",  # the outbox is written and "sent", nothing leaves the machine
        # A production site must name it (gunicorn refuses to start without, tickets/checks.py).
        "HELPDESK_NOTIFY_EMAIL": "soporte@mesadeayuda.example.gob.cl",
        "MEDIA_ROOT": str(media_root),
        "STATIC_ROOT": str(Path(tmp) / "static"),
        "SNAPSHOT_DIR": str(Path(tmp) / "snapshots"),
        # Benchmark only: the captcha accepts "PASSED", one address may send thousands of
        # forms, and the agent's session (made without a phone) needs no second factor.
        # Everything else is the production default.
        "CAPTCHA_TEST_MODE": "1",
        "STAFF_REQUIRE_2FA": "0",
        **{
            f"RATELIMIT_{scope}": "100000000/h"
            for scope in [
                "SUBMIT",
                "REPLY",
                "FORGOTTEN_ID",
                "LOOKUP",
                "CONFIRMATION_EMAIL",
                "FORGOTTEN_ID_EMAIL",
                "LOOKUP_GLOBAL",
            ]
        },
    }


def database_name(url):
    name = urlsplit(url).path.lstrip("/")
    if not urlsplit(url).scheme.startswith("postgres") or not re.fullmatch(
        SAFE_PREFIX + r"[a-z0-9_]*", name
    ):
        sys.exit(
            f"refusing to use {name!r}: this benchmark only creates and drops PostgreSQL databases named {SAFE_PREFIX}…"
        )
    return name


def with_name(url, name):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def postgres_admin(url, sql):
    database_name(url)  # never without the check
    common.postgres_admin(url, sql)


def recreate_database(url):
    name = database_name(url)
    postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    postgres_admin(url, f'CREATE DATABASE "{name}"')


def drop_database(url):
    name = database_name(url)
    postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- building the data (child process: --build) ------------------------------------------------
FIRST = [
    "María",
    "José",
    "Juan",
    "Ana",
    "Luis",
    "Carolina",
    "Francisca",
    "Pedro",
    "Camila",
    "Jorge",
    "Valentina",
    "Diego",
    "Constanza",
    "Felipe",
    "Paula",
    "Rodrigo",
    "Javiera",
    "Cristián",
    "Daniela",
    "Ignacio",
]
LAST = [
    "González",
    "Muñoz",
    "Rojas",
    "Díaz",
    "Pérez",
    "Soto",
    "Contreras",
    "Silva",
    "Martínez",
    "Sepúlveda",
    "Morales",
    "Rodríguez",
    "López",
    "Fuentes",
    "Hernández",
    "Torres",
    "Araya",
    "Flores",
    "Espinoza",
    "Valenzuela",
]
DOMAINS = (
    ["desarrollosocial.gob.cl"] * 4
    + ["gmail.com"] * 2
    + ["municipalidad{}.cl", "fundacion{}.org", "ong{}.cl"]
)
SUBJECTS = [
    (
        "No puedo ingresar la rendición del proyecto en SIGEC",
        "Estimados, no puedo ingresar la rendición del proyecto en SIGEC.\nAl presionar «Enviar» aparece «Error "
        "inesperado» y el documento queda en borrador.\nAdjunto pantallazo. Quedo atento, saludos cordiales.",
    ),
    (
        "Solicito restablecer mi clave de acceso",
        "Buenos días, olvidé mi clave de SIGEC y el correo de recuperación no llega.\nNecesito ingresar hoy para "
        "cargar los antecedentes del convenio. Gracias.",
    ),
    (
        "Error al adjuntar documentos al convenio",
        "Hola, al adjuntar el acta de la resolución el sistema indica que el archivo no es válido, aunque es un PDF "
        "de 2 MB.\nProbé con Chrome y Firefox con el mismo resultado.\n\nSaludos,",
    ),
    (
        "Consulta por plazo de la convocatoria 2025",
        "Junto con saludar, quisiera saber si el plazo de postulación de la convocatoria se extiende para las "
        "comunas afectadas por los incendios.\nAtentamente,",
    ),
    (
        "Cambio de perfil de usuario",
        "Por traslado de funciones necesito que mi usuario pase del perfil Ejecutor al perfil Revisor en la SEREMI. "
        "Adjunto el memorándum que lo autoriza.\n\nSaludos cordiales." * 3,
    ),
]
AGENT_ANSWERS = [
    "Estimado/a, revisamos su caso: el documento quedó ingresado correctamente. Puede verificarlo en la sección "
    "Rendiciones del proyecto.\nSaludos cordiales, Mesa de Ayuda SIGEC.",
    "Hemos restablecido su clave. Recibirá un correo con las instrucciones para crear una nueva.",
    "Para continuar necesitamos el número de resolución del convenio y un pantallazo del error. Quedamos atentos.",
    "El plazo se mantiene según las bases. Cualquier modificación se informará en el sitio del Ministerio.",
]
REQUESTER_ANSWERS = [
    "Gracias, adjunto lo solicitado.",
    "Sigue apareciendo el mismo error, adjunto un nuevo pantallazo.",
    "Muchas gracias, ya pude ingresar.",
]
FILE_KINDS = [
    ("pantallazo.png", "image/png"),
    ("rendicion.pdf", "application/pdf"),
    ("planilla.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("oficio.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
]


def ascii_name(text):
    return text.translate(str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN")).lower()


def requester(k):
    first, last, last2 = FIRST[k % 20], LAST[(k // 20) % 20], LAST[(k // 400) % 20]
    domain = DOMAINS[k % len(DOMAINS)].format(k % 345)
    return f"{first} {last} {last2}", f"{ascii_name(first)}.{ascii_name(last)}{k}@{domain}"


def tracking_id(i):
    return common.tracking_id(i, offset=1_234_567_891)


def copy_rows(connection, model, rows):
    """COPY dicts of attname → value into the model's table; unnamed columns take the field's default.

    Rows without an "id" leave it to the database.
    """
    if not rows:
        return 0
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if f is not pk or pk.attname in rows[0]]
    defaults = {f.attname: f.get_default() for f in fields}
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row([row.get(f.attname, defaults[f.attname]) for f in fields])
            count += 1
    return count


def build(total, info_path):
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count
    from django.http import HttpRequest
    from django.middleware.csrf import get_token
    from django.test import Client
    from django.utils import timezone

    from tickets.models import (
        AccessLog,
        Attachment,
        Category,
        Priority,
        Region,
        Reply,
        Sequence,
        Status,
        Ticket,
        TicketEvent,
    )

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    rng = random.Random(9)
    now = timezone.now()
    categories = list(Category.objects.order_by("position"))
    regions = {r.code: r for r in Region.objects.all()}
    # Nivel Central and the Metropolitana file most tickets; the other regions roughly by size.
    region_weights = {
        "NC": 14,
        "RM": 26,
        "VS": 8,
        "BI": 8,
        "AR": 5,
        "ML": 5,
        "LL": 5,
        "CO": 4,
        "LI": 4,
        "AN": 4,
        "NB": 3,
        "LR": 2,
        "TA": 2,
        "AT": 2,
        "AP": 2,
        "AI": 1,
        "MA": 1,
    }
    region_ids, region_w = zip(
        *[(regions[c].pk, w) for c, w in region_weights.items() if c in regions], strict=False
    )
    category_ids = [c.pk for c in categories]
    category_w = [22, 12, 18, 12, 16, 8, 4, 8][: len(category_ids)] + [5] * max(
        0, len(category_ids) - 8
    )

    agents_group = Group.objects.get(name="Agentes")
    agents = []
    for k in range(12):
        u = User(
            username=f"agente{k + 1:02d}",
            first_name=FIRST[k],
            last_name=LAST[k],
            is_staff=True,
            email=f"agente{k + 1:02d}@desarrollosocial.gob.cl",
        )
        u.set_unusable_password()
        agents.append(u)
    bench = User(
        username="agente.carga",
        first_name="Agente",
        last_name="Carga",
        is_staff=True,
        email="agente.carga@desarrollosocial.gob.cl",
    )
    bench.set_unusable_password()
    User.objects.bulk_create([*agents, bench])
    agents = list(User.objects.filter(username__startswith="agente").order_by("pk"))
    for u in agents:
        u.groups.add(agents_group)
    bench = User.objects.get(username="agente.carga")
    agent_ids = [u.pk for u in agents if u.pk != bench.pk]
    agent_names = {u.pk: u.get_full_name() for u in agents}

    requesters = max(50, total // 4)
    span = timedelta(days=3 * 365)
    first_day = now - span
    mix_recent = [
        (Status.NEW, 45),
        (Status.WAITING_STAFF, 10),
        (Status.ANSWERED, 20),
        (Status.IN_PROGRESS, 20),
        (Status.ON_HOLD, 5),
    ]
    mix_month = [
        (Status.NEW, 5),
        (Status.WAITING_STAFF, 8),
        (Status.ANSWERED, 12),
        (Status.IN_PROGRESS, 10),
        (Status.ON_HOLD, 5),
        (Status.RESOLVED, 50),
        (Status.CLOSED, 10),
    ]
    mix_old = [
        (Status.ON_HOLD, 1),
        (Status.IN_PROGRESS, 0.5),
        (Status.RESOLVED, 82),
        (Status.CLOSED, 16.5),
    ]
    tickets, replies, files, events, accesses = [], [], [], [], []
    reply_id = file_id = 0
    for i in range(total):
        pk = i + 1
        created = first_day + span * (i / total) + timedelta(seconds=rng.randint(0, 60))
        age = now - created
        mix = (
            mix_recent
            if age < timedelta(days=3)
            else mix_month
            if age < timedelta(days=30)
            else mix_old
        )
        status = rng.choices([s for s, _ in mix], [w for _, w in mix])[0]
        # A few people write most tickets (a frequent SEREMI analyst files hundreds).
        name, email = requester(int(requesters * rng.random() ** 1.5))
        subject, message = SUBJECTS[i % len(SUBJECTS)]
        assignee = None if status == Status.NEW else rng.choice(agent_ids)
        # The conversation: agent and requester in turns, ending as the status says.
        if status == Status.NEW:
            turns = 0
        elif status == Status.WAITING_STAFF:
            turns = 2 * rng.randint(1, 2)
        elif status == Status.ANSWERED:
            turns = 2 * rng.randint(0, 1) + 1
        elif status in (Status.IN_PROGRESS, Status.ON_HOLD):
            turns = rng.randint(0, 2)
        else:
            turns = rng.randint(1, 4)
        when, last_replier, public = created, "", 0
        for turn in range(turns):
            when = min(when + timedelta(hours=rng.randint(1, 40)), now)
            reply_id += 1
            agent_turn = turn % 2 == 0
            author = assignee or rng.choice(agent_ids)
            replies.append(
                {
                    "id": reply_id,
                    "ticket_id": pk,
                    "kind": Reply.Kind.AGENT if agent_turn else Reply.Kind.REQUESTER,
                    "author_id": author if agent_turn else None,
                    "author_name": agent_names[author] if agent_turn else name,
                    "message": rng.choice(AGENT_ANSWERS if agent_turn else REQUESTER_ANSWERS),
                    "requests_information": agent_turn and rng.random() < 0.2,
                    "ip_address": None if agent_turn else f"10.21.4.{rng.randint(2, 250)}",
                    "created_at": when,
                }
            )
            public += 1
            last_replier = agent_names[author] if agent_turn else name
            if not agent_turn and rng.random() < 0.15:
                file_id += 1
                fname, ctype = rng.choice(FILE_KINDS)
                files.append(
                    {
                        "id": file_id,
                        "ticket_id": pk,
                        "reply_id": reply_id,
                        "original_name": fname,
                        "file": f"attachments/{when:%Y/%m}/{uuid.UUID(int=rng.getrandbits(128)).hex}.{fname.rsplit('.', 1)[1]}",
                        "size": rng.randint(20_000, 3 * MB),
                        "content_type": ctype,
                        "sha256": f"{rng.getrandbits(256):064x}",
                        "created_at": when,
                    }
                )
        if (
            assignee and rng.random() < 0.08
        ):  # an internal note, never counted or shown to the requester
            reply_id += 1
            replies.append(
                {
                    "id": reply_id,
                    "ticket_id": pk,
                    "kind": Reply.Kind.AGENT,
                    "author_id": assignee,
                    "author_name": agent_names[assignee],
                    "message": "Derivado a soporte de segundo nivel.",
                    "is_internal": True,
                    "created_at": when,
                }
            )
        for _ in range(rng.choices([0, 1, 2], [70, 20, 10])[0]):
            file_id += 1
            fname, ctype = rng.choice(FILE_KINDS)
            files.append(
                {
                    "id": file_id,
                    "ticket_id": pk,
                    "reply_id": None,
                    "original_name": fname,
                    "file": f"attachments/{created:%Y/%m}/{uuid.UUID(int=rng.getrandbits(128)).hex}.{fname.rsplit('.', 1)[1]}",
                    "size": rng.randint(20_000, 3 * MB),
                    "content_type": ctype,
                    "sha256": f"{rng.getrandbits(256):064x}",
                    "created_at": created,
                }
            )
        t = {
            "id": pk,
            "number": pk,
            "tracking_id": tracking_id(i),
            "name": name,
            "email": email,
            "category_id": rng.choices(category_ids, category_w)[0],
            "region_id": rng.choices(region_ids, region_w)[0],
            "project_number": rng.randint(10_000, 60_000),
            "subject": subject,
            "message": message,
            "ip_address": f"10.21.{rng.randint(0, 40)}.{rng.randint(2, 250)}",
            "language": "es",
            "status": status,
            "priority": rng.choices(list(Priority.values), [50, 35, 12, 3])[0],
            "assignee_id": assignee,
            "created_at": created,
            "updated_at": when,
            "reply_count": public,
            "last_replier": last_replier,
            "closed_at": None,
            "staff_due_at": None,
            "requester_due_at": None,
        }
        if status in (Status.NEW, Status.WAITING_STAFF, Status.IN_PROGRESS):
            t["staff_due_at"] = when + timedelta(days=2)
        elif status == Status.ANSWERED:
            t["requester_due_at"] = when + timedelta(days=2)
            t["awaiting_information"] = rng.random() < 0.25
        elif status in (Status.RESOLVED, Status.CLOSED):
            t["closed_at"] = t["updated_at"] = min(when + timedelta(days=rng.randint(1, 5)), now)
            t["closed_by_system"] = rng.random() < 0.3
        tickets.append(t)
        if status != Status.NEW:
            events.append(
                {
                    "ticket_id": pk,
                    "created_at": t["updated_at"],
                    "actor_id": assignee,
                    "field": "status",
                    "old_value": "Nuevo",
                    "new_value": str(Status(status).label),
                }
            )
        accesses.append(
            {
                "ticket_id": pk,
                "created_at": created + timedelta(hours=1),
                "kind": AccessLog.Kind.PUBLIC_VIEW,
                "ip_address": t["ip_address"],
            }
        )

    with transaction.atomic():
        counts = {
            model.__name__: copy_rows(connection, model, rows)
            for model, rows in [
                (Ticket, tickets),
                (Reply, replies),
                (Attachment, files),
                (TicketEvent, events),
                (AccessLog, accesses),
            ]
        }
        with connection.cursor() as cursor:
            for model in (Ticket, Reply, Attachment, TicketEvent, AccessLog):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
        Sequence.objects.filter(name="ticket").update(value=total)

    # The ticket of the ticket-page and download scenarios: 20 replies, 5 real files, one of 5 MB.
    heavy = Ticket(
        number=total + 1,
        tracking_id=tracking_id(total),
        name="Rosa Espinoza Fuentes",
        email="rosa.espinoza@desarrollosocial.gob.cl",
        category_id=category_ids[0],
        region_id=regions["BI"].pk,
        project_number=29928,
        subject=SUBJECTS[0][0],
        message=SUBJECTS[0][1] * 4,
        ip_address="10.21.4.7",
        status=Status.WAITING_STAFF,
        assignee_id=agent_ids[0],
        created_at=now - timedelta(days=6),
        updated_at=now - timedelta(hours=2),
        staff_due_at=now + timedelta(days=1),
    )
    heavy.save()
    Sequence.objects.filter(name="ticket").update(value=total + 1)
    heavy_replies = []
    for k in range(20):
        agent_turn = k % 2 == 0
        heavy_replies.append(
            Reply.objects.create(
                ticket=heavy,
                kind=Reply.Kind.AGENT if agent_turn else Reply.Kind.REQUESTER,
                author_id=agent_ids[0] if agent_turn else None,
                author_name=agent_names[agent_ids[0]] if agent_turn else heavy.name,
                message=(
                    AGENT_ANSWERS[k % 4]
                    if agent_turn
                    else REQUESTER_ANSWERS[k % 3] + "\n\n" + SUBJECTS[0][1]
                ),
                created_at=heavy.created_at + timedelta(hours=5 * (k + 1)),
            )
        )
    heavy.reply_count, heavy.last_replier = 20, heavy.name
    heavy.save(update_fields=["reply_count", "last_replier"])
    big = b"%PDF-1.7\n" + rng.randbytes(BIG_FILE - 9)
    real_files = [
        ("informe-rendicion.pdf", "application/pdf", big, None),
        ("pantallazo-error.png", "image/png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(180_000), None),
        (
            "planilla-gastos.xlsx",
            FILE_KINDS[2][1],
            b"PK\x03\x04" + rng.randbytes(45_000),
            heavy_replies[1],
        ),
        (
            "oficio-respuesta.docx",
            FILE_KINDS[3][1],
            b"PK\x03\x04" + rng.randbytes(30_000),
            heavy_replies[5],
        ),
        (
            "notas.txt",
            "text/plain",
            ("Número de resolución: 1234 del 2025.\n" * 40).encode(),
            heavy_replies[9],
        ),
    ]
    download = None
    for fname, ctype, data, reply in real_files:
        a = Attachment(
            ticket=heavy,
            reply=reply,
            original_name=fname,
            size=len(data),
            content_type=ctype,
            sha256="0" * 64,
            file=ContentFile(data, name=fname),
        )
        a.save()
        download = download or a
    built = time.perf_counter()

    with connection.cursor() as cursor:
        # Settled planner statistics and visibility map, as autovacuum keeps them in production.
        cursor.execute("VACUUM ANALYZE")
    analysed = time.perf_counter()

    # What the load tool needs: the agent's session, a CSRF cookie and its form token.
    client = Client()
    client.force_login(bench, backend="tickets.auth_backend.OneQueryModelBackend")
    request = HttpRequest()
    csrf_token = get_token(request)
    lookup_ids = [tracking_id(i) for i in rng.sample(range(total), min(total, 2000))]
    # The queue's search is for the most frequent requester: the longest list an address gives.
    search_email = (
        Ticket.objects.values("email").annotate(n=Count("id")).order_by("-n", "email")[0]["email"]
    )
    info = {
        "tickets": Ticket.objects.count(),
        "counts": {**counts, "Ticket": counts["Ticket"] + 1},
        "open_tickets": Ticket.objects.exclude(status__in=[Status.RESOLVED, Status.CLOSED]).count(),
        "ticket_path": heavy.get_absolute_url(),
        "download_path": download.get_absolute_url(),
        "download_size": download.size,
        "lookup_ids": lookup_ids,
        "search_email": search_email,
        "search_email_tickets": Ticket.objects.filter(email=search_email).count(),
        "resolved_tickets": Ticket.objects.filter(status=Status.RESOLVED).count(),
        "session": client.cookies["sessionid"].value,
        "csrf_cookie": request.META["CSRF_COOKIE"],
        "csrf_token": csrf_token,
        "category": category_ids[0],
        "region": regions["RM"].pk,
        "seconds": {
            "migrate": migrated - started,
            "load": built - migrated,
            "vacuum_analyze": analysed - built,
        },
    }
    Path(info_path).write_text(json.dumps(info))
    print(
        f"  {info['tickets']:,} tickets ({info['open_tickets']:,} open), {counts['Reply']:,} replies, "
        f"{counts['Attachment'] + 5:,} attachments, {counts['TicketEvent']:,} history rows, "
        f"{counts['AccessLog']:,} access-log rows: migrate {migrated - started:.1f} s, "
        f"load {built - migrated:.1f} s, VACUUM ANALYZE {analysed - built:.1f} s",
        flush=True,
    )


# --- the scenarios -------------------------------------------------------------------------
ADMIN_QUEUE = "/admin/tickets/ticket/"

SCENARIOS = [
    # name, label, group (for the targets)
    ("bare", "bare Django view (ceiling)", "bare"),
    ("bare_norecycle", "  the same, no worker recycling", "reference"),
    ("home", "home page", "public"),
    ("ticket", "ticket page (20 replies, 5 files)", "public"),
    ("lookup", "tracking-ID look-up (POST)", "public"),
    ("submit_form", "new-ticket form (GET)", "public"),
    ("submit", "new ticket (POST)", "public"),
    ("submit_files", "new ticket + 3 × 5 MB (POST)", "upload"),
    ("queue", "agent queue: default (open)", "agent"),
    ("queue_filter", "agent queue: ?estado=resolved", "agent"),
    ("queue_search", "agent queue: ?q=<e-mail>", "agent"),
    ("download", "attachment download, 5 MB", "download"),
]
NAMES = [s[0] for s in SCENARIOS]
LABELS = {s[0]: s[1] for s in SCENARIOS}
GROUPS = {s[0]: s[2] for s in SCENARIOS}
# gunicorn.conf.py recycles a worker after 2,000 requests (± 10 %): at the bare view's
# rate that is every few seconds per worker, and booting Django again costs CPU the
# requests then lack. The second bare run switches it off, to show how much.
BARE_RUNS = {"bare": {}, "bare_norecycle": {"GUNICORN_MAX_REQUESTS": "0"}}
# The order of the load runs: pages first, so that the upload's and the download's memory
# growth is measured against workers that have already served every kind of page.
ORDER = [
    "home",
    "ticket",
    "lookup",
    "submit_form",
    "queue",
    "queue_filter",
    "queue_search",
    "download",
    "submit",
    "submit_files",
]


def submit_fields(info):
    return {
        "name": "Solicitante de Carga",
        "email": "solicitante.carga@desarrollosocial.gob.cl",
        "category": str(info["category"]),
        "region": str(info["region"]),
        "project_number": "29928",
        "message": "Prueba de carga: no puedo ingresar la rendición del proyecto. " * 4,
        "captcha_0": "benchmark",
        "captcha_1": "PASSED",
    }


def queue_path(info, name):
    return {
        "queue": ADMIN_QUEUE,
        "queue_filter": ADMIN_QUEUE + "?estado=resolved",
        "queue_search": ADMIN_QUEUE + "?q=" + quote(info["search_email"], safe=""),
    }[name]


# --- counting queries in-process (child process: --count-queries) ----------------------------
def multipart_body(path, info, files, big_file):
    """The new-ticket form as the load tool sends it, written to a file: nothing held in memory."""
    boundary = "mesaayudaload" + secrets.token_hex(8)
    fields = {
        "csrfmiddlewaretoken": info["csrf_token"],
        **submit_fields(info),
        "submission_token": str(uuid.uuid4()),
    }
    with open(path, "wb") as out:
        for k, v in fields.items():
            out.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            )
        for i in range(files):
            out.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="{i}-informe.pdf"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n".encode()
            )
            with open(big_file, "rb") as f:
                shutil.copyfileobj(f, out)
            out.write(b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
    return boundary


def count_queries(info_path, big_file, out_path, names):
    """Per scenario: the queries of one request, its CPU time, and (uploads, downloads) its Python heap peak.

    Each request is made as wrk makes it: a visitor without cookies (the agent with
    the session). The upload goes through Django's WSGI handler with gunicorn's own
    request-body reader over a file, as in a worker, so that the heap peak measured
    is the request's and not the test client's copy of a 15 MB body.
    """
    import tracemalloc
    from contextlib import nullcontext

    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from gunicorn.http.body import Body, LengthReader
    from gunicorn.http.unreader import IterUnreader

    info = json.loads(Path(info_path).read_text())
    client = Client()  # one client and one handler: a new one would set up the middleware again
    handler = WSGIHandler()
    body_path = Path(out_path).with_suffix(".body")

    def upload():
        boundary = multipart_body(body_path, info, 3, big_file)
        size = body_path.stat().st_size
        with open(body_path, "rb") as f:
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/ticket/nuevo/",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_HOST": HOST,
                "HTTP_X_FORWARDED_PROTO": "https",
                "HTTP_ORIGIN": f"https://{HOST}",
                "HTTP_COOKIE": f"csrftoken={info['csrf_cookie']}",
                "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
                "CONTENT_LENGTH": str(size),
                "wsgi.input": Body(
                    LengthReader(IterUnreader(iter(lambda: f.read(8192), b"")), size)
                ),
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
                "wsgi.version": (1, 0),
                "wsgi.multithread": True,
                "wsgi.multiprocess": True,
                "wsgi.run_once": False,
            }
            status = []
            response = handler(
                environ, lambda s, headers, exc_info=None: status.append(int(s.split()[0]))
            )
            for _chunk in response:
                pass
            response.close()  # as gunicorn does: closes (and so deletes) the uploaded temporary files
        response.status_code = status[0]
        return response

    def one(name):
        client.cookies.clear()
        if name in BARE_RUNS or name == "home":
            return client.get("/", headers=HEADERS)
        if name == "submit_form":
            return client.get("/ticket/nuevo/", headers=HEADERS)
        if name == "ticket":
            return client.get(info["ticket_path"], headers=HEADERS)
        if name == "download":
            response = client.get(info["download_path"], headers=HEADERS)
            for (
                _chunk
            ) in response.streaming_content:  # read it all, as a client does, keeping nothing
                pass
            response.close()
            return response
        if name == "lookup":
            return client.post(
                "/ticket/ver/", {"tracking_id": random.choice(info["lookup_ids"])}, headers=HEADERS
            )
        if name == "submit":
            return client.post(
                "/ticket/nuevo/",
                {**submit_fields(info), "submission_token": str(uuid.uuid4())},
                headers=HEADERS,
            )
        if name == "submit_files":
            return upload()
        client.cookies["sessionid"] = info["session"]
        return client.get(queue_path(info, name), headers=HEADERS)

    result = {}
    for name in names:
        bare = (
            override_settings(ROOT_URLCONF="benchmarks.bare_urls")
            if name in BARE_RUNS
            else nullcontext()
        )
        with bare:
            counts = []
            for _ in range(3):
                with CaptureQueriesContext(connection) as ctx:
                    response = one(name)
                counts.append(len(ctx.captured_queries))
            runs = 5 if name == "submit_files" else 20
            cpu = time.process_time()
            for _ in range(runs):
                one(name)
            cpu = (time.process_time() - cpu) / runs * 1000
            heap = None
            if name in ("submit", "submit_files", "download"):
                tracemalloc.start()
                one(name)
                heap = tracemalloc.get_traced_memory()[1] / 1024
                tracemalloc.stop()
        result[name] = {
            "queries": counts[-1],
            "runs": counts,
            "status": response.status_code,
            "cpu_ms": round(cpu, 2),
            "heap_peak_kib": heap and round(heap),
            "sql": [q["sql"][:160] for q in ctx.captured_queries],
        }
    body_path.unlink(missing_ok=True)
    Path(out_path).write_text(json.dumps(result))


# --- gunicorn --------------------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except OSError:
        return []


def proc_status(pid):
    """VmRSS and VmHWM of a process, in KiB (None once it has gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.MULTILINE))
    return int(values.get("VmRSS", 0)), int(values.get("VmHWM", 0))


class Gunicorn:
    """The image's command, `gunicorn --config gunicorn.conf.py mesaayuda.wsgi`, in its own session."""

    def __init__(self, env, log_path):
        self.env, self.log_path, self.proc = env, log_path, None
        self.port = int(env["PORT"])

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the server's life, closed in stop())
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "mesaayuda.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        expected = self.expected_workers()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode}; see {self.log_path}"
                )
            if len(self.workers()) >= expected and self.healthy():
                time.sleep(1)  # the last worker's import settles
                return
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /healthz within 90 s; see {self.log_path}")

    def expected_workers(self):
        raw = self.env.get("GUNICORN_WORKERS")
        return int(raw) if raw else min(2 * len(os.sched_getaffinity(0)) + 1, 12)

    def healthy(self):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def workers(self):
        return children(self.proc.pid) if self.proc else []

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # graceful, as systemd and Docker stop it
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


class MemorySampler:
    """Every worker's VmHWM before and after a run, and its VmRSS every 50 ms in between."""

    def __init__(self, server):
        self.server = server

    def __enter__(self):
        self.before = {pid: s for pid in self.server.workers() if (s := proc_status(pid))}
        self.peak_rss = {pid: s[0] for pid, s in self.before.items()}
        self.seen = set(self.before)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stop_event.wait(0.05):
            for pid in self.server.workers():
                self.seen.add(pid)
                s = proc_status(pid)
                if s and pid in self.peak_rss:
                    self.peak_rss[pid] = max(self.peak_rss[pid], s[0])

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join()
        self.after = {pid: s for pid in self.server.workers() if (s := proc_status(pid))}

    def result(self, among=None):
        """Growth in MiB of the worker that grew most, among those alive from start to end (and in ``among``)."""
        both = [pid for pid in self.before if pid in self.after]
        if among is not None and any(pid in among for pid in both):
            both = [pid for pid in both if pid in among]
        hwm = max((self.after[p][1] - self.before[p][1] for p in both), default=0) / 1024
        rss = max((self.peak_rss[p] - self.before[p][0] for p in both), default=0) / 1024
        return {
            "hwm_growth_mib": round(hwm, 1),
            "rss_growth_mib": round(rss, 1),
            "worker_hwm_mib": round(max((self.after[p][1] for p in both), default=0) / 1024, 1),
            "workers_measured": len(both),
            "alive_throughout": both,
            "workers_recycled": len(self.seen - set(self.after)),
        }


# --- wrk ---------------------------------------------------------------------------------------
def wrk_config(name, info, tmp, big_file):
    """The BENCH_* variables of load.lua for one scenario."""
    tmp = Path(tmp)
    cfg = {"BENCH_HOST": HOST, "BENCH_EXPECT": "200", "BENCH_CHECK": "1", "BENCH_BODY": ""}
    csrf = f"csrftoken={info['csrf_cookie']}"
    if name in (*BARE_RUNS, "home"):
        path = "/"
    elif name == "submit_form":
        path = "/ticket/nuevo/"
    elif name == "ticket":
        path = info["ticket_path"]
    elif name == "download":
        path = info["download_path"]
        cfg["BENCH_CHECK"] = (
            "0"  # a 5 MB body per response is not for Lua; wrk counts >= 400 itself
        )
    elif name == "lookup":
        path = "/ticket/ver/"
        values = tmp / "lookup-ids.txt"
        values.write_text("\n".join(info["lookup_ids"]) + "\n")
        cfg.update(
            BENCH_BODY="form",
            BENCH_EXPECT="302",
            BENCH_COOKIE=csrf,
            BENCH_VALUES=str(values),
            BENCH_FORM=f"csrfmiddlewaretoken={info['csrf_token']}",
            BENCH_VARY="tracking_id",
        )
    elif name in ("submit", "submit_files"):
        path = "/ticket/nuevo/"
        form = tmp / "submit-form.txt"
        fields = {"csrfmiddlewaretoken": info["csrf_token"], **submit_fields(info)}
        form.write_text("".join(f"{k}={v}\n" for k, v in fields.items()))
        cfg.update(
            BENCH_BODY="multipart", BENCH_EXPECT="302", BENCH_COOKIE=csrf, BENCH_FORM=str(form)
        )
        if name == "submit_files":
            cfg["BENCH_FILES"] = f"3:{big_file}:informe.pdf"
    else:
        path = queue_path(info, name)
        cfg["BENCH_COOKIE"] = f"sessionid={info['session']}; {csrf}"
    paths = tmp / f"paths-{name}.txt"
    paths.write_text(path + "\n")
    cfg["BENCH_PATHS"] = str(paths)
    return cfg


def run_wrk(port, cfg, duration, concurrency):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        **cfg,
        "BENCH_NONCE": secrets.token_hex(4),
    }
    cmd = [
        "wrk",
        "-t",
        str(min(2, concurrency)),
        "-c",
        str(concurrency),
        "-d",
        f"{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}/",
    ]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 120)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if r.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
    data = json.loads(line.split(" ", 1)[1])
    seconds = data["duration_us"] / 1e6
    errors = (
        data["connect"]
        + data["read"]
        + data["write"]
        + data["timeout"]
        + data["status"]
        + data["unexpected"]
    )
    return {
        "requests": data["requests"],
        "rps": data["requests"] / seconds if seconds else 0,
        "p50": data["p50_us"] / 1000,
        "p95": data["p95_us"] / 1000,
        "p99": data["p99_us"] / 1000,
        "errors": errors,
        "unexpected_status": data["unexpected_status"],
        "kb_per_response": data["bytes"] / max(1, data["requests"]) / 1024,
    }


def measure(server, name, cfg, args, among=None):
    with MemorySampler(server) as mem:
        if args.warmup:
            run_wrk(server.port, cfg, args.warmup, args.concurrency)
        result = run_wrk(server.port, cfg, args.duration, args.concurrency)
    result.update(mem.result(among))
    return result


# --- profiling -----------------------------------------------------------------------------------
BUCKETS = [  # leaf-most match wins: where the CPU time of a sample is spent
    ("PostgreSQL client (psycopg)", ("psycopg",)),
    (
        "multipart parsing / upload files",
        ("multipartparser", "uploadhandler", "django/core/files", "uploadedfile"),
    ),
    ("hashing / file type checks", ("hashlib", "tickets/uploads.py")),
    ("template rendering", ("django/template/", "templatetags")),
    ("forms and widgets", ("django/forms/",)),
    ("ORM (query building, model instances)", ("django/db/",)),
    ("URL resolving / reversing", ("django/urls/",)),
    (
        "translation, formats, dates",
        ("django/utils/translation", "django/utils/formats", "django/utils/dateformat", "zoneinfo"),
    ),
    ("admin (changelist, filters)", ("django/contrib/admin/",)),
    (
        "sessions, auth, messages",
        ("django/contrib/sessions", "django/contrib/auth", "django/contrib/messages", "axes/"),
    ),
    (
        "middleware and request/response",
        ("django/middleware", "django/http/", "django/core/handlers", "whitenoise"),
    ),
    ("gunicorn (HTTP, sockets, access log)", ("gunicorn/",)),
    ("logging", ("logging/",)),
    ("other Django", ("django/",)),
    ("the portal's code", ("/tickets/", "/mesaayuda/")),
]


def summarize_profile(raw_path, top=12):
    samples, buckets, inclusive, own = 0, Counter(), Counter(), Counter()
    for line in Path(raw_path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if "(" in f]
        samples += n
        bucket = "other (interpreter, stdlib)"
        for frame in reversed(frames):
            hit = next((b for b, keys in BUCKETS if any(k in frame for k in keys)), None)
            if hit:
                bucket = hit
                break
        buckets[bucket] += n
        seen = set()
        for frame in frames:
            key = re.sub(r":\d+\)$", ")", frame.strip())
            key = re.sub(r"\(/.*?/(site-packages|python3\.11|main)/", "(", key)
            if key not in seen and (
                "/tickets/" in frame
                or "django/" in frame
                or "gunicorn/" in frame
                or "psycopg" in frame
            ):
                inclusive[key] += n
                seen.add(key)
        if frames:
            own[
                re.sub(
                    r"\(/.*?/(site-packages|python3\.11|main)/",
                    "(",
                    re.sub(r":\d+\)$", ")", frames[-1].strip()),
                )
            ] += n
    lines = [
        f"  {samples:,} samples (non-idle worker threads)",
        "  where the time goes (by the innermost recognised frame):",
    ]
    for b, n in buckets.most_common():
        lines.append(f"    {100 * n / max(1, samples):5.1f} %  {b}")
    lines.append(
        "  heaviest functions, inclusive (the portal, Django, gunicorn, psycopg; those on > 90 % of"
    )
    lines.append(
        "  the stacks, the server loop and handler every request passes through, left out):"
    )
    shown = [(k, n) for k, n in inclusive.most_common() if n <= 0.9 * samples][: top + 4]
    for k, n in shown:
        lines.append(f"    {100 * n / max(1, samples):5.1f} %  {k}")
    lines.append("  heaviest functions, own time:")
    for k, n in own.most_common(top):
        lines.append(f"    {100 * n / max(1, samples):5.1f} %  {k}")
    return "\n".join(lines)


def profile(server, name, cfg, args):
    py_spy = shutil.which("py-spy", path=f"{BIN}:{os.environ.get('PATH', '')}")
    if not py_spy:
        return "  py-spy is not installed: pip install '.[bench]'"
    OUT.mkdir(exist_ok=True)
    raw = OUT / f"profile-{name}.txt"
    seconds = max(5, args.duration)
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(server.proc.pid),
            "--subprocesses",
            "--rate",
            "200",
            "--nonblocking",
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1)  # attached before the load starts
    result = run_wrk(server.port, cfg, seconds - 1, args.concurrency)
    _, err = spy.communicate(timeout=seconds + 60)
    if not raw.exists():
        return f"  py-spy failed: {err.strip()[-500:]}"
    return (
        f"  (under py-spy: {result['rps']:.0f} req/s, p95 {result['p95']:.1f} ms; raw stacks: {raw.relative_to(ROOT)})\n"
        + summarize_profile(raw)
    )


# --- the report -----------------------------------------------------------------------------------
def machine_load():
    load = os.getloadavg()
    ps = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"], capture_output=True, text=True
    ).stdout
    busy = [ln.split(None, 1) for ln in ps.splitlines()[:6]]
    busy = ", ".join(f"{c.strip()} {p}%" for p, c in busy if float(p) >= 5)
    return f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)" + (
        f"; busiest: {busy}" if busy else ""
    )


def table(results, queries, args):
    bare = results.get("bare", {}).get("rps")
    small = (
        f"@{args.small_tickets // 1000}k"
        if args.small_tickets >= 1000
        else f"@{args.small_tickets}"
    )
    big = f"@{args.tickets // 1000}k" if args.tickets >= 1000 else f"@{args.tickets}"
    head = [
        "scenario",
        "req/s",
        "% bare",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        f"SQL {small}",
        f"SQL {big}",
        "CPU ms",
        "worker peak +MiB",
        "KiB/resp",
    ]
    rows = []
    for name in NAMES:
        r = results.get(name)
        if not r:
            continue
        q_small = queries.get("small", {}).get(name, {}).get("queries", "–")
        q_big = queries.get("big", {}).get(name, {}).get("queries", "–")
        cpu = queries.get("big", {}).get(name, {}).get("cpu_ms")
        share = (
            f"{100 * r['rps'] / bare:.0f} %"
            if bare and name != "bare"
            else ("100 %" if name == "bare" else "–")
        )
        rows.append(
            [
                LABELS[name],
                f"{r['rps']:,.0f}",
                share,
                f"{r['p50']:.1f}",
                f"{r['p95']:.1f}",
                f"{r['p99']:.1f}",
                str(r["errors"])
                + (
                    f" ({r['unexpected_status']})" if r["errors"] and r["unexpected_status"] else ""
                ),
                str(q_small),
                str(q_big),
                f"{cpu:.1f}" if cpu is not None else "–",
                f"{r['hwm_growth_mib']:+.1f}",
                f"{r['kb_per_response']:,.1f}",
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]

    def fmt(cells):
        return (
            "| "
            + " | ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=False))
            )
            + " |"
        )  # noqa: E731

    return "\n".join(
        [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, rows)]
    )


def targets(results, queries, info):
    lines, r = [], results
    ok = lambda good: "met" if good else "MISSED"  # noqa: E731
    if "bare" in r and "ticket" in r:
        share = 100 * r["ticket"]["rps"] / r["bare"]["rps"]
        note = ""
        if "bare_norecycle" in r:
            note = f" ({100 * r['ticket']['rps'] / r['bare_norecycle']['rps']:.0f} % of the bare view without worker recycling)"
        lines.append(
            f"- ticket page at >= 40 % of the bare view: {share:.0f} %{note} — {ok(share >= 40)}"
        )
    public = [n for n in NAMES if GROUPS[n] == "public" and n in r]
    if public:
        each = ", ".join(f"{LABELS[n]} {r[n]['p95']:.0f}" for n in public)
        lines.append(
            f"- public pages p95 < 100 ms: {each} ms — {ok(all(r[n]['p95'] < 100 for n in public))}"
        )
    agent = [n for n in NAMES if GROUPS[n] == "agent" and n in r]
    if agent:
        each = ", ".join(
            f"{LABELS[n].removeprefix('agent queue: ')} {r[n]['p95']:.0f}" for n in agent
        )
        lines.append(
            f"- agent queue p95 < 300 ms at {info['tickets']:,} tickets: {each} ms — "
            f"{ok(all(r[n]['p95'] < 300 for n in agent))}"
        )
    heap = {n: q.get("heap_peak_kib") for n, q in queries.get("big", {}).items()}
    if "submit_files" in r:
        grow = r["submit_files"]["hwm_growth_mib"]
        note = ""
        if heap.get("submit_files") is not None and heap.get("submit") is not None:
            note = (
                f"; Python heap peak of one request {heap['submit_files']:,} KiB with the 15 MB of files, "
                f"{heap['submit']:,} KiB without"
            )
        lines.append(
            f"- a worker's peak memory grows < 20 MiB with 3 × 5 MB uploads: {grow:+.1f} MiB over the "
            f"file-less submissions before it (VmHWM; VmRSS {r['submit_files']['rss_growth_mib']:+.1f} MiB){note} "
            f"— {ok(grow < 20)}"
        )
    if "download" in r:
        grow = r["download"]["hwm_growth_mib"]
        size_ok = r["download"]["kb_per_response"] * 1024 >= info["download_size"]
        peak = heap.get("download")
        streamed = size_ok and (peak < 1024 if peak is not None else grow < 5)
        note = (
            f"; Python heap peak of one download in-process {peak:,} KiB"
            if peak is not None
            else ""
        )
        lines.append(
            f"- 5 MB download streamed, not read into memory: worker peak {grow:+.1f} MiB with 8 downloads "
            f"at once (a copy each would be 5 MiB per download){note} — {ok(streamed)}"
        )
    if queries.get("small") and queries.get("big"):
        same = [
            n
            for n in queries["big"]
            if queries["small"].get(n, {}).get("queries") == queries["big"][n]["queries"]
        ]
        differ = [n for n in queries["big"] if n not in same]
        lines.append(
            "- queries per request independent of the number of tickets: "
            + (
                "equal at both sizes for every scenario — met"
                if not differ
                else f"differ for {', '.join(differ)} — MISSED"
            )
        )
    return "\n".join(lines)


def commit():
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or "unknown"
        )
    except OSError:
        return "unknown"


# --- main -----------------------------------------------------------------------------------------
QUIET = {"LOG_LEVEL": "CRITICAL", "PYTHONWARNINGS": "ignore::RuntimeWarning"}


def child(cmd, env, desc):
    # Quiet: one "ticket submitted" line per test submission, and django-simple-captcha's
    # (rightful) alarm at its test mode under DEBUG=0 in every process, say nothing here.
    # Failures still end the child with a traceback. gunicorn keeps the production logging.
    env = {**env, **QUIET}
    r = subprocess.run([sys.executable, __file__, *cmd], cwd=ROOT, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{desc} failed (exit {r.returncode})")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--small-tickets",
        type=int,
        default=1_000,
        help="the second database, for query counts only (0: skip)",
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds measured per scenario")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of the same load before each measurement"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--scenarios", default=",".join(NAMES), help=f"comma-separated, of: {','.join(NAMES)}"
    )
    parser.add_argument(
        "--profile", default="", help="scenarios to run again under py-spy, comma-separated"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help=f"PostgreSQL server and database name, which must start with {SAFE_PREFIX}",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra setting for gunicorn and Django, e.g. EMAIL_SEND_ON_COMMIT=0 (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the databases in place")
    parser.add_argument(
        "--append-results", action="store_true", help="add this run to benchmarks/RESULTS.md"
    )
    parser.add_argument(
        "--build", help=argparse.SUPPRESS
    )  # child: build the database, write info to this path
    parser.add_argument(
        "--count-queries", nargs=3, help=argparse.SUPPRESS
    )  # child: info, big file, output
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    if args.build:
        build(args.tickets, args.build)
        return
    if args.count_queries:
        count_queries(*args.count_queries, args.scenarios.split(","))
        return

    chosen = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = set(chosen) - set(NAMES)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    profiled = [n.strip() for n in args.profile.split(",") if n.strip()]
    if set(profiled) - set(NAMES):
        parser.error(
            f"unknown scenarios to profile: {', '.join(sorted(set(profiled) - set(NAMES)))}"
        )
    extra_env = dict(e.split("=", 1) for e in args.env if "=" in e)
    if len(extra_env) != len(args.env):
        parser.error("--env takes NAME=VALUE")
    big_url = args.database_url
    database_name(big_url)
    small_url = (
        with_name(big_url, database_name(big_url) + "_small") if args.small_tickets else None
    )
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk (Debian's package)")
    # A SIGTERM (a closed terminal, a CI timeout) cleans up like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print(
        'benchmark-only settings: CAPTCHA_TEST_MODE=1 (the captcha accepts "PASSED"), rate limits raised, '
        "STAFF_REQUIRE_2FA=0 (the agent's session has no phone); otherwise production (DEBUG=0, "
        "gunicorn.conf.py)",
        flush=True,
    )
    started = datetime.now().astimezone()
    load_before = machine_load()
    tmp = Path(tempfile.mkdtemp(prefix="mesaayuda-load-"))
    servers, created = [], []
    results, queries, profiles = {}, {}, {}
    try:
        big_file = tmp / "informe.pdf"
        big_file.write_bytes(b"%PDF-1.7\n" + random.Random(1).randbytes(BIG_FILE - 9))
        env = {**settings_env(big_url, tmp, tmp / "media"), **extra_env}
        print(
            f"collecting static files into {tmp / 'static'} (as docker/build-steps.sh does) …",
            flush=True,
        )
        static = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env={**env, **QUIET},
        )

        sizes = [("big", big_url, args.tickets, tmp / "media")]
        if small_url:
            sizes.append(("small", small_url, args.small_tickets, tmp / "media-small"))
        infos = {}
        for key, url, total, media in sizes:
            print(f"building {database_name(url)} with {total:,} tickets …", flush=True)
            created.append(url)
            recreate_database(url)
            started_build = time.perf_counter()
            info_path = tmp / f"info-{key}.json"
            child(
                ["--build", str(info_path), "--tickets", str(total)],
                {**settings_env(url, tmp, media), **extra_env},
                "building the data",
            )
            print(f"  built in {time.perf_counter() - started_build:.1f} s", flush=True)
            infos[key] = json.loads(info_path.read_text())
            if static.wait() != 0:  # the pages need the manifest of hashed names
                raise RuntimeError("collectstatic failed")
            out = tmp / f"queries-{key}.json"
            child(
                [
                    "--count-queries",
                    str(info_path),
                    str(big_file),
                    str(out),
                    "--scenarios",
                    ",".join(NAMES),
                ],
                {**settings_env(url, tmp, media), **extra_env},
                "counting queries",
            )
            queries[key] = json.loads(out.read_text())
            bad = {n: q["status"] for n, q in queries[key].items() if q["status"] not in (200, 302)}
            if bad:
                raise RuntimeError(f"in-process requests failed: {bad}")
            if key == "small" and not args.keep:
                drop_database(url)
                shutil.rmtree(media, ignore_errors=True)
        info = infos["big"]

        port = free_port()
        run_env = {**env, "PORT": str(port), "GUNICORN_BIND": f"127.0.0.1:{port}"}
        for name, extra in BARE_RUNS.items():
            if name not in chosen:
                continue
            print(
                f'gunicorn with benchmarks/bare_settings.py (one view returning "ok") {extra or ""} …',
                flush=True,
            )
            bare = Gunicorn(
                {**run_env, "DJANGO_SETTINGS_MODULE": "benchmarks.bare_settings", **extra},
                tmp / f"gunicorn-{name}.log",
            )
            servers.append(bare)
            bare.start()
            results[name] = measure(bare, name, wrk_config(name, info, tmp, big_file), args)
            print(
                f"  {LABELS[name].strip()}: {results[name]['rps']:,.0f} req/s, p95 {results[name]['p95']:.1f} ms",
                flush=True,
            )
            bare.stop()

        print(
            f"gunicorn with the portal (workers: {Gunicorn(run_env, None).expected_workers()}, threads: "
            f"{run_env.get('GUNICORN_THREADS', 4)}), {args.concurrency} connections, {args.duration} s per scenario …",
            flush=True,
        )
        portal = Gunicorn(run_env, tmp / "gunicorn.log")
        servers.append(portal)
        portal.start()
        # Every worker thread opens its own database connection on first use: load all
        # of them once, so that the memory growth measured below is the scenarios' own.
        run_wrk(
            port,
            wrk_config("ticket", info, tmp, big_file),
            3,
            8 * Gunicorn(run_env, None).expected_workers(),
        )
        for name in [n for n in ORDER if n in chosen]:
            # The uploads' growth is measured on workers that served the file-less submissions
            # just before (same code path, same threads), so that it is the files' own.
            among = (
                results["submit"]["alive_throughout"]
                if name == "submit_files" and "submit" in results
                else None
            )
            results[name] = measure(
                portal, name, wrk_config(name, info, tmp, big_file), args, among
            )
            r = results[name]
            print(
                f"  {LABELS[name]}: {r['rps']:,.0f} req/s, p50 {r['p50']:.1f} / p95 {r['p95']:.1f} / p99 {r['p99']:.1f} ms, "
                f"{r['errors']} errors, worker peak {r['hwm_growth_mib']:+.1f} MiB",
                flush=True,
            )
        for name in profiled:
            if name == "bare":
                continue
            print(f"profiling {LABELS[name]} with py-spy …", flush=True)
            profiles[name] = profile(portal, name, wrk_config(name, info, tmp, big_file), args)
        portal.stop()
        log_text = (tmp / "gunicorn.log").read_text(errors="replace")
        server_errors = len(re.findall(r'" 5\d\d ', log_text)) + log_text.count("Traceback")
        load_after = machine_load()

        report = [
            f"## {started:%Y-%m-%d %H:%M %Z} · commit {commit()}",
            "",
            "```",
            "$ " + " ".join(["benchmarks/load.py", *sys.argv[1:]]),
            "```",
            "",
            f"{info['tickets']:,} tickets ({info['open_tickets']:,} open, {info['resolved_tickets']:,} resolved; "
            f"{info['counts']['Reply']:,} replies, {info['counts']['Attachment']:,} attachment rows); "
            f"the search address has {info['search_email_tickets']} tickets. PostgreSQL "
            f"{infos['big']['seconds']['load']:.1f} s to load, {infos['big']['seconds']['vacuum_analyze']:.1f} s to VACUUM ANALYZE.",
            f"wrk, {args.concurrency} connections, {args.warmup} s warm-up + {args.duration} s per scenario; "
            f"gunicorn {run_env.get('GUNICORN_WORKERS') or Gunicorn(run_env, None).expected_workers()} workers × "
            f"{run_env.get('GUNICORN_THREADS', 4)} threads (gthread), {len(os.sched_getaffinity(0))} CPUs, "
            f"load tool and PostgreSQL on the same machine."
            + (f" Extra settings: {' '.join(args.env)}." if args.env else ""),
            f"Machine before: {load_before}. After: {load_after}.",
            "",
            table(results, queries, args),
            "",
            "SQL: queries of one request, in-process (django.test.Client, CaptureQueriesContext), at both sizes. "
            "CPU ms: the same request's CPU time in-process, one thread, no network or load tool (at the large size). "
            "Worker peak: the largest growth of a gunicorn worker's VmHWM over the scenario (warm-up included), "
            "among workers alive throughout (for the upload, among those that also served the file-less "
            "submissions); it matters for the upload and the download, elsewhere it mostly shows a worker "
            "recycled by max_requests serving its first requests.",
            "",
            "Targets:",
            targets(results, queries, info),
        ]
        if server_errors:
            report += [
                "",
                f"gunicorn's log holds {server_errors} server errors (5xx or tracebacks).",
            ]
        print("\n" + "\n".join(report))
        for name, text in profiles.items():
            print(f"\nprofile: {LABELS[name]}\n{text}")
        if args.append_results:
            path = ROOT / "benchmarks" / "RESULTS.md"
            with open(path, "a") as f:
                f.write("\n" + "\n".join(report) + "\n")
            print(f"\nappended to {path.relative_to(ROOT)}")
    finally:
        for s in servers:
            try:
                s.stop()
            except Exception as exc:  # keep cleaning up
                print(f"stopping gunicorn: {exc}", file=sys.stderr)
        if not args.keep:
            for url in created:
                try:
                    drop_database(url)
                except Exception as exc:
                    print(f"dropping {database_name(url)}: {exc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
