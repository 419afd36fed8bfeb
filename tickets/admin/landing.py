"""After signing in, staff land on the queue rather than on admin's list of tables."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse


def _land_on_the_queue(login):
    @wraps(login)
    def view(request, extra_context=None):
        # admin's login sends people to its index when no "next" was asked for; the
        # queue is where the help desk works (the index stays one click away).
        asked = REDIRECT_FIELD_NAME in request.GET or REDIRECT_FIELD_NAME in request.POST
        if request.method == "GET" and not asked and not request.user.is_authenticated:
            queue = reverse("admin:tickets_ticket_changelist")
            return redirect(f"{request.path}?{urlencode({REDIRECT_FIELD_NAME: queue})}")
        return login(request, extra_context)

    return view


# An attribute of the one AdminSite instance, replaced before its URLs are built
# (admin.autodiscover imports this package first), so the project's urls.py is untouched.
admin.site.login = _land_on_the_queue(admin.site.login)

# Admin's left-hand list of models takes 276 of the queue's 1,280 px; the breadcrumbs
# and the index reach the same pages.
admin.site.enable_nav_sidebar = False
