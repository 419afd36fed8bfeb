"""Regional contacts: edited in admin, shown on the public page and on error pages that need no database."""

from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.template.loader import get_template
from django.test import RequestFactory
from django.urls import path, reverse

from tickets import errors
from tickets.models import Region, RegionalContact, Ticket
from tickets.snapshots import write_contacts_snapshot

CONTACTS = reverse("tickets:regional_contacts")


def boom(request):
    raise RuntimeError("something broke")


# The URLconf for the end-to-end 500 test: a view that fails, and the project's handler.
urlpatterns = [path("boom/", boom)]
handler500 = "tickets.errors.server_error"


@pytest.fixture
def contact(db):
    return RegionalContact.objects.create(
        region=Region.objects.get(code="AP"),
        name="Claudia Fuentes",
        role="Encargada regional",
        email="cfuentes@desarrollosocial.gob.cl",
        phone="+56 58 220 0000",
    )


def database_down():
    return mock.patch.object(
        BaseDatabaseWrapper, "ensure_connection", side_effect=OperationalError("database is down")
    )


def add_contact(client, name="Claudia Fuentes", region_code="AP"):
    return client.post(
        reverse("admin:tickets_regionalcontact_add"),
        {
            "region": Region.objects.get(code=region_code).pk,
            "name": name,
            "role": "Encargada regional",
            "email": "cfuentes@desarrollosocial.gob.cl",
            "phone": "+56 58 220 0000",
            "position": 10,
        },
    )


# --- admin and the public page -----------------------------------------------------------------
def test_a_supervisor_adds_a_contact_that_the_public_page_then_shows(client, supervisor):
    assert "Claudia Fuentes" not in client.get(CONTACTS).content.decode()
    client.force_login(supervisor)
    assert add_contact(client).status_code == 302
    client.logout()
    html = client.get(CONTACTS).content.decode()
    assert "Arica y Parinacota" in html
    assert "Claudia Fuentes" in html and "cfuentes@desarrollosocial.gob.cl" in html


def test_an_agent_cannot_add_a_contact(client, agent):
    client.force_login(agent)
    assert add_contact(client).status_code == 403
    assert not RegionalContact.objects.exists()


# --- the snapshot ---------------------------------------------------------------------------------
def test_adding_a_contact_in_admin_rewrites_the_snapshot(
    client, supervisor, snapshot_dir, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        add_contact(client)
    assert "Claudia Fuentes" in (snapshot_dir / "contacts.html").read_text()
    assert "Claudia Fuentes" in (snapshot_dir / "503.html").read_text()


def test_deleting_a_contact_in_admin_removes_it_from_the_snapshot(
    client, supervisor, contact, snapshot_dir, django_capture_on_commit_callbacks
):
    write_contacts_snapshot()
    assert "Claudia Fuentes" in (snapshot_dir / "contacts.html").read_text()
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            reverse("admin:tickets_regionalcontact_delete", args=[contact.pk]), {"post": "yes"}
        )
    assert r.status_code == 302
    assert "Claudia Fuentes" not in (snapshot_dir / "contacts.html").read_text()


def test_a_failed_save_writes_no_snapshot(
    client, supervisor, snapshot_dir, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("admin:tickets_regionalcontact_add"), {"name": "Sin región"})
    assert r.status_code == 200
    assert not (snapshot_dir / "contacts.html").exists()


def test_the_deploy_command_writes_the_snapshot(contact, snapshot_dir, capsys):
    call_command("render_contacts_snapshot")
    assert "Claudia Fuentes" in (snapshot_dir / "contacts.html").read_text()
    assert "contacts snapshot written" in capsys.readouterr().out


# --- the error pages ------------------------------------------------------------------------------
def test_the_error_templates_compile():
    # `{% include … ignore missing %}` is Jinja, not Django: it used to break the 500 page itself.
    get_template("500.html")
    get_template("503.html")


def test_the_500_page_shows_the_contacts_with_the_database_down(contact):
    write_contacts_snapshot()
    with database_down():
        with pytest.raises(OperationalError):
            Ticket.objects.count()
        r = errors.server_error(RequestFactory().get("/"))
    assert r.status_code == 500
    html = r.content.decode()
    assert "Tuvimos un problema" in html
    assert "Claudia Fuentes" in html and "cfuentes@desarrollosocial.gob.cl" in html


def test_without_a_snapshot_the_500_page_still_renders_and_says_where_to_look(db):
    with database_down():
        r = errors.server_error(RequestFactory().get("/"))
    assert r.status_code == 500
    html = r.content.decode()
    assert "Tuvimos un problema" in html
    assert "Contactos regionales" in html
    assert "<dl" not in html


def test_a_failing_view_answers_with_the_contacts_through_the_project_handler(
    client, contact, settings
):
    write_contacts_snapshot()
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    client.raise_request_exception = False
    with database_down():
        r = client.get("/boom/")
    assert r.status_code == 500
    assert "Claudia Fuentes" in r.content.decode()


def test_the_project_uses_the_database_free_500_handler():
    from mesaayuda import urls

    assert urls.handler500 == "tickets.errors.server_error"


def test_the_maintenance_page_shows_the_contacts_with_the_database_down(contact):
    write_contacts_snapshot()
    with database_down():
        r = errors.service_unavailable()
    assert r.status_code == 503
    assert r["Retry-After"] == "300"
    assert "Claudia Fuentes" in r.content.decode()


def test_renaming_a_region_rewrites_the_snapshot(
    client, supervisor, contact, snapshot_dir, django_capture_on_commit_callbacks
):
    write_contacts_snapshot()
    region = contact.region
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            reverse("admin:tickets_region_change", args=[region.pk]),
            {
                "code": region.code,
                "name": "Arica",
                "holiday_subdiv": region.holiday_subdiv,
                "position": region.position,
            },
        )
    assert r.status_code == 302
    fragment = (snapshot_dir / "contacts.html").read_text()
    assert "<dt>Arica</dt>" in fragment
    assert "Arica y Parinacota" not in fragment
