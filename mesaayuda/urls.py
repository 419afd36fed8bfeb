from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tickets import health
from tickets.views.limits import one_login_at_a_time

admin.site.site_header = settings.SITE_NAME
admin.site.site_title = settings.SITE_NAME
admin.site.index_title = "Gestión de tickets"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # Ahead of admin.site.urls, which serves the same address unguarded.
    path(f"{settings.ADMIN_URL}login/", one_login_at_a_time(admin.site.login)),
    # Before the admin: HESK's old addresses (ticket.php, admin/admin_ticket.php…) redirect.
    path("", include("tickets.views.hesk_links")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("captcha/", include("captcha.urls")),
    path("", include("tickets.urls")),
]

# Renders without the database, showing the pre-rendered regional contacts.
handler500 = "tickets.errors.server_error"
