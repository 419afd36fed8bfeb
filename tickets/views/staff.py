"""The staff's own security pages in the admin: the second factor and recent sign-ins.

``verify`` and ``second_factor`` open before the second factor is passed (they are
how it is passed), for signed-in active staff only; ``my_logins`` is an ordinary
admin page. The rules themselves are in tickets/staff_auth.py.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from axes.helpers import get_lockout_response
from axes.models import AccessFailureLog, AccessLog
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from tickets import staff_auth

RECENT_LOGINS = 30


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Código"),
        max_length=32,
        help_text=_(
            "Los 6 dígitos que muestra su aplicación de autenticación, o uno de sus códigos de recuperación."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrolForm(CodeForm):
    code = forms.CharField(
        label=_("Código de la aplicación"),
        max_length=32,
        help_text=_("Los 6 dígitos que muestra ahora la aplicación para esta cuenta."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def staff_only(site, view):
    """Signed-in, active staff, whether or not they have passed the second factor."""

    @functools.wraps(view)
    @never_cache
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, site, *args, **kwargs)

    return wrapped


def next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def with_next(name: str, request: HttpRequest) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url(request)})}"


def lock_out(request: HttpRequest) -> HttpResponse:
    """django-axes' lock-out page; the half-signed-in session ends with it."""
    credentials = staff_auth.credentials_of(request)
    logout(request)
    return get_lockout_response(request, None, credentials)


def verify(request: HttpRequest, site) -> HttpResponse:
    """The second step of signing in: a code from the app, or a recovery code."""
    if not staff_auth.second_factor_due(request):
        return HttpResponseRedirect(next_url(request))
    if not staff_auth.has_second_factor(request.user):
        return HttpResponseRedirect(with_next("admin:second_factor", request))
    if request.method == "POST" and staff_auth.locked_out(request):
        return lock_out(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = staff_auth.check_code(request, form.cleaned_data["code"])
        except staff_auth.Throttled:
            form.add_error(
                "code",
                gettext(
                    "Hubo varios códigos incorrectos seguidos: espere unos segundos y vuelva a intentarlo."
                ),
            )
        else:
            if device is not None:
                staff_auth.pass_second_factor(request, device)
                if isinstance(device, StaticDevice):
                    left = staff_auth.recovery_codes_left(request.user)
                    messages.warning(
                        request,
                        ngettext(
                            "Usó un código de recuperación: le queda %(left)d. Genere códigos nuevos en «Doble factor».",
                            "Usó un código de recuperación: le quedan %(left)d. Genere códigos nuevos en «Doble factor» si le quedan pocos.",
                            left,
                        )
                        % {"left": left},
                    )
                return HttpResponseRedirect(next_url(request))
            if staff_auth.count_failure(request):
                return lock_out(request)
            form.add_error(
                "code",
                gettext(
                    "El código no es válido. Revise que la hora de su teléfono sea la correcta, "
                    "o use uno de sus códigos de recuperación."
                ),
            )
    ctx = {
        **site.each_context(request),
        "title": gettext("Verificación en dos pasos"),
        "form": form,
        "next": next_url(request),
    }
    return TemplateResponse(request, "admin/staff/verify.html", ctx)


def second_factor(request: HttpRequest, site) -> HttpResponse:
    """Enrolment (QR code and secret, then a first code), or, once enrolled and
    verified, the state of one's second factor and new recovery codes."""
    user = request.user
    enrolled = staff_auth.has_second_factor(user)
    if enrolled and not user.is_verified():
        return HttpResponseRedirect(with_next("admin:second_factor_verify", request))
    ctx = {**site.each_context(request), "next": next_url(request)}
    if enrolled:
        if request.method == "POST":
            ctx["codes"] = staff_auth.new_recovery_codes(user)
            ctx["title"] = gettext("Sus códigos de recuperación")
            return TemplateResponse(request, "admin/staff/recovery_codes.html", ctx)
        ctx["title"] = gettext("Doble factor")
        ctx["codes_left"] = staff_auth.recovery_codes_left(user)
        return TemplateResponse(request, "admin/staff/second_factor.html", ctx)

    device = staff_auth.pending_app_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = staff_auth.confirm_app_device(request, device, form.cleaned_data["code"])
        if codes is not None:
            ctx["codes"] = codes
            ctx["title"] = gettext("Sus códigos de recuperación")
            ctx["just_enrolled"] = True
            return TemplateResponse(request, "admin/staff/recovery_codes.html", ctx)
        form.add_error(
            "code",
            gettext(
                "El código no coincide. Escanee el código QR de nuevo, o espere el código siguiente "
                "y escríbalo."
            ),
        )
    ctx.update(
        title=gettext("Active la verificación en dos pasos"),
        form=form,
        qr_code=staff_auth.qr_code_data_uri(device.config_url),
        secret=staff_auth.secret_text(device),
    )
    return TemplateResponse(request, "admin/staff/enrol.html", ctx)


@require_POST
def sign_out(request: HttpRequest, site) -> HttpResponse:
    """Log out before the second factor is passed (the admin's own log-out then refuses)."""
    logout(request)
    return HttpResponseRedirect(reverse("admin:login"))


@dataclass(frozen=True)
class SignIn:
    at: datetime
    ip_address: str
    succeeded: bool
    locked_out: bool = False


def my_logins(site):
    def view(request: HttpRequest) -> HttpResponse:
        username = request.user.get_username()
        succeeded = AccessLog.objects.filter(username=username).order_by("-attempt_time")
        failed = AccessFailureLog.objects.filter(username=username).order_by("-attempt_time")
        rows = [SignIn(a.attempt_time, a.ip_address or "", True) for a in succeeded[:RECENT_LOGINS]]
        rows += [
            SignIn(f.attempt_time, f.ip_address or "", False, f.locked_out)
            for f in failed[:RECENT_LOGINS]
        ]
        rows.sort(key=lambda r: r.at, reverse=True)
        ctx = {
            **site.each_context(request),
            "title": gettext("Mis ingresos recientes"),
            "rows": rows[:RECENT_LOGINS],
        }
        return TemplateResponse(request, "admin/staff/my_logins.html", ctx)

    return view
