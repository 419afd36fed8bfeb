"""The admin site: Django's, asking staff for their second factor before it opens.

A password alone signs a staff user in, but while a second factor is due
(``staff_auth.second_factor_due``) the site grants nothing: every admin page sends
them to the code page, or to enrolment when STAFF_REQUIRE_2FA is on and they have
no authenticator yet.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse

from tickets import staff_auth
from tickets.views import staff as staff_views


class StaffAdminSite(admin.AdminSite):
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
