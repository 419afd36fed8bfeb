from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tickets import health

admin.site.site_header = "Mesa de Ayuda SIGEC"
admin.site.site_title = "Mesa de Ayuda SIGEC"
admin.site.index_title = "Gestión de tickets"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # Before the admin: HESK's old addresses (ticket.php, admin/admin_ticket.php…) redirect.
    path("", include("tickets.hesk_links")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("captcha/", include("captcha.urls")),
    path("", include("tickets.urls")),
]

# Renders without the database, showing the pre-rendered regional contacts.
handler500 = "tickets.errors.server_error"
