"""Data-subject requests for one address (Ley 21.719): export, rectify, erase, each recorded."""

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import models
from django.urls import reverse

from tests.conftest import make_ticket, pdf, png
from tickets import data_requests, emails
from tickets.models import AccessLog, Attachment, DataRequest, OutgoingEmail, Reply, Ticket

ADD = reverse("admin:tickets_datarequest_add")
LIST = reverse("admin:tickets_datarequest_changelist")

ALICIA = "alicia@desarrollosocial.gob.cl"
ALICIA_IP = "192.168.21.120"
# What must not survive an erasure of Alicia's address (searched case-insensitively).
ALICIA_TRACES = [
    "Alicia",
    ALICIA,
    ALICIA_IP,
    "No puedo ingresar la rendición",
    "error 500",
    "Adjunto la cartola firmada",
    "Estimada Alicia",
    "cartola-alicia",
    "Segunda consulta sobre el convenio",
]
ROBERTO = "roberto.munoz@mideplan.cl"
ROBERTO_TRACES = ["Roberto Muñoz", ROBERTO, "10.9.8.7", "Mi clave no funciona", "roberto.pdf"]

TEXT_FIELDS = (models.CharField, models.TextField, models.GenericIPAddressField, models.FileField)


def everywhere(needle):
    """Every column of every tickets and auth table that holds ``needle`` (case-insensitive)."""
    hits = []
    for label in ("tickets", "auth"):
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.concrete_fields:
                if (
                    isinstance(field, TEXT_FIELDS)
                    and model.objects.filter(**{f"{field.name}__icontains": needle}).exists()
                ):
                    hits.append(f"{model.__name__}.{field.name}")
    return hits


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "clave-de-prueba-123")


@pytest.fixture
def alicia(db, agent, client):
    """Two tickets of Alicia's with files, replies, notices and accesses; one of Roberto's."""
    first = make_ticket(files=[pdf("cartola-alicia.pdf")])
    first.add_requester_reply(
        message="Adjunto la cartola firmada.", files=[png("pantalla.png")], ip_address=ALICIA_IP
    )
    first.add_agent_reply(
        user=agent, message="Estimada Alicia Rojas: ya quedó corregido.", kind="public"
    )
    first.add_agent_reply(user=agent, message="Nota: la llamé al anexo.", kind="internal")
    second = make_ticket(message="Segunda consulta sobre el convenio.")
    # The same address typed in capitals before the forms lower-cased them.
    Ticket.objects.filter(pk=second.pk).update(email="Alicia@DesarrolloSocial.gob.cl")
    emails.forgotten_ids(ALICIA, [first, second])
    client.get(first.get_absolute_url(), REMOTE_ADDR=ALICIA_IP)
    client.force_login(agent)
    client.get(reverse("admin:tickets_ticket_change", args=[first.pk]), REMOTE_ADDR="10.0.0.7")
    client.logout()
    roberto = make_ticket(
        name="Roberto Muñoz",
        email=ROBERTO,
        message="Mi clave no funciona.",
        ip_address="10.9.8.7",
        files=[pdf("roberto.pdf")],
    )
    client.get(roberto.get_absolute_url(), REMOTE_ADDR="10.9.8.7")
    return first, second, roberto


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name).decode("utf-8-sig") for name in z.namelist()}


