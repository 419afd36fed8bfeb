"""Forms of the agent workspace: the ticket's editable fields, the reply box, the bulk-action bar."""

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.forms import AttachmentsMixin, MultipleFileField
from tickets.models import Category, Priority, Status, Ticket, user_label

EDITABLE_FIELDS = ("status", "priority", "category", "assignee")


def staff_users():
    return (
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .order_by("first_name", "last_name", "username")
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user_label(user)


class TicketForm(forms.ModelForm):
    """Only what an agent may change; what the requester wrote is not a field, so no POST can rewrite it."""

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


class ReplyKind:
    PUBLIC = "public"
    INFORMATION = "information"
    INTERNAL = "internal"
    CHOICES = [
        (PUBLIC, _("Respuesta pública")),
        (INFORMATION, _("Solicitar información")),
        (INTERNAL, _("Nota interna (no se muestra al solicitante)")),
    ]


class AgentReplyForm(AttachmentsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Tipo de respuesta"),
        choices=ReplyKind.CHOICES,
        initial=ReplyKind.PUBLIC,
        widget=forms.RadioSelect,
    )
    message = forms.CharField(
        label=_("Mensaje"), max_length=20000, widget=forms.Textarea(attrs={"rows": 10, "cols": 80})
    )
    attachments = MultipleFileField(label=_("Adjuntos"))


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
