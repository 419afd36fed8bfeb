"""The queue and the ticket page. Every change goes through the Ticket verbs."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Q, Subquery
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tickets import search, tracking
from tickets.addresses import display_address
from tickets.data_requests import record_access
from tickets.models import MAX_POSITIVE_INT, Priority, Rating, Status, Ticket, user_label
from tickets.models.ticket import FINISHED_STATUSES

from . import callers, conversation, merge, queue_page, queue_views, reports
from .filters import AssigneeFilter, OverdueFilter, ReferenceFilter, StatusFilter
from .forms import EDITABLE_FIELDS, TicketActionForm, TicketForm
from .paginator import EstimatedCountPaginator
from .queue_table import html, short_datetime

# Django's own message, translated by Django's catalogue: held in a name so that
# makemessages does not copy it, untranslated, into ours.
DJANGO_ACTION_LABEL = "Select this object for an action - {}"


# What the queue's columns (TicketAdmin.list_display), its deadlines and its selection
# boxes read of a ticket; a column that needs another must add it here, or each row
# would load it with a query of its own (the queue's query-count tests say so).
PAGE_FIELDS = (
    "number",
    "tracking_id",
    "subject",
    "name",
    "email",
    "status",
    "priority",
    "updated_at",
    "staff_due_at",
    "region__name",
    "region__code",
    "region__holiday_subdiv",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


class QueueChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # A message can be 20,000 characters; a page of 50 needs none of them.
        q = super().get_queryset(request, exclude_parameters).defer("message")
        # The latest resolution's score, in the page's one query (a subquery per row
        # of 50, on the rating's unique index).
        latest = Rating.objects.filter(ticket=OuterRef("pk")).order_by("-resolved_at")
        return q.annotate(rating_score=Subquery(latest.values("score")[:1]))

    def get_results(self, request):
        # The page reads only what its columns show: a third of the row's columns, and
        # building and digesting (queue_page.py) fifty rows was a fifth of the page. Only
        # for the page: actions and the export read the queryset as it was.
        full = self.queryset
        self.queryset = full.only(*PAGE_FIELDS)
        try:
            super().get_results(request)
        finally:
            self.queryset = full
        self.result_list = list(self.result_list)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    # --- the queue ------------------------------------------------------------------
    # What fits at 1,280 px (issue 14): the category is a filter and on the ticket page,
    # the creation date is the number's order.
    list_display = (
        "reference",
        "subject_text",
        "requester",
        "region_code",
        "status_chip",
        "priority",
        "assignee_name",
        "deadline",
        "updated",
        "rating",
    )
    list_display_links = ("reference",)
    list_filter = (
        StatusFilter,
        "priority",
        ("category", ReferenceFilter),
        ("region", ReferenceFilter),
        AssigneeFilter,
        OverdueFilter,
    )
    # No column shows the category (it is a filter): its join would only cost.
    list_select_related = ("region", "assignee")
    list_per_page = 50
    list_max_show_all = 200
    # The number is unique and increases with creation, so "newest first" needs
    # no tie-breaker column and walks the number's own index.
    ordering = ("-number",)
    # get_search_results below decides which columns a term is looked for in.
    search_fields = ("name",)
    search_help_text = _(
        "ID de seguimiento (con o sin guiones), número de ticket o de proyecto, e-mail completo, "
        "o parte del nombre o del mensaje. Una o dos letras buscan el comienzo de una palabra: "
        "«pe» encuentra «Pérez», no «López»."
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    actions = ("assign_to_me", "set_status", "set_priority", "mark_resolved", "merge_selected")
    action_form = TicketActionForm

    # --- the ticket page --------------------------------------------------------------
    form = TicketForm
    readonly_fields = (
        "number",
        "tracking_id",
        "name",
        "requester_email",
        "project_number",
        "region",
        "ip_address",
        "created_at",
        "channel",
        "merged_info",
        "message",
        "original_files",
        "staff_due_at",
        "requester_due_at",
        "awaiting_information",
        "updated_at",
        "closed_at",
        "ratings",
    )
    fieldsets = (
        (
            _("Lo que escribió el solicitante"),
            {
                "fields": (
                    ("number", "tracking_id"),
                    ("name", "requester_email"),
                    ("region", "project_number"),
                    ("created_at", "channel"),
                    ("ip_address", "merged_info"),
                    "message",
                    "original_files",
                )
            },
        ),
        (_("Gestión"), {"fields": EDITABLE_FIELDS}),
        (
            _("Plazos"),
            {
                "fields": (
                    ("staff_due_at", "requester_due_at"),
                    "awaiting_information",
                    ("updated_at", "closed_at"),
                )
            },
        ),
        (_("Satisfacción del solicitante"), {"fields": ("ratings",)}),
    )

    class Media:
        css = {"all": ("css/admin-tickets.css",)}
        js = ("js/admin-canned-responses.js",)

    # --- columns -----------------------------------------------------------------------
    # Written with queue_table's html() and short_datetime(): each runs 50 times a page.
    def action_checkbox(self, ticket):
        """Django's markup for the selection box, written out instead of rendered.

        Django renders a CheckboxInput through the form-widget templates: fifty
        template renders a page, a sixth of the queue's CPU time (benchmarks/RESULTS.md).
        """
        label = html(gettext(DJANGO_ACTION_LABEL), str(ticket))
        return html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            ticket.pk,
            label,
        )

    @admin.display(description=_("ticket"), ordering="number")
    def reference(self, ticket):
        return html(
            '<span class="ticket-ref">#{}<br><span class="ticket-id">{}</span></span>',
            ticket.number,
            ticket.tracking_id,
        )

    @admin.display(description=_("asunto"))
    def subject_text(self, ticket):
        # The full subject as a tooltip; the cell itself is cut by CSS to two lines.
        return html(
            '<span class="ticket-subject" title="{}">{}</span>', ticket.subject, ticket.subject
        )

    @admin.display(description=_("región"), ordering="region__position")
    def region_code(self, ticket):
        return html('<abbr title="{}">{}</abbr>', ticket.region.name, ticket.region.code)

    @admin.display(description=_("estado"), ordering="status")
    def status_chip(self, ticket):
        return html(
            '<span class="status-chip status-{}">{}</span>',
            ticket.status,
            # Not get_status_display(), which builds a dict of the choices on every row.
            Status(ticket.status).label,
        )

    @admin.display(description=_("actualizado"), ordering="updated_at")
    def updated(self, ticket):
        return short_datetime(ticket.updated_at)

    @admin.display(description=_("solicitante"), ordering="name")
    def requester(self, ticket):
        return html(
            '{}<br><span class="ticket-email">{}</span>', ticket.name, display_address(ticket.email)
        )

    @admin.display(description=Ticket._meta.get_field("email").verbose_name)
    def requester_email(self, ticket):
        return display_address(ticket.email)

    @admin.display(description=_("asignado a"), ordering="assignee__first_name")
    def assignee_name(self, ticket):
        if ticket.assignee is None:
            return None
        return user_label(ticket.assignee)

    # Tickets with no deadline (waiting on the requester, parked) go last on every database.
    @admin.display(
        description=_("plazo de respuesta"), ordering=F("staff_due_at").asc(nulls_last=True)
    )
    def deadline(self, ticket):
        if ticket.staff_due_at is None:
            return None
        when = short_datetime(ticket.staff_due_at)
        text = getattr(ticket, "deadline_text", None) or when
        if getattr(ticket, "deadline_overdue", ticket.is_overdue):
            # A word as well as a colour, so the marker survives a screen reader and a grey screen.
            return html('<strong class="overdue" title="{}">{}</strong>', when, text)
        return html('<span title="{}">{}</span>', when, text)

    @admin.display(description=_("calificación"), ordering="rating_score")
    def rating(self, ticket):
        score = getattr(ticket, "rating_score", None)
        if score is None:
            return None
        return html('<span class="rating-score">{}/5</span>', score)

    @admin.display(description=_("calificaciones"))
    def ratings(self, ticket):
        """Each resolution's rating, newest first, with the requester's comment."""
        rows = Rating.of(ticket)
        return format_html_join(
            mark_safe("<br>"),  # nosec B308  # a constant tag; the values are escaped
            "<strong>{}/5</strong> · {} · {} {}",
            (
                (
                    r.score,
                    r.get_score_display(),
                    date_format(timezone.localtime(r.resolved_at), "SHORT_DATETIME_FORMAT"),
                    f"— «{r.comment}»" if r.comment else "",
                )
                for r in rows
            ),
        ) or _("Sin calificación")

    @admin.display(description=_("adjuntos del ticket"))
    def original_files(self, ticket):
        # The page's conversation has already loaded them (conversation_context).
        files = getattr(ticket, "original_files_loaded", None)
        if files is None:
            files = ticket.attachments.filter(reply=None)
        return format_html_join(
            mark_safe("<br>"),  # nosec B308  # a constant tag; the names are escaped by format_html_join
            '<a href="{}">{}</a>',
            (
                (
                    reverse("admin:tickets_ticket_attachment", args=[ticket.pk, f.pk]),
                    f.original_name,
                )
                for f in files
            ),
        ) or _("Sin adjuntos")

    @admin.display(description=_("fusión"))
    def merged_info(self, ticket):
        # Tickets merged into this one are in its history ("Ticket fusionado").
        if not ticket.merged_into_id:
            return "—"
        return format_html(
            '{} <a href="{}">#{} {}</a>',
            _("Fusionado en"),
            reverse("admin:tickets_ticket_change", args=[ticket.merged_into_id]),
            ticket.merged_into.number,
            ticket.merged_into.tracking_id,
        )

    def get_object(self, request, object_id, from_field=None):
        # What the page shows of the ticket's relations, in the query that fetches it.
        queryset = Rating.folded_into(
            self.get_queryset(request).select_related("region", "merged_into")
        )
        field = (
            self.model._meta.pk if from_field is None else self.model._meta.get_field(from_field)
        )
        try:
            object_id = field.to_python(object_id)
            return queryset.get(**{field.name: object_id})
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return None

    # --- search --------------------------------------------------------------------------
    def get_search_results(self, request, queryset, search_term):
        """One indexed equality for IDs, numbers and addresses; the trigram index for words."""
        term = " ".join(search_term.split())
        if not term:
            return queryset, False
        tracking_id = tracking.normalize(term)
        # Some names ("samuel meza") have a tracking ID's shape: only an existing ID wins.
        if tracking_id and queryset.filter(tracking_id=tracking_id).exists():
            return queryset.filter(tracking_id=tracking_id), False
        digits = term.lstrip("#").replace(".", "")
        if digits.isdigit():
            n = int(digits)
            if n > MAX_POSITIVE_INT:
                return queryset.none(), False
            return queryset.filter(Q(number=n) | Q(project_number=n)), False
        if "@" in term and " " not in term:
            # Addresses are stored lower-cased (the public forms do it), so this is an index look-up.
            return queryset.filter(email=term.lower()), False
        return search.search_text(queryset, term), False

    # --- bulk actions (each ticket through its verb, so history and e-mails follow) ------------
    @admin.action(description=_("Asignarme los tickets seleccionados"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        count = sum(t.change(user=request.user, assignee=request.user) for t in queryset)
        msg = ngettext(
            "%(count)d ticket asignado a usted.", "%(count)d tickets asignados a usted.", count
        )
        self.message_user(request, msg % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Cambiar el estado al elegido"), permissions=["change"])
    def set_status(self, request, queryset):
        new = request.POST.get("new_status", "")
        if new not in Status.values:
            self.message_user(
                request, _("Elija el estado nuevo en la lista «Estado»."), messages.WARNING
            )
            return
        count = sum(t.change(user=request.user, status=new) for t in queryset)
        msg = ngettext(
            "%(count)d ticket cambió de estado.", "%(count)d tickets cambiaron de estado.", count
        )
        self.message_user(request, msg % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Cambiar la prioridad a la elegida"), permissions=["change"])
    def set_priority(self, request, queryset):
        new = request.POST.get("new_priority", "")
        if not new.isdigit() or int(new) not in Priority.values:
            self.message_user(
                request, _("Elija la prioridad nueva en la lista «Prioridad»."), messages.WARNING
            )
            return
        count = sum(t.change(user=request.user, priority=int(new)) for t in queryset)
        msg = ngettext(
            "%(count)d ticket cambió de prioridad.",
            "%(count)d tickets cambiaron de prioridad.",
            count,
        )
        self.message_user(request, msg % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Marcar como Resuelto"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        count = 0
        for t in queryset.exclude(status__in=FINISHED_STATUSES):
            t.mark_resolved(user=request.user)
            count += 1
        msg = ngettext(
            "%(count)d ticket marcado como Resuelto.",
            "%(count)d tickets marcados como Resuelto.",
            count,
        )
        self.message_user(request, msg % {"count": count}, messages.SUCCESS)

    @admin.action(
        description=_("Fusionar los seleccionados en otro ticket…"), permissions=["change"]
    )
    def merge_selected(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(reverse("admin:tickets_ticket_merge") + f"?ids={ids}")

    # --- permissions ------------------------------------------------------------------------
    def add_view(self, request, form_url="", extra_context=None):
        # "Añadir ticket" is a ticket for a caller: the public form's fields, through Ticket.open.
        return callers.caller_view(self, request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    # --- the ticket page ----------------------------------------------------------------------
    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def changelist_view(self, request, extra_context=None):
        # The export links carry the page's filters; only supervisors may export.
        ctx = {
            "title": _("Cola de tickets"),
            "quick_views": queue_views.links(request),
            "can_export": reports.is_supervisor(request),
        }
        response = super().changelist_view(request, {**ctx, **(extra_context or {})})
        return queue_page.kept(request, response)

    def get_urls(self):
        def wrap(view):
            def wrapper(request, *args, **kwargs):
                return view(self, request, *args, **kwargs)

            return self.admin_site.admin_view(wrapper)

        # Before the defaults, whose "<path:object_id>/" would swallow them.
        return [
            path(
                "<int:object_id>/imprimir/",
                wrap(conversation.print_view),
                name="tickets_ticket_print",
            ),
            path("fusionar/", wrap(merge.merge_view), name="tickets_ticket_merge"),
            path(
                "<int:object_id>/adjunto/<int:pk>/",
                wrap(conversation.attachment_view),
                name="tickets_ticket_attachment",
            ),
            path("informes/", wrap(reports.report_view), name="tickets_ticket_report"),
            path(
                "informes/exportar.<str:fmt>",
                wrap(reports.report_export_view),
                name="tickets_ticket_report_export",
            ),
            path(
                "exportar.<str:fmt>", wrap(reports.queue_export_view), name="tickets_ticket_export"
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The ticket page; each GET that shows a ticket is one row of its access log."""
        response = super().change_view(request, object_id, form_url, extra_context)
        ticket = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and response.status_code == 200 and ticket is not None:
            record_access(request, ticket, "admin_view")
            if request.user.has_perm("tickets.view_accesslog"):
                # The response is rendered after this returns, so the link still reaches the template.
                url = (
                    reverse("admin:tickets_accesslog_changelist")
                    + f"?ticket__id__exact={ticket.pk}"
                )
                response.context_data["access_log_url"] = url
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            form = context["adminform"].form
            context.update(conversation.conversation_context(request, obj, form))
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    def save_model(self, request, obj, form, change):
        """The one send: the reply and the changed fields through ``Ticket.send``."""
        d = form.cleaned_data
        fields = conversation.changes_for_send(request, form)
        # The form has already copied the new values onto obj; the verb must compare
        # against what is stored, so it works on a fresh copy.
        ticket = Ticket.objects.get(pk=obj.pk)
        reply, changed = ticket.send(
            user=request.user,
            message=d.get("reply_message", ""),
            kind=d.get("reply_kind") or "public",
            files=d.get("reply_files") or (),
            **fields,
        )
        request._ticket_sent = conversation.send_message(
            ticket, reply, changed, fields, d.get("reply_kind")
        )

    def response_change(self, request, obj):
        messages.success(request, getattr(request, "_ticket_sent", ""))
        return redirect(conversation.change_url(obj.pk) + "#conversacion")