# --- export -----------------------------------------------------------------------------------------
def test_the_export_holds_every_piece_of_the_addresses_data(alicia):
    first, second, _roberto = alicia
    files = unzip(data_requests.export_zip(ALICIA))
    assert set(files) == {
        "LEAME.txt",
        "datos.json",
        "tickets.csv",
        "respuestas.csv",
        "adjuntos.csv",
        "notificaciones.csv",
        "accesos.csv",
    }
    data = json.loads(files["datos.json"])
    assert data["email"] == ALICIA
    assert [(t["numero"], t["nombre"]) for t in data["tickets"]] == [
        (first.number, "Alicia Rojas"),
        (second.number, "Alicia Rojas"),
    ]
    assert data["tickets"][0]["mensaje"].startswith("No puedo ingresar la rendición")
    assert data["tickets"][0]["direccion_ip"] == ALICIA_IP
    assert (
        data["tickets"][0]["categoria"] == "Error de sistema"
        and data["tickets"][0]["estado"] == "Respondido"
    )
    replies = {r["mensaje"]: r for r in data["respuestas"]}
    assert replies["Adjunto la cartola firmada."]["direccion_ip"] == ALICIA_IP
    assert replies["Estimada Alicia Rojas: ya quedó corregido."]["nota_interna"] is False
    assert replies["Nota: la llamé al anexo."]["nota_interna"] is True
    expected = {
        (a.original_name, a.size, a.sha256) for a in Attachment.objects.filter(ticket=first)
    }
    assert {(a["nombre"], a["bytes"], a["sha256"]) for a in data["adjuntos"]} == expected
    assert {"cartola-alicia.pdf", "pantalla.png"} == {name for name, _size, _sha in expected}
    sent = OutgoingEmail.objects.filter(to__iexact=ALICIA)
    assert len(data["notificaciones"]) == sent.count() >= 3
    assert "forgotten_ids" in {n["tipo"] for n in data["notificaciones"]}
    accesses = {(a["tipo"], a["usuario"], a["direccion_ip"]) for a in data["accesos"]}
    assert accesses == {("Vista pública", "", ALICIA_IP), ("Vista en admin", "Bruno Díaz", "")}


def test_the_csv_files_hold_the_same_rows_as_the_json(alicia):
    files = unzip(data_requests.export_zip(ALICIA))
    data = json.loads(files["datos.json"])
    for name in ("tickets", "respuestas", "adjuntos", "notificaciones", "accesos"):
        rows = list(csv.DictReader(io.StringIO(files[f"{name}.csv"])))
        assert len(rows) == len(data[name]) > 0, name
    assert list(csv.DictReader(io.StringIO(files["tickets.csv"])))[0]["nombre"] == "Alicia Rojas"


def test_the_export_holds_nothing_of_another_address(alicia):
    everything = "\n".join(unzip(data_requests.export_zip(ALICIA)).values())
    for trace in ROBERTO_TRACES:
        assert trace not in everything
    roberto = "\n".join(unzip(data_requests.export_zip(ROBERTO)).values())
    assert "Roberto Muñoz" in roberto and "Alicia" not in roberto


def test_the_export_of_an_address_without_tickets_is_empty_not_an_error(db):
    data = json.loads(unzip(data_requests.export_zip("nadie@example.org"))["datos.json"])
    assert data["tickets"] == [] and data["notificaciones"] == []


# --- erasure ----------------------------------------------------------------------------------------
def test_the_search_finds_the_data_before_the_erasure(alicia):
    for trace in ALICIA_TRACES + ROBERTO_TRACES:
        assert everywhere(trace), trace


def test_erasure_leaves_no_trace_of_the_address_in_the_database(alicia, supervisor):
    data_requests.export(
        ALICIA, by=supervisor, reference="Oficio 123"
    )  # the log held the address until now
    data_requests.erase(ALICIA, by=supervisor, reference="Oficio 124")
    for trace in ALICIA_TRACES:
        assert everywhere(trace) == [], trace


def test_erasure_leaves_another_addresses_data_alone(alicia, supervisor):
    data_requests.erase(ALICIA, by=supervisor)
    for trace in ROBERTO_TRACES:
        assert everywhere(trace), trace
    roberto = Ticket.objects.get(email=ROBERTO)
    assert (
        roberto.attachments.count() == 1
        and roberto.emails.exists()
        and roberto.accesses.get().ip_address == "10.9.8.7"
    )


