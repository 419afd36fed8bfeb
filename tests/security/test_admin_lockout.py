"""Staff accounts: password guessing locks out, passwords are strong, sessions end."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

PASSWORD = "clave-de-prueba-123"
ATTACKER = "203.0.113.66"


@pytest.fixture
def axes_on(settings):
    # Off for the rest of the suite (tests/conftest.py), on here as in production.
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def login_url():
    return f"/{settings.ADMIN_URL}login/"


def log_in(client, username, password, ip=ATTACKER, **extra):
    return client.post(
        login_url(),
        {"username": username, "password": password, "next": f"/{settings.ADMIN_URL}"},
        REMOTE_ADDR=ip,
        **extra,
    )


def assert_locked_out(r):
    html = r.content.decode()
    assert r.status_code == 429
    assert "<h1>Acceso bloqueado temporalmente</h1>" in html
    assert "3 intentos fallidos" in html


def test_guessing_an_agents_password_locks_the_account_out_from_that_ip(client, agent, axes_on):
    for guess in ["123456", "password", "bruno2026"]:
        r = log_in(client, "bruno", guess)
    assert_locked_out(r)
    # Now even the right password is refused from there…
    assert_locked_out(log_in(client, "bruno", PASSWORD))
    assert "_auth_user_id" not in client.session
    assert (
        AccessAttempt.objects.get(username="bruno", ip_address=ATTACKER).failures_since_start >= 3
    )


def test_before_the_limit_the_right_password_still_works(client, agent, axes_on):
    log_in(client, "bruno", "mala-1")
    log_in(client, "bruno", "mala-2")
    r = log_in(client, "bruno", PASSWORD)
    assert r.status_code == 302 and r["Location"] == f"/{settings.ADMIN_URL}"
    # …and a success wipes the count, so earlier typos don't add up.
    assert not AccessAttempt.objects.filter(username="bruno").exists()


def test_the_lock_out_does_not_reach_the_agent_from_another_ip(client, agent, axes_on):
    for guess in ["a", "b", "c"]:
        log_in(client, "bruno", guess)
    r = log_in(client, "bruno", PASSWORD, ip="10.20.30.40")
    assert r.status_code == 302


def test_the_lock_out_does_not_reach_another_user_at_that_ip(client, agent, supervisor, axes_on):
    for guess in ["a", "b", "c"]:
        log_in(client, "bruno", guess)
    assert log_in(client, "carla", PASSWORD).status_code == 302


def test_a_forged_x_forwarded_for_does_not_escape_the_lock_out(client, agent, axes_on):
    for i, guess in enumerate(["a", "b", "c"]):
        log_in(client, "bruno", guess, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert_locked_out(log_in(client, "bruno", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99"))


def test_behind_a_trusted_proxy_the_client_address_is_the_one_locked(
    client, agent, axes_on, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    for guess in ["a", "b", "c"]:
        log_in(client, "bruno", guess, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="200.1.2.3")
    assert_locked_out(
        log_in(client, "bruno", PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="200.1.2.3")
    )
    # The same proxy, another client behind it: not locked.
    assert (
        log_in(
            client, "bruno", PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="200.9.9.9"
        ).status_code
        == 302
    )


def test_the_lock_out_ends_after_the_cool_off(client, agent, axes_on):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for guess in ["a", "b", "c"]:
            log_in(client, "bruno", guess)
        assert_locked_out(log_in(client, "bruno", PASSWORD))
        traveller.shift(settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
        assert log_in(client, "bruno", PASSWORD).status_code == 302


# --- passwords and sessions ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "weak", ["corta-123", "123456789012345", "password1234", "desarrollosocial"]
)
def test_weak_passwords_are_refused(agent, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=agent)


def test_a_long_uncommon_password_is_accepted(agent):
    validate_password("tetera-verde-salta-17-lunes", user=agent)


def test_a_staff_session_ends_with_the_browser_and_after_eight_hours(client, agent):
    r = log_in(client, "bruno", PASSWORD)
    assert r.status_code == 302
    cookie = r.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    assert cookie["httponly"]
    assert client.session.get_expiry_age() == 8 * 3600


# --- a burst of guesses (issue 22, 3: every check-then-count limit) -------------------------------
def guess_in_a_burst(client, monkeypatch, n):
    """``n`` wrong guesses, each sent while the previous one's password is being checked.

    Returns how many passwords were actually checked and every answer's status.
    """
    checked, answers = [], []
    real = ModelBackend.authenticate

    def slow_check(self, request, username=None, password=None, **kwargs):
        checked.append(password)
        if len(checked) + len(answers) < n:
            answers.append(log_in(client, "bruno", f"intento-{len(checked)}").status_code)
        return real(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", slow_check)
    answers.append(log_in(client, "bruno", "intento-0").status_code)
    return checked, answers


def test_guesses_sent_together_are_checked_one_at_a_time(client, agent, axes_on, monkeypatch):
    checked, answers = guess_in_a_burst(client, monkeypatch, 10)
    # Only the first password was checked; the one sent while it ran was refused.
    assert len(checked) == 1
    assert 429 in answers


def test_guesses_one_after_another_still_stop_at_the_limit(client, agent, axes_on):
    answers = [log_in(client, "bruno", f"intento-{i}").status_code for i in range(5)]
    assert answers[:2] == [200, 200] and answers[2:] == [429, 429, 429]
    assert log_in(client, "bruno", PASSWORD).status_code == 429
