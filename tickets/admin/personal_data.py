"""Ley 21.719 in admin: the privacy notice, data-subject requests, the access log.

Permissions come from migration 0004_privacy: supervisors edit the notice, carry
out requests (add a DataRequest) and read the access log; agents see none of it.
"""

import io

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tickets import data_requests, tracking
from tickets.addresses import check_address, display_address, display_domain, normalize_email
from tickets.models import MAX_POSITIVE_INT, AccessLog, DataRequest, PrivacyNotice, user_label
from tickets.models.personal_data import address_fingerprint
from tickets.text import single_line

from .paginator import EstimatedCountPaginator
from .wording import SpanishMessagesMixin

Action = DataRequest.Action


# --- the privacy notice ----------------------------------------------------------------------
@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(SpanishMessagesMixin, admin.ModelAdmin):
    """One current notice: edited in place, never deleted, added only if none exists."""

    fields = ("title", "body", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")
    list_display = ("title", "updated_at", "updated_by")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not PrivacyNotice.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


# --- data-subject requests ----------------------------------------------------------------------
class DataRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail de la persona"),
        max_length=254,
        help_text=_("La dirección con que envió sus tickets. Mayúsculas y minúsculas dan igual."),
    )
    action = forms.ChoiceField(label=_("Acción"), choices=Action.choices, widget=forms.RadioSelect)
    new_name = forms.CharField(
        label=_("Nombre correcto"),
        max_length=100,
        required=False,
        help_text=_("Solo para rectificar; vacío si el nombre no cambia."),
    )
    new_email = forms.EmailField(
        label=_("E-mail correcto"),
        max_length=254,
        required=False,
        help_text=_("Solo para rectificar; vacío si la dirección no cambia."),
    )
    reference = forms.CharField(
        label=_("Referencia de la solicitud"),
        max_length=200,
        required=False,
        help_text=DataRequest._meta.get_field("reference").help_text,
    )
    confirm = forms.BooleanField(
        label=_(
            "Confirmo la supresión: los datos de estos tickets se borran y no se pueden recuperar."
        ),
        required=False,
    )

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean_new_email(self):
        # The address tickets will be stored under: the same check as the public form.
        return check_address(self.cleaned_data["new_email"])

    def clean_new_name(self):
        return single_line(self.cleaned_data["new_name"])

    def clean(self):
        d = super().clean()
        action, email = d.get("action"), d.get("email")
        if action == Action.RECTIFY and not (d.get("new_name") or d.get("new_email")):
            self.add_error(
                "new_name",
                gettext("Para rectificar, escriba el nombre correcto, el e-mail correcto o ambos."),
            )
        if action == Action.RECTIFY and email and d.get("new_email") == email:
            self.add_error("new_email", gettext("Es la misma dirección."))
        if action == Action.ERASE and email and not d.get("confirm"):
            n = data_requests.tickets_of(email).count()
            msg = ngettext(
                "Esta dirección tiene %(n)d ticket. Marque la confirmación para suprimir sus datos.",
                "Esta dirección tiene %(n)d tickets. Marque la confirmación para suprimir sus datos.",
                n,
            ) % {"n": n}
            self.add_error("confirm", msg)
        return d