def test_erasure_deletes_the_files_from_storage_and_only_theirs(alicia, supervisor):
    first, _second, roberto = alicia
    storage = Attachment._meta.get_field("file").storage
    theirs = [a.file.name for a in Attachment.objects.filter(ticket=first)]
    others = [a.file.name for a in Attachment.objects.filter(ticket=roberto)]
    assert len(theirs) == 2 and all(storage.exists(p) for p in theirs + others)
    data_requests.erase(ALICIA, by=supervisor)
    assert not any(storage.exists(p) for p in theirs)
    assert all(storage.exists(p) for p in others)
    assert not Attachment.objects.filter(ticket=first).exists()


def test_erasure_keeps_what_statistics_need(alicia, supervisor):
    first, second, _roberto = alicia
    kept = [
        "number",
        "tracking_id",
        "category_id",
        "region_id",
        "project_number",
        "created_at",
        "closed_at",
        "status",
        "priority",
    ]
    before = {
        t.pk: {f: getattr(t, f) for f in kept}
        for t in Ticket.objects.filter(pk__in=[first.pk, second.pk])
    }
    replies = Reply.objects.filter(ticket=first).count()
    data_requests.erase(ALICIA, by=supervisor)
    after = {
        t.pk: {f: getattr(t, f) for f in kept}
        for t in Ticket.objects.filter(pk__in=[first.pk, second.pk])
    }
    assert after == before
    assert Reply.objects.filter(ticket=first).count() == replies
    assert (
        AccessLog.objects.filter(ticket=first).count() == 2
    )  # who and when stay; the public IP does not


def test_erasure_is_recorded_with_a_hash_and_the_domain_only(alicia, supervisor):
    row = data_requests.erase(
        "  ALICIA@desarrollosocial.gob.cl ", by=supervisor, reference="Oficio 124"
    )
    row.refresh_from_db()
    assert (row.action, row.by, row.ticket_count, row.reference) == (
        "erase",
        supervisor,
        2,
        "Oficio 124",
    )
    assert row.email == ""
    assert row.email_sha256 == hashlib.sha256(ALICIA.encode()).hexdigest()
    assert row.email_domain == "desarrollosocial.gob.cl"
    assert "2 archivos eliminados" in row.details


def test_erasing_again_finds_nothing_to_do(alicia, supervisor):
    data_requests.erase(ALICIA, by=supervisor)
    again = data_requests.erase(ALICIA, by=supervisor)
    assert again.ticket_count == 0
    assert DataRequest.objects.filter(action="erase").count() == 2


def test_after_erasure_the_public_ticket_page_shows_no_personal_data(alicia, supervisor, client):
    first, _second, _roberto = alicia
    before = client.get(first.get_absolute_url()).content.decode()
    assert "Alicia Rojas" in before and "No puedo ingresar la rendición" in before
    data_requests.erase(ALICIA, by=supervisor)
    html = client.get(first.get_absolute_url()).content.decode()
    assert f"Ticket número: {first.number}" in html
    for trace in [
        "Alicia",
        "alicia",
        "No puedo ingresar",
        "Adjunto la cartola",
        "cartola-alicia",
        "pantalla.png",
    ]:
        assert trace not in html


# --- rectification -----------------------------------------------------------------------------------
def test_rectification_changes_name_and_email_on_all_their_tickets_and_only_theirs(
    alicia, supervisor
):
    first, second, roberto = alicia
    row = data_requests.rectify(
        ALICIA,
        new_name="Alicia Rojas Pérez",
        new_email="ARojas@desarrollosocial.gob.cl",
        by=supervisor,
    )
    for t in (first, second):
        t.refresh_from_db()
        assert (t.name, t.email) == ("Alicia Rojas Pérez", "arojas@desarrollosocial.gob.cl")
    assert (
        Reply.objects.get(ticket=first, kind=Reply.Kind.REQUESTER).author_name
        == "Alicia Rojas Pérez"
    )
    roberto.refresh_from_db()
    assert (roberto.name, roberto.email) == ("Roberto Muñoz", ROBERTO)
    assert (row.action, row.email, row.new_name, row.new_email, row.ticket_count) == (
        "rectify",
        ALICIA,
        "Alicia Rojas Pérez",
        "arojas@desarrollosocial.gob.cl",
        2,
    )


