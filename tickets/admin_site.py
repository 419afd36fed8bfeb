"""The admin site: Django's, asking staff for their second factor before it opens.

A password alone signs a staff user in, but while a second factor is due
(``staff_auth.second_factor_due``) the site grants nothing: every admin page sends
them to the code page, or to enrolment when STAFF_REQUIRE_2FA is on and they have
no authenticator yet.
"""

import hashlib
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import get_script_prefix, path, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language

from tickets import reference_choices, staff_auth
from tickets.views import staff as staff_views


def _as_text(value):
    """The app list with its lazy translations made text, in the language of its key: the
    cache pickles what it keeps, and lazy translations do not pickle."""
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return str(value) if isinstance(value, Promise) else value


def who(user) -> tuple:
    """What a staff page shown to ``user`` depends on about them: pages kept per agent
    (the app list, the queue) are kept under this. A superuser's permissions are all
    of them, and asking for them would be one query more."""
    perms = () if user.is_superuser else tuple(sorted(user.get_all_permissions()))
    return (
        user.pk,
        user.get_username(),
        user.get_full_name(),
        user.is_active,
        user.is_staff,
        user.is_superuser,
        perms,
    )


class StaffAdminSite(admin.AdminSite):
    def get_app_list(self, request: HttpRequest, app_label=None) -> list:
        """Django's app list, kept per agent and language for the reference lists' time.

        Every admin page's side bar asks each registered model's admin for its
        permissions (and the privacy notice's admin asks the database whether a notice
        exists, connected to ``reference_choices.forget``).
        """
        if app_label is not None or not request.user.is_authenticated:
            return super().get_app_list(request, app_label)
        state = (who(request.user), get_language(), get_script_prefix())
        key = "app-list:" + hashlib.blake2b(repr(state).encode(), digest_size=20).hexdigest()
        key += f":{reference_choices.generation()}"
        apps = reference_choices.fragments.get(key)
        if apps is None:
            apps = _as_text(super().get_app_list(request))
            reference_choices.fragments.set(key, apps, reference_choices.CHOICES_SECONDS)
        return apps

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not staff_auth.second_factor_due(request)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        response = super().login(request, extra_context)
        if request.user.is_active and staff_auth.second_factor_due(request):
            target = (
                "admin:second_factor_verify"
                if staff_auth.has_second_factor(request.user)
                else "admin:second_factor"
            )
            query = urlencode({"next": request.POST.get("next") or request.GET.get("next", "")})
            return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return response

    def get_urls(self):
        staff = staff_views.staff_only
        return [
            # /<ADMIN_URL>doble-factor/… : the second factor; reachable before it is passed
            path(
                "doble-factor/",
                staff(self, staff_views.second_factor),
                name="second_factor",
            ),
            path(
                "doble-factor/verificar/",
                staff(self, staff_views.verify),
                name="second_factor_verify",
            ),
            path(
                "doble-factor/salir/",
                staff(self, staff_views.sign_out),
                name="second_factor_sign_out",
            ),
            # /<ADMIN_URL>mis-ingresos/ : one's own recent sign-ins
            path("mis-ingresos/", self.admin_view(staff_views.my_logins(self)), name="my_logins"),
            *super().get_urls(),
        ]