@admin.register(DataRequest)
class DataRequestAdmin(SpanishMessagesMixin, admin.ModelAdmin):
    """The log of requests; "add" is the page where a supervisor carries one out."""

    list_display = ("created_at", "action", "address", "ticket_count", "by_name", "reference")
    list_filter = ("action", ("created_at", DateFieldListFilter))
    list_select_related = ("by",)
    search_fields = ("reference",)
    search_help_text = _(
        "E-mail completo (también encuentra las suprimidas) o parte de la referencia."
    )
    show_full_result_count = False
    fields = (
        "created_at",
        "action",
        "address",
        "email_sha256",
        "domain",
        "new_name",
        "new_address",
        "ticket_count",
        "details",
        "reference",
        "by_name",
    )
    readonly_fields = fields
    add_form_template = "admin/tickets/datarequest/add_form.html"

    @admin.display(description=_("e-mail"), ordering="email")
    def address(self, obj):
        if obj.email:
            return display_address(obj.email)
        return format_html(
            "…@{} <small>({})</small>",
            display_domain(obj.email_domain),
            gettext("suprimido: se guarda solo su SHA-256"),
        )

    @admin.display(description=DataRequest._meta.get_field("email_domain").verbose_name)
    def domain(self, obj):
        return display_domain(obj.email_domain)

    @admin.display(description=DataRequest._meta.get_field("new_email").verbose_name)
    def new_address(self, obj):
        return display_address(obj.new_email)

    @admin.display(description=_("realizada por"))
    def by_name(self, obj):
        return user_label(obj.by)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term and " " not in term:
            sha, _domain = address_fingerprint(term)
            q = Q(email__iexact=term) | Q(new_email__iexact=term) | Q(email_sha256=sha)
            return queryset.filter(q), False
        return super().get_search_results(request, queryset, search_term)

    # A record of what was done: nobody edits or deletes it.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DataRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self._carry_out(request, form.cleaned_data)
        ctx = {
            **self.admin_site.each_context(request),
            "title": gettext("Atender una solicitud de datos personales"),
            "opts": self.opts,
            "form": form,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.add_form_template, ctx)

    def _carry_out(self, request, d):
        email, by, reference = d["email"], request.user, d["reference"]
        changelist = reverse("admin:tickets_datarequest_changelist")
        if d["action"] == Action.EXPORT:
            row, data = data_requests.export(email, by=by, reference=reference)
            stamp = timezone.localtime(row.created_at).strftime("%Y%m%d-%H%M")
            response = FileResponse(
                io.BytesIO(data),
                as_attachment=True,
                filename=f"datos-personales-{stamp}-{row.pk}.zip",
                content_type="application/zip",
            )
            response["Cache-Control"] = "private, no-store"
            return response
        if d["action"] == Action.RECTIFY:
            row = data_requests.rectify(
                email,
                new_name=d["new_name"] or None,
                new_email=d["new_email"] or None,
                by=by,
                reference=reference,
            )
            msg = ngettext(
                "Se rectificó %(n)d ticket.", "Se rectificaron %(n)d tickets.", row.ticket_count
            )
        else:
            row = data_requests.erase(email, by=by, reference=reference)
            msg = ngettext(
                "Se anonimizó %(n)d ticket de la dirección.",
                "Se anonimizaron %(n)d tickets de la dirección.",
                row.ticket_count,
            )
        self.message_user(request, msg % {"n": row.ticket_count}, messages.SUCCESS)
        return redirect(changelist)


# --- the access log -------------------------------------------------------------------------------
@admin.register(AccessLog)
class AccessLogAdmin(SpanishMessagesMixin, admin.ModelAdmin):
    """Who opened which ticket: listed and filtered by supervisors, never written by hand."""

    list_display = ("created_at", "ticket_link", "kind", "user_name", "ip_address", "details")
    list_filter = ("kind", ("created_at", DateFieldListFilter))
    list_select_related = ("ticket", "user")
    # get_search_results below decides how a term is looked for.
    search_fields = ("ticket__tracking_id",)
    search_help_text = _("Número de ticket o ID de seguimiento (con o sin guiones).")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100
    fields = ("created_at", "ticket_link", "kind", "user_name", "ip_address", "details")
    readonly_fields = fields

    @admin.display(description=_("ticket"), ordering="ticket__number")
    def ticket_link(self, obj):
        if obj.ticket_id is None:  # an export: "details" says of what
            return "—"
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:tickets_ticket_change", args=[obj.ticket_id]),
            obj.ticket.number,
        )

    @admin.display(description=_("usuario"))
    def user_name(self, obj):
        if obj.user is None:
            return gettext("Público")
        return user_label(obj.user)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        tracking_id = tracking.normalize(term)
        if tracking_id:
            return queryset.filter(ticket__tracking_id=tracking_id), False
        digits = term.lstrip("#")
        if digits.isdigit() and int(digits) <= MAX_POSITIVE_INT:
            return queryset.filter(ticket__number=int(digits)), False
        return queryset.none(), False

    # Appended only: by record_access, never through admin.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
