"""Staff sign in with a password and a second factor; a stolen password alone opens nothing."""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import enrol, pass_second_factor
from tests.test_production import inline_code
from tickets import staff_auth, staff_sessions
from tickets.models import SecondFactorReset

PASSWORD = "clave-de-prueba-123"
IP = "10.1.2.3"
ADMIN = f"/{settings.ADMIN_URL}"
VERIFY = reverse("admin:second_factor_verify")
ENROL = reverse("admin:second_factor")


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    # Each wrong code also makes the device wait a second or more before the next one
    # is tried (test_a_burst_of_wrong_codes_makes_the_app_wait); these tests type faster.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def required(settings):
    settings.STAFF_REQUIRE_2FA = True


def code_for(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def wrong_code_for(device):
    return f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"


def log_in(client, username="bruno", password=PASSWORD, ip=IP):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": ADMIN},
        REMOTE_ADDR=ip,
    )


def enter_code(client, code, ip=IP):
    return client.post(VERIFY, {"code": code, "next": ADMIN}, REMOTE_ADDR=ip)


def opens_admin(client):
    return client.get(ADMIN).status_code == 200


# --- signing in ----------------------------------------------------------------------------------
def test_once_enrolled_the_password_alone_leads_to_the_code_page(client, agent):
    enrol(agent)
    r = log_in(client)
    assert r.status_code == 302
    assert r["Location"] == f"{VERIFY}?next=%2F{settings.ADMIN_URL.rstrip('/')}%2F"
    page = client.get(r["Location"])
    assert "Verificación en dos pasos" in page.content.decode()
    # Every admin page sends the half-signed-in user back there, the password change too.
    assert not opens_admin(client)
    assert client.get(reverse("admin:tickets_ticket_changelist")).status_code == 302
    assert client.get(reverse("admin:password_change")).status_code == 302


def test_without_a_device_and_without_the_requirement_the_password_opens_the_admin(client, agent):
    r = log_in(client)
    assert r["Location"] == ADMIN
    assert opens_admin(client)


def test_the_right_code_opens_the_admin(client, agent):
    device = enrol(agent)
    log_in(client)
    r = enter_code(client, code_for(device))
    assert r.status_code == 302 and r["Location"] == ADMIN
    assert opens_admin(client)


def test_a_wrong_code_is_refused_and_the_typed_code_stays(client, agent):
    device = enrol(agent)
    log_in(client)
    r = enter_code(client, wrong_code_for(device))
    html = r.content.decode()
    assert r.status_code == 200
    assert "El código no es válido" in html
    assert f'value="{wrong_code_for(device)}"' in html
    assert not opens_admin(client)


def test_the_next_address_must_be_on_this_site(client, agent):
    device = enrol(agent)
    log_in(client)
    r = client.post(VERIFY, {"code": code_for(device), "next": "https://evil.example/"})
    assert r["Location"] == ADMIN


def test_wrong_codes_count_towards_the_lock_out(client, agent, axes_on):
    device = enrol(agent)
    log_in(client)
    enter_code(client, wrong_code_for(device))
    enter_code(client, "zzzzz-zzzzz")
    r = enter_code(client, wrong_code_for(device))
    assert r.status_code == 429
    assert "<h1>Acceso bloqueado temporalmente</h1>" in r.content.decode()
    # The half-open session ends, and the password is now refused from there too.
    assert "_auth_user_id" not in client.session
    assert log_in(client).status_code == 429
    assert AccessFailureLog.objects.filter(username="bruno", locked_out=True).exists()


def test_signing_in_again_with_the_password_does_not_wipe_the_wrong_codes(client, agent, axes_on):
    device = enrol(agent)
    log_in(client)
    enter_code(client, wrong_code_for(device))
    enter_code(client, wrong_code_for(device))
    assert log_in(client).status_code == 302
    assert enter_code(client, wrong_code_for(device)).status_code == 429


def test_the_right_code_wipes_the_count(client, agent, axes_on):
    device = enrol(agent)
    log_in(client)
    enter_code(client, wrong_code_for(device))
    enter_code(client, wrong_code_for(device))
    assert AccessAttempt.objects.filter(username="bruno").exists()
    assert enter_code(client, code_for(device)).status_code == 302
    assert not AccessAttempt.objects.filter(username="bruno").exists()


