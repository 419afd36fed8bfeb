"""The queue's quick views: one click each for the lists agents work from."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tickets.models import Status

# (label, query parameters). Each is a combination of the queue's own filters.
VIEWS = [
    (_("Mis tickets"), {"asignado": "yo"}),
    (_("Sin asignar"), {"asignado": "nadie"}),
    (_("Vencidos"), {"vencido": "si"}),
    (_("Esperando al solicitante"), {"estado": Status.ANSWERED.value}),
    (_("Todos los abiertos"), {}),
]
# The parameters that choose a view; any other (search, order, page) is not one.
VIEW_PARAMS = {"asignado", "vencido", "estado"}


def links(request) -> list[dict]:
    base = reverse("admin:tickets_ticket_changelist")
    chosen = {k: v for k, v in request.GET.items() if k in VIEW_PARAMS}
    if chosen.get("estado") == "abiertos":
        del chosen["estado"]
    out = []
    for label, params in VIEWS:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        out.append(
            {
                "label": label,
                "url": f"{base}?{query}" if query else base,
                "current": chosen == params and not request.GET.get("q"),
            }
        )
    return out
