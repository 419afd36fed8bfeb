"""manage.py import_hesk against a real MariaDB holding a HESK database (tests/hesk_fixture.py).

Skipped, with the reason, only when no MariaDB answers (HESK_TEST_MARIADB, default
mysql://root@127.0.0.1:3306/; CI starts one with .ci/mariadb.sh).
"""

import hashlib
import io
import os
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests import hesk_fixture as hf
from tests.conftest import PDF, PNG
from tickets import tracking
from tickets.models import (
    Attachment,
    Category,
    OutgoingEmail,
    Priority,
    Reply,
    Status,
    Ticket,
)
from tickets.submission import submit_ticket

pymysql = pytest.importorskip("pymysql", reason="PyMySQL is not installed (pip install '.[hesk]')")

DB_PREFIX = os.environ.get("HESK_TEST_DB_PREFIX", "test_hesk")
TICKETS = 280
BASE = datetime(2015, 3, 2, 12, 0, tzinfo=UTC)
NAMES = ["María José Ñúñez", "Pedro O'Brien", 'Zoë "Admin" <root>', "Ana Pérez", "李雷"]
REGIONS = [
    ("Región de Valparaíso", "VS"),
    ("XIV Región de Los Ríos", "LR"),
    ("Metropolitana", "RM"),
    ("Ñuble", "NB"),
    ("Region del Bio-Bio", "BI"),
    ("Nivel Central", "NC"),
    ("Marte", "NC"),
]
MESSAGE = (
    "Hola, no puedo entrar a SIGEC.\n"
    'El sistema dice <b>"error"</b> & se cierra; `código` 5 > 3.\n'
    "\n"
    "Vea https://sigec.mideplan.cl/sigec/view-proyecto.htm?proyecto=29928&pestana=documentos\n"
    "Gracias, {name}"
)


def _trackid(rng: random.Random) -> str:
    raw = "".join(rng.choice(tracking.ALPHABET) for _ in range(10))
    return f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"