def test_rectifying_the_name_alone_keeps_the_address(alicia, supervisor):
    first, _second, _roberto = alicia
    Ticket.objects.filter(pk=first.pk).update(last_replier="Alicia Rojas")
    data_requests.rectify(ALICIA, new_name="Alicia Rojas Pérez", by=supervisor)
    first.refresh_from_db()
    assert (first.name, first.email, first.last_replier) == (
        "Alicia Rojas Pérez",
        ALICIA,
        "Alicia Rojas Pérez",
    )


def test_an_agents_name_as_last_replier_is_not_rectified(alicia, supervisor):
    first, _second, _roberto = alicia
    Ticket.objects.filter(pk=first.pk).update(last_replier="Bruno Díaz")
    data_requests.rectify(ALICIA, new_name="Alicia Rojas Pérez", by=supervisor)
    first.refresh_from_db()
    assert first.last_replier == "Bruno Díaz"


def test_a_queued_notice_follows_the_new_address_and_a_sent_one_stays(alicia, supervisor):
    first, _second, _roberto = alicia
    mails = OutgoingEmail.objects.filter(ticket=first, to=ALICIA).order_by("pk")
    sent, queued = mails[0], mails[1]
    OutgoingEmail.objects.filter(pk=sent.pk).update(state=OutgoingEmail.State.SENT)
    OutgoingEmail.objects.filter(pk=queued.pk).update(state=OutgoingEmail.State.QUEUED)
    data_requests.rectify(ALICIA, new_email="arojas@desarrollosocial.gob.cl", by=supervisor)
    sent.refresh_from_db()
    queued.refresh_from_db()
    assert (sent.to, queued.to) == (ALICIA, "arojas@desarrollosocial.gob.cl")


def test_erasing_a_rectified_address_also_clears_the_rectification_record(alicia, supervisor):
    data_requests.rectify(ALICIA, new_email="arojas@desarrollosocial.gob.cl", by=supervisor)
    data_requests.erase("arojas@desarrollosocial.gob.cl", by=supervisor)
    assert everywhere("arojas@") == [] and everywhere(ALICIA) == []


# --- in admin ------------------------------------------------------------------------------------------
def test_a_supervisor_downloads_the_export_and_it_is_recorded(client, supervisor, alicia):
    client.force_login(supervisor)
    r = client.post(
        ADD,
        {"email": "Alicia@desarrollosocial.gob.cl", "action": "export", "reference": "Oficio 123"},
    )
    assert r.status_code == 200
    assert r["Content-Type"] == "application/zip"
    assert r["Content-Disposition"].startswith("attachment;") and ".zip" in r["Content-Disposition"]
    assert ALICIA not in r["Content-Disposition"]
    data = json.loads(unzip(b"".join(r.streaming_content))["datos.json"])
    assert len(data["tickets"]) == 2
    row = DataRequest.objects.get()
    assert (row.action, row.email, row.by, row.reference, row.ticket_count) == (
        "export",
        ALICIA,
        supervisor,
        "Oficio 123",
        2,
    )


def test_a_supervisor_rectifies_through_admin(client, supervisor, alicia):
    client.force_login(supervisor)
    r = client.post(ADD, {"email": ALICIA, "action": "rectify", "new_name": "Alicia  Rojas Pérez"})
    assert r.status_code == 302 and r["Location"] == LIST
    assert set(Ticket.objects.filter(email=ALICIA).values_list("name", flat=True)) == {
        "Alicia Rojas Pérez"
    }
    assert DataRequest.objects.get().action == "rectify"


def test_rectifying_without_a_new_value_changes_nothing(client, supervisor, alicia):
    client.force_login(supervisor)
    r = client.post(ADD, {"email": ALICIA, "action": "rectify"})
    assert r.status_code == 200
    assert "escriba el nombre correcto" in r.content.decode()
    assert not DataRequest.objects.exists()
    assert set(Ticket.objects.filter(email=ALICIA).values_list("name", flat=True)) == {
        "Alicia Rojas"
    }


