"""Named people and objects for the tests, built explicitly (healthchecks' alice/bob style)."""

import shutil
import tempfile

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.imap import imap_server  # noqa: F401 (fixture for every test)
from tests.smtp import smtp_down, smtp_server  # noqa: F401 (fixtures for every test)
from tickets import outbox
from tickets.admin import versions
from tickets.models import Category, Region, Ticket
from tickets.submission import submit_ticket

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def pytest_configure():
    # Tests run without collectstatic, and never send mail from a background thread.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_SEND_ON_COMMIT = False
    settings.CAPTCHA_TEST_MODE = True
    # django-simple-captcha copies its settings when it is imported, before this hook.
    from captcha.conf import settings as captcha_settings

    captcha_settings.CAPTCHA_TEST_MODE = True
    # django-axes refuses authenticate() calls without a request, which is how
    # client.login() calls it; tests/security/test_admin_lockout.py turns it back on.
    settings.AXES_ENABLED = False
    # The few tests that start the sender thread: once idle it closes its connection at
    # once, so none is left open on the test database when it is dropped at the end.
    outbox.IDLE_SECONDS = 0


@pytest.fixture
def agent_client(client, agent):
    """The test client, logged in as the agent (the same client as ``client``)."""
    client.force_login(agent)
    return client


def enrol(user):
    """A confirmed authenticator app for ``user``, as enrolment leaves it."""
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def pass_second_factor(client, user):
    """Log ``client`` in as ``user`` with a verified second factor (STAFF_REQUIRE_2FA on)."""
    device = enrol(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def verified_agent_client(client, agent):
    """The test client, logged in as the agent past the second factor."""
    pass_second_factor(client, agent)
    return client


@pytest.fixture
def strict_captcha(monkeypatch):
    """The captcha as the public meets it: "PASSED" is not an answer."""
    from captcha.conf import settings as captcha_settings

    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", False)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with empty caches: rate-limit counters and rendered fragments
    would otherwise leak between tests that reuse primary keys and frozen clocks."""
    for name in settings.CACHES:
        caches[name].clear()


@pytest.fixture(autouse=True)
def media_root(settings):
    path = tempfile.mkdtemp(prefix="mesaayuda-media-")
    settings.MEDIA_ROOT = path
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def snapshot_dir(settings, tmp_path):
    # Contacts snapshots (tickets/snapshots.py) must never land in the real var/.
    settings.SNAPSHOT_DIR = tmp_path / "snapshots"
    return settings.SNAPSHOT_DIR


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


def pdf(name="informe.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png(name="pantalla.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def category(db):
    return Category.objects.get(name="Error de sistema")


@pytest.fixture
def region(db):
    return Region.objects.get(code="AP")


def make_ticket(**overrides):
    fields = {
        "name": "Alicia Rojas",
        "email": "alicia@desarrollosocial.gob.cl",
        "category": Category.objects.get(name="Error de sistema"),
        "region": Region.objects.get(code="RM"),
        "project_number": 29928,
        "message": "No puedo ingresar la rendición del proyecto.\nMe aparece un error 500.",
        "ip_address": "192.168.21.120",
    }
    fields.update(overrides)
    return submit_ticket(**fields)


@pytest.fixture
def ticket(db):
    return make_ticket()


@pytest.fixture
def agent(db):
    user = User.objects.create_user(
        "bruno",
        "bruno@desarrollosocial.gob.cl",
        "clave-de-prueba-123",
        is_staff=True,
        first_name="Bruno",
        last_name="Díaz",
    )
    group = Group.objects.filter(name="Agentes").first()
    if group:
        user.groups.add(group)
    return user


@pytest.fixture
def supervisor(db):
    user = User.objects.create_user(
        "carla",
        "carla@desarrollosocial.gob.cl",
        "clave-de-prueba-123",
        is_staff=True,
        first_name="Carla",
        last_name="Soto",
    )
    group = Group.objects.filter(name="Supervisores").first()
    if group:
        user.groups.add(group)
    return user


def ticket_form_data(ticket, **overrides):
    """A send of the admin ticket page as loaded now: its hidden version, no reply, fields unchanged."""
    fresh = Ticket.objects.get(pk=ticket.pk)
    data = {
        "version": str(versions.of_ticket(fresh, model_to_dict(fresh, fields=versions.EDITED))),
        "reply_kind": "public",
        "reply_message": "",
        "status": fresh.status,
        "priority": fresh.priority,
        "category": fresh.category_id,
        "assignee": fresh.assignee_id or "",
        "_save": "Enviar",
    }
    data.update(overrides)
    return data


def submission_data(**overrides):
    data = {
        "name": "Alicia Rojas",
        "email": "alicia@desarrollosocial.gob.cl",
        "category": Category.objects.get(name="Error de sistema").pk,
        "region": Region.objects.get(code="AP").pk,
        "project_number": "29928",
        "message": "No puedo ingresar la rendición.",
        "captcha_0": "abc",
        "captcha_1": "PASSED",
    }
    data.update(overrides)
    return data