def build(conn, folder, generation: str, count: int = TICKETS) -> dict:
    """Fill a HESK database: every status and priority, both sides' replies, notes, files.

    Returns what each ticket should become, keyed by tracking ID, plus the HESK ids
    the tests look for.
    """
    rng = random.Random(16)
    hf.insert(
        conn,
        "hesk_categories",
        [
            {"id": 1, "name": "General", "cat_order": 10},
            {"id": 2, "name": "Claves SIGEC - Cambio de clave", "cat_order": 20},
            {"id": 3, "name": hf.escape("Soporte & Ayuda"), "cat_order": 30},
        ],
    )
    hf.insert(
        conn,
        "hesk_users",
        [
            {"id": 1, "user": "admin", "pass": "x", "isadmin": "1", "name": "Ronald Omondi",
             "email": "ana.agente@desarrollosocial.gob.cl"},
            {"id": 2, "user": "jperez", "pass": "$2y$10$secret", "isadmin": "0",
             "name": "José Pérez", "email": "jperez@desarrollosocial.gob.cl"},
            {"id": 3, "user": "mlopez", "pass": "$2y$10$secret", "isadmin": "0",
             "name": "Marta López", "email": "mlopez@desarrollosocial.gob.cl"},
        ],
    )  # fmt: skip
    hf.insert(
        conn,
        "hesk_custom_fields",
        [
            {"id": 1, "use": "1", "name": '{"Español":"Región","English":"Region"}'},
            {"id": 2, "use": "1", "name": '{"Español":"Número de proyecto"}'},
            {"id": 3, "use": "0", "name": ""},
        ],
    )
    hf.insert(
        conn, "hesk_custom_statuses", [{"id": 6, "name": '{"Español":"Escalado"}', "color": "f00"}]
    )
    staff_names = {1: "Ronald Omondi", 2: "José Pérez", 3: "Marta López"}
    tickets, replies, notes, attachments = [], [], [], []
    expected, ids = {}, {"missing_file": None, "note_file": None, "public_file": None}
    att_id = reply_id = note_id = 0

    def add_file(trackid, real_name, content, *, note=False, write=True):
        nonlocal att_id
        att_id += 1
        saved = f"{trackid}_{hashlib.md5(str(att_id).encode()).hexdigest()}.bin"
        if write:
            (folder / saved).write_bytes(content)
        attachments.append(
            {"att_id": att_id, "ticket_id": trackid, "saved_name": saved,
             "real_name": hf.escape(real_name), "size": len(content), "type": "1" if note else "0"}
        )  # fmt: skip
        return att_id

    for i in range(1, count + 1):
        trackid = _trackid(rng)
        name = NAMES[i % len(NAMES)]
        region_text, region_code = REGIONS[i % len(REGIONS)]
        created = BASE + timedelta(days=i)
        status = i % 7
        files = ""
        if i % 9 == 0:
            files = f"{add_file(trackid, f'informe {i}.pdf', PDF)}#{hf.escape(f'informe {i}.pdf')},"
            ids["public_file"] = ids["public_file"] or (trackid, att_id)
        if i == 11:
            files += f"{add_file(trackid, 'perdido.pdf', PDF, write=False)}#perdido.pdf,"
            ids["missing_file"] = (trackid, att_id)
        n_replies = i % 4
        last = created
        for k in range(n_replies):
            reply_id += 1
            staff = (k % 2) and ((i % 3) + 1)
            last = created + timedelta(hours=5 * (k + 1))
            reply_files = ""
            if k == 1 and i % 10 == 3:
                reply_files = f"{add_file(trackid, 'pantalla ñ.png', PNG)}#pantalla ñ.png,"
            replies.append(
                {"id": reply_id, "replyto": i, "name": hf.escape(staff_names[staff] if staff else name),
                 "message": hf.body(f"Respuesta {k} de {'staff' if staff else 'cliente'}:\n<ok> & \"listo\""),
                 "message_html": None, "dt": last.replace(tzinfo=None),
                 "attachments": reply_files, "staffid": staff or 0}
            )  # fmt: skip
        if i % 5 == 0:
            note_id += 1
            note_files = ""
            if i % 10 == 0:
                note_files = f"{add_file(trackid, 'interno.pdf', PDF, note=True)}#interno.pdf,"
                ids["note_file"] = ids["note_file"] or (trackid, att_id)
            notes.append(
                {"id": note_id, "ticket": i, "who": 2, "dt": (created + timedelta(hours=1)).replace(tzinfo=None),
                 "message": hf.body("Nota interna: llamar al <jefe>."), "attachments": note_files}
            )  # fmt: skip
        project = 1000 + i
        project_text = (
            f"https://sigec.mideplan.cl/sigec/view-proyecto.htm?proyecto={project}"
            if i % 6 == 0
            else ("" if i % 13 == 0 else str(project))
        )
        email = f"persona{i}@example.cl" + (f", copia{i}@example.cl" if i % 40 == 0 else "")
        closed = created + timedelta(days=2) if status == 3 and i % 2 == 0 else None
        lastchange = created + timedelta(days=2)
        tickets.append(
            hf.ticket_row(
                generation,
                id=i,
                trackid=trackid,
                name=hf.escape(name),
                email=email,
                category=(i % 3) + 1 if i != 17 else 99,
                priority=i % 4,
                subject=hf.escape(f'Problema {i} con "SIGEC" & <acceso>'),
                message=hf.body(MESSAGE.format(name=name)),
                message_html=None,
                dt=created.replace(tzinfo=None),
                lastchange=lastchange.replace(tzinfo=None),
                closedat=closed.replace(tzinfo=None) if closed else None,
                ip="10.1.2.3" if i % 8 else "Unknown",
                language="English" if i % 10 == 1 else ("Español" if i % 2 else None),
                status=status,
                owner=i % 4,
                replies=n_replies,
                lastreplier="1" if n_replies and (n_replies - 1) % 2 else "0",
                replierid=(i % 3) + 1 if n_replies and (n_replies - 1) % 2 else None,
                attachments=files,
                history=(
                    f'<li class="smaller">{created:%Y-%m-%d %H:%M:%S} | enviado por Cliente</li>'
                    f'<li class="smaller">{lastchange:%Y-%m-%d %H:%M:%S} | estado cambiado por '
                    f"{hf.escape('Ronald & Co')} (admin)</li>"
                ),
                custom1=hf.escape(region_text),
                custom2=hf.escape(project_text),
            )
        )
        expected[trackid] = {
            "number": i,
            "name": name,
            "email": f"persona{i}@example.cl",
            "region": region_code,
            "project": 0 if i % 13 == 0 and i % 6 else project,
            "status": i % 7,
            "priority": i % 4,
            "created": created,
            "closed": (closed or lastchange) if status == 3 else None,
            "last": last,
            "replies": n_replies,
            "notes": 1 if i % 5 == 0 else 0,
            "language": "en" if i % 10 == 1 else "es",
            "ip": "10.1.2.3" if i % 8 else None,
            "owner": i % 4,
            "category": i % 3 + 1 if i != 17 else None,
        }
    for table, rows in [
        ("hesk_tickets", tickets),
        ("hesk_replies", replies),
        ("hesk_notes", notes),
        ("hesk_attachments", attachments),
    ]:
        for start in range(0, len(rows), 200):
            hf.insert(conn, table, rows[start : start + 200])
    return {"tickets": expected, "ids": ids, "replies": len(replies), "notes": len(notes),
            "attachments": len(attachments)}  # fmt: skip


