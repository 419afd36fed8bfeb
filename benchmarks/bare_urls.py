"""One view returning HttpResponse("ok"): see benchmarks/bare_settings.py."""

from django.http import HttpResponse
from django.urls import path


def ok(request):
    return HttpResponse("ok")


urlpatterns = [path("", ok)]
