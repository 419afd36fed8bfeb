"""The queue's filters. Each one is a single indexed condition, so combining them stays cheap."""

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets import reference_choices
from tickets.models import Status, user_label
from tickets.models.ticket import OPEN_STATUSES

from .forms import staff_users


class StatusFilter(admin.SimpleListFilter):
    """Open tickets unless the agent asks otherwise: the queue is the work still to do."""

    title = _("estado")
    parameter_name = "estado"
    OPEN = "abiertos"
    ALL = "todos"

    def lookups(self, request, model_admin):
        return [(self.OPEN, _("Abiertos")), *Status.choices, (self.ALL, _("Todos"))]

    def value(self):
        chosen = super().value()
        if chosen in (self.OPEN, self.ALL, *Status.values):
            return chosen
        # Someone searching for a tracking ID or an address means any ticket, closed ones too.
        return self.ALL if self.request.GET.get("q", "").strip() else self.OPEN

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        if value in Status.values:
            return queryset.filter(status=value)
        return queryset

    def choices(self, changelist):
        # No Django "Todos" entry on top: ours is explicit, and the default is "Abiertos".
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class ReferenceFilter(admin.RelatedFieldListFilter):
    """Django's filter on a category or a region, its list from the process's cache."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        q = field.related_model._default_manager.all()
        return reference_choices.choices(q.order_by(*ordering) if ordering else q, variant="filter")


class AssigneeFilter(admin.SimpleListFilter):
    title = _("asignado a")
    parameter_name = "asignado"
    MINE = "yo"
    NOBODY = "nadie"

    def lookups(self, request, model_admin):
        staff = reference_choices.choices(staff_users(), variant="assignee", label=user_label)
        people = [(str(pk), label) for pk, label in staff]
        return [(self.MINE, _("Mis tickets")), (self.NOBODY, _("Sin asignar")), *people]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.MINE:
            return queryset.filter(assignee=request.user)
        if value == self.NOBODY:
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    """Past the response deadline. Finished tickets and those waiting on the requester have none."""

    title = _("plazo de respuesta")
    parameter_name = "vencido"

    def lookups(self, request, model_admin):
        return [("si", _("Vencido")), ("no", _("Dentro del plazo"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "si":
            return queryset.filter(staff_due_at__lt=now)
        if self.value() == "no":
            return queryset.filter(Q(staff_due_at__gte=now) | Q(staff_due_at__isnull=True))
        return queryset
