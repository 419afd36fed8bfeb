"""Staff sessions end when idle, after a working day, on log-out, and on a password change."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

PASSWORD = "clave-de-prueba-123"
ADMIN = f"/{settings.ADMIN_URL}"
LOGIN = reverse("admin:login")


def log_in(client, username="bruno"):
    r = client.post(LOGIN, {"username": username, "password": PASSWORD, "next": ADMIN})
    assert r.status_code == 302 and r["Location"] == ADMIN
    return r


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_a_staff_session_ends_after_thirty_idle_minutes(client, agent, clock):
    log_in(client)
    key = client.session.session_key
    clock.shift(timedelta(minutes=31))
    r = client.get(reverse("admin:tickets_ticket_changelist"))
    assert r.status_code == 302
    assert r["Location"] == f"{LOGIN}?next=%2Fadmin%2Ftickets%2Fticket%2F"
    assert "sin actividad" in client.get(r["Location"]).content.decode()
    assert not Session.objects.filter(session_key=key).exists()


def test_activity_keeps_the_session_open(client, agent, clock):
    log_in(client)
    for _ in range(4):
        clock.shift(timedelta(minutes=29))
        assert client.get(ADMIN).status_code == 200


def test_the_idle_time_is_a_setting(client, agent, clock, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 5
    log_in(client)
    clock.shift(timedelta(minutes=4))
    assert client.get(ADMIN).status_code == 200
    clock.shift(timedelta(minutes=6))
    assert client.get(ADMIN).status_code == 302


def test_even_a_busy_session_ends_after_a_working_day(client, agent, clock):
    log_in(client)
    for _ in range(10 * 60 // 20 - 1):
        clock.shift(timedelta(minutes=20))
        assert client.get(ADMIN).status_code == 200, clock
    clock.shift(timedelta(minutes=21))
    r = client.get(ADMIN)
    assert r.status_code == 302 and r["Location"].startswith(LOGIN)
    assert "más de 10 horas" in client.get(r["Location"]).content.decode()


def test_the_public_site_forgets_an_idle_staff_user_and_still_answers(client, agent, clock):
    log_in(client)
    clock.shift(timedelta(minutes=31))
    assert client.get("/").status_code == 200
    assert "_auth_user_id" not in client.session


def test_logging_out_ends_the_session_on_the_server(client, agent):
    log_in(client)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    client.post(reverse("admin:logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(client, agent):
    elsewhere = Client()
    log_in(elsewhere)
    log_in(client)
    r = client.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "tetera-verde-salta-17-lunes",
            "new_password2": "tetera-verde-salta-17-lunes",
        },
    )
    assert r.status_code == 302
    assert client.get(ADMIN).status_code == 200
    assert elsewhere.get(ADMIN).status_code == 302


def test_a_supervisor_setting_an_agents_password_ends_the_agents_sessions(
    client, agent, supervisor
):
    agent_client = Client()
    log_in(agent_client)
    client.force_login(supervisor)
    r = client.post(
        reverse("admin:auth_user_password_change", args=[agent.pk]),
        {
            "password1": "tetera-verde-salta-17-lunes",
            "password2": "tetera-verde-salta-17-lunes",
            "usable_password": "true",
        },
    )
    assert r.status_code == 302
    assert agent_client.get(ADMIN).status_code == 302
    assert client.get(ADMIN).status_code == 200


def test_a_short_staff_password_is_refused_by_the_password_change(client, agent):
    log_in(client)
    r = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": "Corta-17x", "new_password2": "Corta-17x"},
    )
    assert r.status_code == 200
    assert "al menos 12 caracteres" in r.content.decode()