def test_erasing_through_admin_needs_the_confirmation(client, supervisor, alicia):
    client.force_login(supervisor)
    r = client.post(ADD, {"email": ALICIA, "action": "erase"})
    assert r.status_code == 200
    assert "Esta dirección tiene 2 tickets" in r.content.decode()
    assert Ticket.objects.filter(email__iexact=ALICIA).count() == 2
    assert not DataRequest.objects.exists()
    r = client.post(
        ADD, {"email": ALICIA, "action": "erase", "confirm": "on", "reference": "Oficio 124"}
    )
    assert r.status_code == 302 and r["Location"] == LIST
    assert not Ticket.objects.filter(email__iexact=ALICIA).exists()
    assert DataRequest.objects.get().action == "erase"


def test_the_done_when_journey_export_then_erase_then_nothing_on_the_public_page(
    client, supervisor, alicia
):
    first, _second, _roberto = alicia
    client.force_login(supervisor)
    assert "Atender una solicitud" in client.get(ADD).content.decode()
    assert (
        client.post(ADD, {"email": ALICIA, "action": "export"})["Content-Type"] == "application/zip"
    )
    client.post(ADD, {"email": ALICIA, "action": "erase", "confirm": "on"})
    html = client.get(LIST).content.decode()
    assert "Exportar sus datos" in html and "Suprimir" in html
    assert ALICIA not in html and "…@desarrollosocial.gob.cl" in html
    client.logout()
    page = client.get(first.get_absolute_url()).content.decode()
    assert "Alicia" not in page and "No puedo ingresar" not in page


def test_the_log_finds_an_erased_address_by_its_hash(client, supervisor, alicia):
    data_requests.erase(ALICIA, by=supervisor)
    client.force_login(supervisor)
    assert (
        len(client.get(LIST, {"q": "ALICIA@desarrollosocial.gob.cl"}).context["cl"].result_list)
        == 1
    )
    assert len(client.get(LIST, {"q": ROBERTO}).context["cl"].result_list) == 0


def test_a_superuser_may_carry_out_requests(client, superuser, alicia):
    client.force_login(superuser)
    assert client.get(ADD).status_code == 200
    assert (
        client.post(ADD, {"email": ALICIA, "action": "rectify", "new_name": "A. Rojas"}).status_code
        == 302
    )


def test_an_agent_gets_403_on_the_data_request_pages(client, agent, alicia, supervisor):
    row = data_requests.export(ROBERTO, by=supervisor)[0]
    client.force_login(agent)
    assert client.get(ADD).status_code == 403
    assert (
        client.post(ADD, {"email": ALICIA, "action": "erase", "confirm": "on"}).status_code == 403
    )
    assert client.post(ADD, {"email": ALICIA, "action": "export"}).status_code == 403
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("admin:tickets_datarequest_change", args=[row.pk])).status_code == 403
    assert Ticket.objects.filter(email__iexact=ALICIA).count() == 2
    assert DataRequest.objects.count() == 1


@pytest.mark.parametrize("who", ["supervisor", "superuser"])
def test_nobody_edits_or_deletes_the_request_log(client, request, who, alicia, supervisor):
    row = data_requests.export(ALICIA, by=supervisor, reference="Oficio 123")[0]
    client.force_login(request.getfixturevalue(who))
    change = reverse("admin:tickets_datarequest_change", args=[row.pk])
    assert client.get(change).status_code == 200  # read-only
    assert client.post(change, {"reference": "cambiada"}).status_code == 403
    assert (
        client.post(
            reverse("admin:tickets_datarequest_delete", args=[row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    row.refresh_from_db()
    assert row.reference == "Oficio 123"


def test_the_log_row_names_no_address_when_printed(alicia, supervisor):
    row = data_requests.export(ALICIA, by=supervisor)[0]
    assert ALICIA not in str(row) and "Exportar" in str(row)
