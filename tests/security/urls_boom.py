"""The site's URLs plus views that fail, to see what the public gets when something breaks."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import include, path

from mesaayuda import urls as site_urls


def boom(request):
    raise RuntimeError(
        f"fallo interno con datos sensibles {settings.SECRET_KEY} /srv/mesaayuda/tickets/views.py"
    )


def forbidden(request):
    raise PermissionDenied("motivo interno")


def suspicious(request):
    raise SuspiciousOperation("motivo interno")


urlpatterns = [
    path("boom/", boom),
    path("prohibido/", forbidden),
    path("sospechoso/", suspicious),
    path("", include(site_urls)),
]
handler500 = site_urls.handler500