_counter = iter(range(1, 10_000))


@pytest.fixture(params=["3.4", "3.6"], scope="module")
def hesk(request, tmp_path_factory):
    try:
        hf.connect().close()
    except Exception as exc:  # any failure to reach a server means: no MariaDB here
        pytest.skip(f"No MariaDB at {hf.MARIADB_URL} ({exc}); start one with .ci/mariadb.sh")
    name = f"{DB_PREFIX}_{os.getpid()}_{next(_counter)}"
    folder = tmp_path_factory.mktemp("hesk-attachments")
    conn = hf.create_database(name, generation=request.param)
    data = build(conn, folder, request.param)
    conn.close()
    yield {"name": name, "url": hf.MARIADB_URL.rstrip("/") + "/" + name, "folder": folder,
           "generation": request.param, **data}  # fmt: skip
    hf.drop_database(name)


@pytest.fixture
def agent_ana(db):
    user = User.objects.create_user(
        "ana", "Ana.Agente@desarrollosocial.gob.cl", "x", first_name="Ana", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Agentes"))
    return user


def run(hesk, *extra) -> str:
    out = io.StringIO()
    call_command(
        "import_hesk", "--db", hesk["url"], "--attachments", str(hesk["folder"]), *extra,
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    return out.getvalue()


def sql(hesk, statement, params=()):
    conn = hf.connect(hesk["name"])
    with conn.cursor() as cur:
        cur.execute(statement, params)
    conn.close()


# --- what comes across ------------------------------------------------------------------
def test_it_imports_every_ticket_with_its_tracking_id_number_and_requester(hesk, agent_ana):
    run(hesk)
    assert Ticket.objects.count() == TICKETS
    for trackid, want in hesk["tickets"].items():
        t = Ticket.objects.get(tracking_id=trackid)
        assert (t.number, t.name, t.email) == (want["number"], want["name"], want["email"])
        assert t.created_at == want["created"]
        assert t.language == want["language"]
        assert t.ip_address == want["ip"]


def test_it_turns_escaped_html_back_into_what_the_requester_typed(hesk, db):
    run(hesk)
    trackid = next(iter(hesk["tickets"]))
    t = Ticket.objects.get(tracking_id=trackid)
    name = hesk["tickets"][trackid]["name"]
    assert t.message == MESSAGE.format(name=name)
    assert t.subject == f'Problema {t.number} con "SIGEC" & <acceso>'
    assert "&quot;" not in t.message and "<br" not in t.message and "<a " not in t.message


def test_it_maps_statuses_priorities_and_custom_statuses(hesk, db):
    run(hesk)
    statuses = {0: Status.NEW, 1: Status.WAITING_STAFF, 2: Status.ANSWERED, 3: Status.RESOLVED,
                4: Status.IN_PROGRESS, 5: Status.ON_HOLD, 6: Status.IN_PROGRESS}  # fmt: skip
    priorities = {0: Priority.CRITICAL, 1: Priority.HIGH, 2: Priority.MEDIUM, 3: Priority.LOW}
    for trackid, want in hesk["tickets"].items():
        t = Ticket.objects.get(tracking_id=trackid)
        assert t.status == statuses[want["status"]], trackid
        assert t.priority == priorities[want["priority"]]
        assert t.closed_at == want["closed"]


def test_a_custom_status_can_be_mapped_by_option(hesk, db):
    run(hesk, "--custom-status", "6=on_hold")
    custom = [k for k, v in hesk["tickets"].items() if v["status"] == 6]
    assert set(Ticket.objects.filter(tracking_id__in=custom).values_list("status", flat=True)) == {
        Status.ON_HOLD
    }


def test_it_matches_regions_tolerantly_and_reports_unknown_ones(hesk, db):
    out = run(hesk)
    for trackid, want in hesk["tickets"].items():
        t = Ticket.objects.select_related("region").get(tracking_id=trackid)
        assert t.region.code == want["region"], trackid
        assert t.project_number == want["project"]
    assert "región desconocida" in out and "Marte×" in out
    assert "Valparaíso×" not in out


def test_it_creates_categories_by_name_and_reuses_existing_ones(hesk, db):
    before = Category.objects.count()
    run(hesk)
    assert Category.objects.filter(name="Soporte & Ayuda").exists()
    assert Category.objects.filter(name="Claves SIGEC - Cambio de clave").count() == 1
    # General, Soporte & Ayuda, and the one for a ticket whose HESK category is gone.
    assert Category.objects.count() == before + 3
    orphan = next(k for k, v in hesk["tickets"].items() if v["category"] is None)
    assert Ticket.objects.get(tracking_id=orphan).category.name == "Sin categoría (HESK)"


def test_staff_come_as_inactive_agents_without_their_passwords(hesk, agent_ana):
    run(hesk)
    jose = User.objects.get(email="jperez@desarrollosocial.gob.cl")
    assert not jose.is_active and not jose.has_usable_password()
    assert jose.get_full_name() == "José Pérez"
    assert jose.groups.filter(name="Agentes").exists()
    # The agent who already has an account keeps it, active, and gets her tickets.
    agent_ana.refresh_from_db()
    assert agent_ana.is_active and User.objects.filter(email__iexact=agent_ana.email).count() == 1
    owned = [k for k, v in hesk["tickets"].items() if v["owner"] == 1]
    assert {t.assignee for t in Ticket.objects.filter(tracking_id__in=owned)} == {agent_ana}
    unowned = [k for k, v in hesk["tickets"].items() if v["owner"] == 0]
    assert not Ticket.objects.filter(tracking_id__in=unowned, assignee__isnull=False).exists()


def test_replies_and_notes_keep_their_side_date_and_privacy(hesk, db):
    run(hesk)
    assert Reply.objects.filter(is_internal=False).count() == hesk["replies"]
    assert Reply.objects.filter(is_internal=True).count() == hesk["notes"]
    trackid, want = next((k, v) for k, v in hesk["tickets"].items() if v["replies"] == 3)
    replies = list(Ticket.objects.get(tracking_id=trackid).replies.filter(is_internal=False))
    assert [r.kind for r in replies] == [
        Reply.Kind.REQUESTER,
        Reply.Kind.AGENT,
        Reply.Kind.REQUESTER,
    ]
    assert replies[0].author_name == want["name"]
    assert (
        replies[1].author is not None
        and replies[1].author_name == replies[1].author.get_full_name()
    )
    assert replies[2].created_at == want["last"]
    assert replies[0].message == 'Respuesta 0 de cliente:\n<ok> & "listo"'
    note = Reply.objects.filter(is_internal=True).first()
    assert note.message == "Nota interna: llamar al <jefe>." and note.author_name == "José Pérez"


def test_files_are_copied_under_our_names_with_checksums_and_a_missing_one_is_reported(hesk, db):
    out = run(hesk)
    # Every file but the missing one.
    assert Attachment.objects.count() == hesk["attachments"] - 1
    trackid, att = hesk["ids"]["public_file"]
    f = Attachment.objects.get(hesk_id=att)
    assert f.ticket.tracking_id == trackid and f.reply is None
    assert f.original_name.startswith("informe ") and f.content_type == "application/pdf"
    assert f.sha256 == hashlib.sha256(PDF).hexdigest() and f.size == len(PDF)
    assert trackid not in f.file.name and f.file.read() == PDF
    png = Attachment.objects.get(original_name="pantalla ñ.png", ticket__number=3)
    assert png.reply is not None and png.content_type == "image/png"
    note_file = Attachment.objects.get(hesk_id=hesk["ids"]["note_file"][1])
    assert note_file.reply.is_internal
    missing = hesk["ids"]["missing_file"][1]
    assert not Attachment.objects.filter(hesk_id=missing).exists()
    assert f"falta el archivo del adjunto [1]: {missing}" in out


def test_history_is_kept_as_read_only_text_for_staff(hesk, admin_client):
    run(hesk)
    t = Ticket.objects.get(number=1)
    assert t.hesk_history.splitlines() == [
        f"{BASE + timedelta(days=1):%Y-%m-%d %H:%M:%S} | enviado por Cliente",
        f"{BASE + timedelta(days=3):%Y-%m-%d %H:%M:%S} | estado cambiado por Ronald & Co (admin)",
    ]
    page = admin_client.get(reverse("admin:tickets_ticket_change", args=[t.pk]))
    assert "Historial importado de HESK" in page.content.decode()
    assert "estado cambiado por Ronald &amp; Co (admin)" in page.content.decode()
    ours = submit_ticket(
        name="Nuevo", email="n@example.cl", category=t.category, region=t.region,
        project_number=1, message="Hola",
    )  # fmt: skip
    page = admin_client.get(reverse("admin:tickets_ticket_change", args=[ours.pk]))
    assert "Historial importado de HESK" not in page.content.decode()


def test_open_tickets_get_our_deadlines_from_their_last_reply_and_nothing_is_mailed(hesk, db):
    run(hesk)
    assert not OutgoingEmail.objects.exists()
    for trackid, want in hesk["tickets"].items():
        t = Ticket.objects.select_related("region").get(tracking_id=trackid)
        if t.status in (Status.NEW, Status.WAITING_STAFF, Status.IN_PROGRESS):
            assert t.staff_due_at == t.business_deadline(
                want["last"], settings.STAFF_RESPONSE_HOURS
            )
            assert t.requester_due_at is None
        elif t.status == Status.ANSWERED:
            assert t.requester_due_at == t.business_deadline(
                want["last"], settings.REQUESTER_RESPONSE_HOURS
            )
            assert t.staff_due_at is None
        else:
            assert t.staff_due_at is None and t.requester_due_at is None
    # Nothing was closed by the import itself: every "Respondido" is still there.
    answered = sum(1 for v in hesk["tickets"].values() if v["status"] == 2)
    assert Ticket.objects.filter(status=Status.ANSWERED).count() == answered


def test_the_stalled_ticket_cron_closes_imported_answered_tickets_like_ours(hesk, db):
    run(hesk)
    call_command("close_stalled_tickets", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Ticket.objects.filter(status=Status.ANSWERED).exists()
    assert Ticket.objects.filter(status=Status.ON_HOLD).exists()


# --- reruns ------------------------------------------------------------------------------
def test_a_second_run_changes_nothing(hesk, db):
    run(hesk)
    snapshot = list(Ticket.objects.order_by("pk").values())
    counts = (Reply.objects.count(), Attachment.objects.count(), User.objects.count())
    out = run(hesk)
    assert list(Ticket.objects.order_by("pk").values()) == snapshot
    assert (Reply.objects.count(), Attachment.objects.count(), User.objects.count()) == counts
    assert f"0 tickets nuevos, 0 actualizados, {TICKETS} sin cambios" in out
    assert "0 respuestas, 0 notas, 0 adjuntos" in out


def test_a_run_after_hesk_moved_on_adds_new_and_updates_changed_tickets(hesk, db):
    run(hesk)
    first, second = list(hesk["tickets"])[:2]
    ours_changed = Ticket.objects.get(tracking_id=second)
    ours_changed.change(user=None, priority=Priority.CRITICAL)
    later = datetime(2024, 1, 1, 12, 0)
    try:
        sql(hesk, "UPDATE hesk_tickets SET status=3, lastchange=%s, closedat=%s WHERE trackid=%s",
            (later, later, first))  # fmt: skip
        sql(
            hesk,
            "UPDATE hesk_tickets SET status=3, lastchange=%s WHERE trackid=%s",
            (later, second),
        )
        sql(hesk, "INSERT INTO hesk_replies (replyto, name, message, dt, attachments, staffid) "
            "VALUES (1, 'Ronald Omondi', 'Listo.', %s, '', 1)", (later,))  # fmt: skip
        row = hf.ticket_row(
            hesk["generation"], id=TICKETS + 1, trackid="ZZZ-ZZZ-ZZZZ", name="Nueva Persona",
            email="nueva@example.cl", category=1, priority=3, subject="Nuevo", message="Hola",
            dt=later, lastchange=later, status=0, custom1="Maule", custom2="77",
        )  # fmt: skip
        hf.insert(hf.connect(hesk["name"]), "hesk_tickets", [row])
        out = run(hesk)
    finally:
        sql(hesk, "DELETE FROM hesk_tickets WHERE id=%s", (TICKETS + 1,))
        sql(hesk, "DELETE FROM hesk_replies WHERE message='Listo.'")
    assert "1 tickets nuevos, 1 actualizados" in out and "1 respuestas" in out
    updated = Ticket.objects.get(tracking_id=first)
    assert updated.status == Status.RESOLVED and updated.closed_at == later.replace(tzinfo=UTC)
    assert updated.replies.filter(message="Listo.").count() == 1
    # Changed here too: ours is kept and the conflict reported.
    assert Ticket.objects.get(tracking_id=second).status != Status.RESOLVED
    assert f"cambiado aquí y en HESK, se mantuvo el de aquí [1]: {second}" in out
    new = Ticket.objects.get(tracking_id="ZZZ-ZZZ-ZZZZ")
    assert (new.number, new.region.code, new.project_number) == (TICKETS + 1, "ML", 77)


def test_a_dry_run_reports_without_writing_anything(hesk, db, media_root):
    out = run(hesk, "--dry-run")
    assert f"{TICKETS} tickets nuevos" in out and "simulación" in out
    assert not Ticket.objects.exists() and not Reply.objects.exists()
    assert not Attachment.objects.exists() and not User.objects.filter(is_active=False).exists()
    assert not any(files for _root, _dirs, files in os.walk(media_root))


# --- numbering ---------------------------------------------------------------------------
def test_new_tickets_continue_after_the_highest_imported_number(hesk, db):
    run(hesk)
    t = Ticket.objects.first()
    ours = submit_ticket(
        name="Nuevo", email="n@example.cl", category=t.category, region=t.region,
        project_number=1, message="Hola",
    )  # fmt: skip
    assert ours.number == TICKETS + 1


def test_a_new_tracking_id_never_collides_with_an_imported_one(hesk, db, monkeypatch):
    run(hesk)
    taken = next(iter(hesk["tickets"]))
    drawn = iter([taken, "AAA-BBB-2222"])
    monkeypatch.setattr(tracking, "new_tracking_id", lambda: next(drawn))
    t = Ticket.objects.get(tracking_id=taken)
    ours = submit_ticket(
        name="Nuevo", email="n@example.cl", category=t.category, region=t.region,
        project_number=1, message="Hola",
    )  # fmt: skip
    assert ours.tracking_id == "AAA-BBB-2222"
    assert Ticket.objects.get(tracking_id=taken).number == t.number


# --- bad input ---------------------------------------------------------------------------
def test_a_wrong_password_is_a_clear_error_and_writes_nothing(hesk, db):
    url = hesk["url"].replace("root@", "root:mala@")
    with pytest.raises(CommandError, match="usuario o clave incorrectos") as exc:
        call_command("import_hesk", "--db", url, "--attachments", str(hesk["folder"]))
    assert "mala" not in str(exc.value)
    assert not Ticket.objects.exists()


def test_a_database_that_is_not_hesk_is_refused(hesk, db):
    with pytest.raises(CommandError, match="no parece de HESK"):
        run(hesk, "--prefix", "otro_")
    with pytest.raises(CommandError, match="base de datos no existe"):
        call_command(
            "import_hesk", "--db", hesk["url"] + "_nada", "--attachments", str(hesk["folder"])
        )
    assert not Ticket.objects.exists()


def test_a_missing_attachments_folder_is_refused_before_anything_is_read(hesk, db, tmp_path):
    with pytest.raises(CommandError, match="no existe"):
        call_command("import_hesk", "--db", hesk["url"], "--attachments", str(tmp_path / "no-hay"))
    with pytest.raises(CommandError, match="mysql://usuario"):
        call_command("import_hesk", "--db", "postgres://x@y/z", "--attachments", str(tmp_path))
    assert not Ticket.objects.exists()


# --- the old links, after a real import -------------------------------------------------
def test_a_requesters_old_link_opens_the_same_conversation_with_the_same_files(hesk, db, client):
    run(hesk)
    trackid, att = hesk["ids"]["public_file"]
    page = client.get(f"/ticket.php?track={trackid}&e=x@example.cl", follow=True)
    assert page.redirect_chain == [(reverse("tickets:ticket", args=[trackid]), 301)]
    text = page.content.decode()
    number = hesk["tickets"][trackid]["number"]
    assert f"Problema {number} con" in text and f"informe {number}.pdf" in text
    download = client.get(f"/download_attachment.php?att_id={att}&track={trackid}", follow=True)
    assert b"".join(download.streaming_content) == PDF
    # A note's file stays out of reach, even by its old link.
    note_track, note_att = hesk["ids"]["note_file"]
    assert (
        client.get(f"/download_attachment.php?att_id={note_att}&track={note_track}").status_code
        == 404
    )
