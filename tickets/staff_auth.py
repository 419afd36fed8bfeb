"""Staff sign-in: the second factor, its recovery codes, and the lock-out that counts wrong codes.

The devices are django-otp's: one authenticator app (TOTP) and one set of ten
one-time recovery codes per user. A staff user who has enrolled is asked for a code
after the password on every sign-in; with STAFF_REQUIRE_2FA every staff user must
enrol before the admin opens. Wrong codes are reported to django-axes as failed
log-ins, so they count towards the same lock-out (per username and IP) as wrong
passwords do.
"""

import base64
import re
import secrets

import qrcode
import qrcode.image.svg
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tickets.models import SecondFactorReset

RECOVERY_CODE_COUNT = 10
# Alphabet of the recovery codes: no 0/O, 1/I/L to misread on paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# Device names are internal (django-otp's); people see the translated words in the templates.
APP_DEVICE = "app"
CODES_DEVICE = "recovery"


# --- who owes what --------------------------------------------------------------------
def has_second_factor(user: AbstractBaseUser) -> bool:
    """The user has a confirmed authenticator app."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_due(request: HttpRequest) -> bool:
    """A signed-in staff user whose session has not yet passed the second factor, and must.

    Asked several times per admin request (the admin's has_permission), so kept on the
    request, for the user it was asked about (a log-in changes the user mid-request).
    """
    user = request.user
    cached = getattr(request, "_second_factor_due", None)
    if cached is None or cached[0] != user.pk:
        # Right after login() the user has not been through OTPMiddleware: not verified.
        is_verified = getattr(user, "is_verified", None)
        due = (
            user.is_authenticated
            and user.is_staff
            and not (is_verified and is_verified())
            and (settings.STAFF_REQUIRE_2FA or has_second_factor(user))
        )
        cached = request._second_factor_due = (user.pk, due)
    return cached[1]


# --- enrolment ------------------------------------------------------------------------
def pending_app_device(user: AbstractBaseUser) -> TOTPDevice:
    """The not-yet-confirmed authenticator for the enrolment page: the same secret on
    every visit until a code confirms it, so a reload does not break a half-done scan."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=APP_DEVICE).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_code_data_uri(text: str) -> str:
    """``text`` as an SVG QR code in a data: URI (allowed by the CSP's img-src, no script)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def confirm_app_device(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """The first code from the app confirms it: the session counts as verified and the
    user gets fresh recovery codes (returned, shown once, never stored in clear elsewhere)."""
    if not device.verify_token(normalize_code(code)):
        return None
    with transaction.atomic():
        # Any earlier app stops working: one phone per person.
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(device.user)
    otp_login(request, device)
    clear_failures(request)
    return codes


def new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Ten new one-time codes; the previous ones stop working."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=CODES_DEVICE, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def recovery_codes_left(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- signing in -----------------------------------------------------------------------
def normalize_code(code: str) -> str:
    """People type codes with spaces and dashes ("123 456", "abcde-fghjk"), any case."""
    return re.sub(r"[\s-]+", "", code).lower()


class Throttled(Exception):
    """django-otp makes a device wait after each wrong code (1 s, 2 s, 4 s…), across
    every IP: the per-IP lock-out alone would let a botnet guess on."""


def check_code(request: HttpRequest, code: str) -> Device | None:
    """The confirmed device that ``code`` is valid for, or None; Throttled while the
    device waits. Six digits go to the app, anything else to the recovery codes, so a
    mistyped app code does not slow down the recovery codes, nor the other way round."""
    code = normalize_code(code)
    kind = TOTPDevice if re.fullmatch(r"\d{6}", code) else StaticDevice
    devices = list(kind.objects.filter(user=request.user, confirmed=True))
    if devices and not any(d.verify_is_allowed()[0] for d in devices):
        raise Throttled
    for device in devices:
        if device.verify_token(code):
            return device
    return None


def pass_second_factor(request: HttpRequest, device: Device) -> None:
    otp_login(request, device)
    clear_failures(request)


def credentials_of(request: HttpRequest) -> dict:
    return get_credentials(request.user.get_username())


def count_failure(request: HttpRequest) -> bool:
    """Report a wrong code as a failed log-in; True once that locks this user and IP out."""
    user_login_failed.send(sender=__name__, credentials=credentials_of(request), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def locked_out(request: HttpRequest) -> bool:
    return settings.AXES_ENABLED and AxesProxyHandler.is_locked(request, credentials_of(request))


def clear_failures(request: HttpRequest) -> None:
    """The whole sign-in succeeded: earlier typos no longer add up."""
    if settings.AXES_ENABLED:
        AxesProxyHandler.update_request(request)
        handler = AxesProxyHandler.get_implementation()
        if isinstance(handler, AxesDatabaseHandler):
            handler.reset_user_attempts(request, credentials_of(request))


class StaffAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler, which resets the failure count only when the
    sign-in is complete: after the password when no second factor is due, else after
    the code (``clear_failures``)."""

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        if not (user.is_staff and (settings.STAFF_REQUIRE_2FA or has_second_factor(user))):
            self.reset_user_attempts(request, get_credentials(user.get_username()))


# --- a lost phone -----------------------------------------------------------------------
def reset_second_factor(user: AbstractBaseUser, *, by: AbstractBaseUser) -> SecondFactorReset:
    """Remove ``user``'s app and recovery codes; the record also ends their sessions."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        return SecondFactorReset.objects.create(user=user, reset_by=by)