def test_a_burst_of_wrong_codes_makes_the_app_wait_whatever_the_ip(client, agent):
    device = enrol(agent)
    log_in(client)
    enter_code(client, wrong_code_for(device))
    other = client.__class__()
    log_in(other, ip="198.51.100.4")
    r = enter_code(other, code_for(device), ip="198.51.100.4")
    assert "espere unos segundos" in r.content.decode()
    assert not opens_admin(other)
    # A recovery code is not held up by the app's wrong codes.
    codes = staff_auth.new_recovery_codes(agent)
    assert enter_code(other, codes[0], ip="198.51.100.4").status_code == 302


def test_a_recovery_code_works_once(client, agent):
    enrol(agent)
    codes = staff_auth.new_recovery_codes(agent)
    assert len(codes) == 10 and len(set(codes)) == 10
    log_in(client)
    r = enter_code(client, codes[0].upper())
    assert r.status_code == 302
    assert "le quedan 9" in client.get(r["Location"]).content.decode()
    client.logout()
    log_in(client)
    assert "El código no es válido" in enter_code(client, codes[0]).content.decode()
    assert not opens_admin(client)
    assert StaticToken.objects.filter(device__user=agent).count() == 9


# --- enrolment -----------------------------------------------------------------------------------
def test_with_the_requirement_on_an_agent_without_a_device_must_enrol_first(
    client, agent, required
):
    r = log_in(client)
    assert r["Location"].startswith(ENROL)
    assert not opens_admin(client)
    html = client.get(ENROL).content.decode()
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    assert staff_auth.secret_text(device) in html


def test_enrolling_confirms_the_app_and_shows_ten_recovery_codes_once(client, agent, required):
    log_in(client)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=agent)
    r = client.post(ENROL, {"code": code_for(device), "next": ADMIN})
    html = r.content.decode()
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", html)
    assert len(codes) == 10
    assert r["Cache-Control"].startswith("max-age=0")
    device.refresh_from_db()
    assert device.confirmed
    assert opens_admin(client)
    # The status page counts them but never shows them again.
    status = client.get(ENROL).content.decode()
    assert "Le quedan 10 códigos" in status and codes[0] not in status


def test_a_wrong_first_code_does_not_enrol(client, agent, required):
    log_in(client)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=agent)
    r = client.post(ENROL, {"code": wrong_code_for(device)})
    assert "El código no coincide" in r.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not opens_admin(client)


def test_reloading_the_enrolment_page_keeps_the_same_secret(client, agent, required):
    log_in(client)
    client.get(ENROL)
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=agent).count() == 1


def test_an_enrolled_user_cannot_enrol_another_phone_with_the_password_alone(client, agent):
    enrol(agent)
    log_in(client)
    r = client.get(ENROL)
    assert r.status_code == 302 and r["Location"].startswith(VERIFY)
    assert client.post(ENROL, {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=agent).count() == 1


def test_new_recovery_codes_replace_the_old_ones(verified_agent_client, agent):
    old = staff_auth.new_recovery_codes(agent)
    html = verified_agent_client.post(ENROL).content.decode()
    new = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", html)
    assert len(new) == 10 and not set(new) & set(old)
    assert StaticToken.objects.filter(device__user=agent).count() == 10


def test_the_admin_opens_for_a_verified_session_when_required(verified_agent_client, required):
    assert opens_admin(verified_agent_client)


def test_anonymous_visitors_are_sent_to_the_log_in_page(client, db):
    r = client.get(VERIFY)
    assert r.status_code == 302 and r["Location"].startswith(reverse("admin:login"))


def test_one_can_log_out_before_passing_the_second_factor(client, agent):
    enrol(agent)
    log_in(client)
    r = client.post(reverse("admin:second_factor_sign_out"))
    assert r["Location"] == reverse("admin:login")
    assert "_auth_user_id" not in client.session


# --- a lost phone --------------------------------------------------------------------------------
def reset_action(client, *users):
    return client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [u.pk for u in users]},
    )


