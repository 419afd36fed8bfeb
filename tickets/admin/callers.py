"""Tickets for callers: staff open a ticket for someone who phoned, wrote or came in.

The public form's fields and checks (no captcha: staff are signed in), the channel
recorded, and the same ``Ticket.open`` verb, so the requester gets the confirmation
e-mail with the tracking ID and the ticket runs on the same clocks.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.forms import SubmitTicketForm
from tickets.models import Channel
from tickets.submission import submit_form


class CallerTicketForm(SubmitTicketForm):
    channel = forms.ChoiceField(
        label=_("Canal"),
        choices=[c for c in Channel.choices if c[0] != Channel.WEB],
        initial=Channel.PHONE,
        help_text=_("Cómo llegó el requerimiento a la mesa de ayuda."),
    )

    field_order = ["channel", "name", "email", "category", "region", "project_number", "message"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["captcha"]
        # The caller's data, typed by staff: no browser autofill of the agent's own.
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self.fields["name"].help_text = _("Nombre completo del solicitante.")
        self.fields["email"].help_text = _(
            "Su correo: recibirá la confirmación con el ID de seguimiento."
        )
        self.fields["message"].help_text = _("El requerimiento, en sus palabras.")


def caller_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    if request.method == "POST":
        form = CallerTicketForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                ticket = submit_form(
                    form.cleaned_data, language="es", channel=form.cleaned_data["channel"]
                )
            except ValidationError as exc:
                form.add_error("attachments", exc)
            else:
                messages.success(
                    request,
                    gettext(
                        "Ticket #%(number)s creado con el ID de seguimiento %(id)s. "
                        "El solicitante recibirá la confirmación por correo."
                    )
                    % {"number": ticket.number, "id": ticket.tracking_id},
                )
                return redirect(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    else:
        form = CallerTicketForm()
    opts = model_admin.model._meta
    ctx = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Nuevo ticket para un solicitante"),
        "opts": opts,
        "form": form,
        "errors": helpers.AdminErrorList(form, []),
        "media": model_admin.media + form.media,
    }
    status = 400 if form.is_bound else 200
    return TemplateResponse(request, "admin/tickets/ticket/caller_form.html", ctx, status=status)
