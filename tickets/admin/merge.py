"""Merging duplicates: one or several tickets into a main one, each through ``Ticket.merge_into``."""

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tickets import tracking
from tickets.models import MAX_POSITIVE_INT, MergeError, Ticket


class MergeForm(forms.Form):
    main = forms.CharField(
        label=_("Ticket principal"),
        max_length=40,
        help_text=_(
            "Número o ID de seguimiento del ticket que continúa; los seleccionados pasan a ser parte de él."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    requesters_share = forms.BooleanField(
        required=False,
        label=_("Los solicitantes son personas distintas y pueden ver lo que escribió el otro"),
        help_text=_(
            "Solo hace falta si los correos no coinciden: el ID de seguimiento de cada uno "
            "mostrará la conversación completa, con los datos y adjuntos de ambos. Marque la "
            "casilla solo si trabajan juntos (la misma oficina o el mismo proyecto)."
        ),
    )

    def clean_main(self):
        term = self.cleaned_data["main"].strip().lstrip("#")
        q = Q(tracking_id=tracking.normalize(term)) if tracking.normalize(term) else Q(pk__in=[])
        if term.isdigit() and int(term) <= MAX_POSITIVE_INT:
            q |= Q(number=int(term))
        main = Ticket.objects.filter(q).first()
        if main is None:
            raise ValidationError(gettext("No hay un ticket con ese número o ID de seguimiento."))
        return main


def _selected(request):
    raw = request.POST.get("ids") or request.GET.get("ids", "")
    ids = [int(x) for x in raw.split(",") if x.strip().isdigit()][:200]
    return list(Ticket.objects.filter(pk__in=ids).order_by("number"))


def merge_view(model_admin, request):
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    duplicates = _selected(request)
    if not duplicates:
        messages.warning(request, gettext("Elija en la lista los tickets que quiere fusionar."))
        return redirect("admin:tickets_ticket_changelist")
    form = MergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        main = form.cleaned_data["main"]
        done, refused = 0, []
        for dup in duplicates:
            if dup.pk == main.pk:
                continue
            try:
                dup.merge_into(
                    main,
                    user=request.user,
                    requesters_share=form.cleaned_data["requesters_share"],
                )
            except MergeError as exc:
                refused.append(str(exc))
            else:
                done += 1
        if done:
            messages.success(
                request,
                ngettext(
                    "%(count)d ticket fusionado en #%(number)s.",
                    "%(count)d tickets fusionados en #%(number)s.",
                    done,
                )
                % {"count": done, "number": main.number},
            )
        for reason in refused:
            messages.error(request, reason)
        if done:
            return redirect(reverse("admin:tickets_ticket_change", args=[main.pk]))
        if not refused:
            form.add_error("main", gettext("Un ticket no se puede fusionar consigo mismo."))
        else:
            form.add_error("main", refused[0])
    ctx = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Fusionar tickets"),
        "opts": model_admin.model._meta,
        "form": form,
        "errors": helpers.AdminErrorList(form, []) if form.is_bound else [],
        "duplicates": duplicates,
        "ids": ",".join(str(t.pk) for t in duplicates),
    }
    status = 400 if form.is_bound else 200
    return TemplateResponse(request, "admin/tickets/ticket/merge_form.html", ctx, status=status)