def test_a_supervisor_resets_an_agents_device_and_ends_their_sessions(client, agent, supervisor):
    pass_second_factor(client, agent)
    agent_session = client.session.session_key
    staff_auth.new_recovery_codes(agent)
    boss = client.__class__()
    pass_second_factor(boss, supervisor)
    r = reset_action(boss, agent)
    assert r.status_code == 302
    assert not TOTPDevice.objects.filter(user=agent).exists()
    assert not StaticToken.objects.filter(device__user=agent).exists()
    reset = SecondFactorReset.objects.get(user=agent)
    assert reset.reset_by == supervisor
    assert LogEntry.objects.filter(object_id=str(agent.pk), user=supervisor).exists()
    # The agent's session (and whoever holds it) is out, at the latest once the session's
    # next reset check is due.
    later = timezone.now() + timedelta(seconds=staff_sessions.RESET_CHECK_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        r = client.get(ADMIN)
    assert r.status_code == 302 and r["Location"].startswith(reverse("admin:login"))
    assert not Session.objects.filter(session_key=agent_session).exists()
    # The supervisor's own session goes on.
    assert opens_admin(boss)


def test_an_agent_cannot_reset_anyones_device(client, agent, supervisor):
    pass_second_factor(client, agent)
    enrol(supervisor)
    reset_action(client, supervisor)
    assert TOTPDevice.objects.filter(user=supervisor).exists()
    assert not SecondFactorReset.objects.exists()


def test_a_supervisor_cannot_reset_their_own_device(client, supervisor):
    pass_second_factor(client, supervisor)
    reset_action(client, supervisor)
    assert TOTPDevice.objects.filter(user=supervisor).exists()
    assert not SecondFactorReset.objects.exists()


def test_the_staff_list_shows_who_has_a_second_factor(client, agent, supervisor):
    pass_second_factor(client, supervisor)
    html = client.get(reverse("admin:auth_user_changelist")).content.decode()
    rows = {
        re.search(r">(bruno|carla)</a>", row)[1]: re.findall(r"icon-(yes|no)\.svg", row)[-1]
        for row in re.findall(r"<tr>.*?</tr>", html, re.S)
        if re.search(r">(bruno|carla)</a>", row)
    }
    assert rows == {"carla": "yes", "bruno": "no"}


# --- sign-in records -----------------------------------------------------------------------------
def test_staff_see_their_own_recent_sign_ins_with_ip_and_result(client, agent, supervisor, axes_on):
    log_in(client, password="mala-clave-1", ip="200.1.1.1")
    log_in(client, ip="200.2.2.2")
    log_in(client, "carla", ip="200.9.9.9")
    client.logout()
    log_in(client, ip="200.2.2.2")
    html = client.get(reverse("admin:my_logins")).content.decode()
    assert "200.1.1.1" in html and "Fallido" in html
    assert "200.2.2.2" in html and "Contraseña correcta" in html
    assert "200.9.9.9" not in html


def test_supervisors_list_failed_sign_ins_and_lock_outs_and_agents_do_not(
    client, agent, supervisor, axes_on
):
    for guess in ["a", "b", "c"]:
        log_in(client, password=guess, ip="203.0.113.9")
    pass_second_factor(client, supervisor)
    for name in ["accessfailurelog", "accessattempt"]:
        r = client.get(reverse(f"admin:axes_{name}_changelist"))
        assert r.status_code == 200 and "203.0.113.9" in r.content.decode()
    pass_second_factor(client, agent)
    assert client.get(reverse("admin:axes_accessfailurelog_changelist")).status_code == 403


def test_the_second_factor_pages_satisfy_the_content_security_policy(client, agent, required):
    log_in(client)
    pages = [client.get(ENROL)]
    device = TOTPDevice.objects.get(user=agent)
    pages.append(client.post(ENROL, {"code": code_for(device)}))
    pages += [client.get(ENROL), client.get(reverse("admin:my_logins"))]
    client.logout()
    log_in(client)
    pages.append(client.get(VERIFY))
    for r in pages:
        assert r.status_code == 200
        assert inline_code(r.content.decode()) == []
        assert r.content.decode().count("<h1") == 1
