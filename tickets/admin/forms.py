"""Forms of the agent workspace: the ticket's editable fields, the reply box, the bulk-action bar."""

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from tickets import uploads
from tickets.forms import AttachmentsMixin, MultipleFileField
from tickets.models import Category, Priority, Status, Ticket, user_label

from . import versions

EDITABLE_FIELDS = ("status", "priority", "category", "assignee")


def staff_users():
    return (
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .order_by("first_name", "last_name", "username")
    )


class QuickSelect(forms.Select):
    """Django's ``<select>`` markup, written in Python.

    Django renders a select through a template and each option through another:
    the queue's action bar (three selects) cost a sixth of the queue's time.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            html = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((o["value"], flatatt(o["attrs"]), o["label"]) for o in options),
            )
            if group_name:
                html = format_html('<optgroup label="{}">{}</optgroup>', group_name, html)
            groups.append(html)
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            flatatt(widget["attrs"]),
            mark_safe("".join(groups)),  # nosec B308 B703  # each piece built by format_html
        )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user_label(user)


class ReplyKind:
    PUBLIC = "public"
    INFORMATION = "information"
    INTERNAL = "internal"
    CHOICES = [
        (PUBLIC, _("Respuesta pública")),
        (INFORMATION, _("Solicitar información")),
        (INTERNAL, _("Nota interna (no se muestra al solicitante)")),
    ]


class TicketForm(AttachmentsMixin, forms.ModelForm):
    """The ticket page's one form: a reply and the fields an agent may change, sent together.

    What the requester wrote is not a field, so no POST can rewrite it. ``version``
    is what the page showed (versions.py): a send on a ticket that changed since is
    refused, with the agent's text kept, instead of being applied blindly.
    """

    reply_kind = forms.ChoiceField(
        label=_("Tipo de respuesta"),
        choices=ReplyKind.CHOICES,
        initial=ReplyKind.PUBLIC,
        widget=forms.RadioSelect,
    )
    reply_message = forms.CharField(
        label=_("Mensaje"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
    )
    reply_files = MultipleFileField(label=_("Adjuntos"))
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    # Set by clean() when the ticket changed after the page was loaded: what the page saw.
    stale = None

    class Meta:
        model = Ticket
        fields = EDITABLE_FIELDS
        field_classes = {"assignee": StaffChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Help-desk staff are a few dozen people: a select is quicker to use than a
        # pop-up search, and needs no permission to browse the user list.
        self.fields["assignee"].queryset = staff_users()
        # An inactive category is no longer offered, but a ticket filed under it keeps it.
        self.fields["category"].queryset = Category.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.category_id)
        )

    def clean_reply_files(self):
        files = self.cleaned_data["reply_files"]
        uploads.check_ticket_total(self.instance, files)
        return files

    def clean(self):
        data = super().clean()
        if data.get("reply_files") and not data.get("reply_message"):
            self.add_error("reply_message", _("Escriba un mensaje para enviar los adjuntos."))
        seen = versions.parse(self.data.get(self.add_prefix("version"), ""))
        current = versions.of_ticket(self.instance, self.initial)
        if seen is None or seen.stamp != current.stamp:
            self.stale = seen or current
            # Fields the agent left as the page showed them take the new values, so a
            # second send does not put back what someone else just changed.
            fresh = self.data.copy()
            for name in EDITABLE_FIELDS:
                posted = self.data.get(self.add_prefix(name), "")
                if seen is None or posted == seen.values.get(name, ""):
                    fresh[self.add_prefix(name)] = current.values.get(name, "")
            self.data = fresh
            raise forms.ValidationError(
                _(
                    "Mientras usted escribía, el ticket cambió (vea «Cambios desde que abrió el "
                    "ticket»). No se aplicó nada: su texto sigue en el cuadro; revise y envíe de "
                    "nuevo. Los adjuntos hay que elegirlos otra vez."
                ),
                code="stale",
            )
        return data


class TicketActionForm(ActionForm):
    """The bulk-action bar, with the value that "cambiar estado/prioridad" apply."""

    new_status = forms.ChoiceField(
        label=_("Estado:"), required=False, choices=[("", "---------"), *Status.choices]
    )
    new_priority = forms.TypedChoiceField(
        label=_("Prioridad:"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "---------"), *Priority.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if type(field.widget) is forms.Select:
                field.widget = QuickSelect(attrs=field.widget.attrs, choices=field.widget.choices)
