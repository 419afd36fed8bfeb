"""Public forms. All parsing of what people type lives here."""

import re
import uuid
from urllib.parse import parse_qsl, urlparse

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tickets import reference_choices, tracking, uploads
from tickets.addresses import check_address
from tickets.models import MAX_POSITIVE_INT, Category, Region
from tickets.models.rating import SCORE_LABELS
from tickets.text import single_line

# Said whenever a typed tracking ID is not one, by the form and by the look-up page.
ID_SHAPE = _(
    "Un ID de seguimiento tiene 10 letras y números, como 1N7-XQE-RW26. Revise lo que escribió."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several <input type=file> with one name, as the old portal had (Django docs' pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        files = [super(MultipleFileField, self).clean(f, initial) for f in files]
        uploads.check_files(files)
        return files


class LongTextField(forms.CharField):
    """A text box whose limit is shown, never enforced by cutting what is pasted.

    Django would put ``maxlength`` on the textarea, and a browser silently drops
    whatever is pasted past it. Instead the page shows the limit (and a counter, see
    static/js/char-counter.js) and the server refuses an over-long text with a
    message, the bound form keeping every character for the person to shorten.
    """

    def __init__(self, *, max_length: int, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 8}))
        # Checked in validate() with our own message, not by MaxLengthValidator.
        self.limit = max_length
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["data-maxlength"] = str(self.limit)
        # The counter's two sentences, in the page's language ({n}: a number).
        attrs["data-count-left"] = _("Quedan {n} caracteres.")
        attrs["data-count-over"] = _("Sobran {n} caracteres: acorte el texto antes de enviarlo.")
        return attrs

    def validate(self, value):
        super().validate(value)
        if value and len(value) > self.limit:
            raise ValidationError(
                _(
                    "El texto tiene %(length)s caracteres y el máximo es %(limit)s: "
                    "acórtelo en %(excess)s. Lo que escribió sigue en el recuadro."
                ),
                code="max_length",
                params={
                    "length": f"{len(value):,}".replace(",", "."),
                    "limit": f"{self.limit:,}".replace(",", "."),
                    "excess": f"{len(value) - self.limit:,}".replace(",", "."),
                },
            )


MESSAGE_LIMIT = 20000
MESSAGE_HELP = _("Hasta 20.000 caracteres.")
RATING_COMMENT_LIMIT = 2000


class AttachmentsMixin:
    def attachment_slots(self):
        return range(1, settings.TICKET_MAX_FILES + 1)


def parse_project_number(value: str) -> int:
    value = (value or "").strip()
    if "proyecto=" in value.lower():
        # A pasted SIGEC address: http://sigec.mideplan.cl/sigec/view-proyecto.htm?proyecto=29928
        query = urlparse(value).query or value.split("?", 1)[-1]
        numbers = [v.strip() for k, v in parse_qsl(query) if k.lower() == "proyecto" and v.strip()]
        if len({_digits(v) for v in numbers}) > 1:
            # Taking either would file the ticket under a project the person may not mean.
            raise ValidationError(
                _(
                    "La dirección pegada trae más de un número de proyecto (%(numbers)s). "
                    "Escriba solo el número del proyecto, por ejemplo 29928."
                ),
                code="ambiguous",
                params={"numbers": ", ".join(dict.fromkeys(numbers))},
            )
        value = numbers[0] if numbers else ""
    value = _digits(value)
    if not re.fullmatch(r"\d+", value) or not 0 < int(value) <= MAX_POSITIVE_INT:
        raise ValidationError(
            _(
                "Escriba el número de proyecto (solo dígitos, por ejemplo 29928) "
                "o pegue la dirección de SIGEC que contiene «proyecto=»."
            ),
            code="invalid",
        )
    return int(value)


def _digits(value: str) -> str:
    """A number as people write it, thousands dots and leading zeros dropped ("029.928" → "29928")."""
    value = value.replace(".", "") if re.fullmatch(r"\d{1,3}(\.\d{3})+", value) else value
    return (value.lstrip("0") or "0") if value.isdecimal() else value


class PortalCaptchaInput(CaptchaTextInput):
    """The captcha widget, which can be rendered with a given key instead of a new one.

    For the blank form kept rendered (tickets/views/blank_form.py): a marker stands for
    the key, and each request puts a freshly picked one in its place.
    """

    fixed_key: str | None = None

    def fetch_captcha_store(self, name, value, attrs=None, generator=None):
        if self.fixed_key is None:
            return super().fetch_captcha_store(name, value, attrs, generator)
        # What the parent sets, with our key (django-simple-captcha 0.6).
        self._value = [self.fixed_key, ""]
        self._key = self.fixed_key
        self.id_ = self.build_attrs(attrs).get("id", None)
        return None


class KeptChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that takes the chosen row from the process's kept list
    (``reference_choices.rows``) instead of a query per POST."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            found = reference_choices.rows(self.queryset).get(int(value))
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found


class SubmitTicketForm(AttachmentsMixin, forms.Form):
    name = forms.CharField(
        label=_("Nombre"), max_length=100, help_text=_("Ingrese su nombre completo.")
    )
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, help_text=_("Ingrese su correo electrónico.")
    )
    category = KeptChoiceField(
        label=_("Categoría"),
        queryset=Category.objects.filter(is_active=True),
        empty_label=None,
        help_text=_("Seleccione la categoría de su requerimiento."),
    )
    region = KeptChoiceField(
        label=_("Región"),
        queryset=Region.objects.all(),
        empty_label=_("-- Haz click para seleccionar --"),
        help_text=_("Seleccione su región."),
    )
    project_number = forms.CharField(
        label=_("Número de proyecto"),
        max_length=300,
        help_text=_("Ingrese el número de proyecto de su requerimiento."),
        widget=forms.TextInput(attrs={"inputmode": "text", "autocomplete": "off"}),
    )
    message = LongTextField(
        label=_("Mensaje"),
        max_length=MESSAGE_LIMIT,
        help_text=_("Describa su requerimiento. Hasta 20.000 caracteres."),
    )
    attachments = MultipleFileField(label=_("Adjuntos"))
    captcha = CaptchaField(
        label=_("SPAM Prevención"),
        help_text=_("Escriba el número que aparece en la imagen."),
        error_messages={
            "invalid": _(
                "El código no coincide con la imagen. Escriba el número que aparece en la nueva imagen."
            )
        },
        widget=PortalCaptchaInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    submission_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_token", uuid.uuid4())
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        for name in ("category", "region"):
            field = self.fields[name]
            blank = [] if field.empty_label is None else [("", field.empty_label)]
            field.widget.choices = blank + reference_choices.choices(field.queryset)

    def clean_name(self):
        name = single_line(self.cleaned_data["name"])
        if not name:
            # Nothing but invisible characters: as good as empty.
            raise ValidationError(self.fields["name"].error_messages["required"], code="required")
        return name

    def clean_email(self):
        # Stored lower-cased so that look-ups by address use the index; a look-alike
        # domain is refused before staff could take it for the ministry's own.
        return check_address(self.cleaned_data["email"])

    def clean_project_number(self):
        return parse_project_number(self.cleaned_data["project_number"])


class ReplyForm(AttachmentsMixin, forms.Form):
    message = LongTextField(
        label=_("Mensaje"),
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MESSAGE_HELP,
    )
    attachments = MultipleFileField(label=_("Adjuntos"))


class RatingForm(forms.Form):
    """ "¿Cómo fue la atención?": a score from 1 to 5 and, if they wish, a few words."""

    score = forms.TypedChoiceField(
        label=_("Calificación"),
        coerce=int,
        choices=[(n, f"{n} · {label}") for n, label in SCORE_LABELS.items()],
        widget=forms.RadioSelect,
        error_messages={"required": _("Elija una calificación de 1 (muy mala) a 5 (muy buena).")},
    )
    comment = LongTextField(
        label=_("Comentario (opcional)"),
        max_length=RATING_COMMENT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Hasta 2.000 caracteres."),
    )

    def clean_comment(self):
        return self.cleaned_data["comment"].strip()


class LookupForm(forms.Form):
    tracking_id = forms.CharField(
        label=_("ID de seguimiento"),
        max_length=40,
        help_text=_("Por ejemplo 1N7-XQE-RW26. Puede escribirlo en minúsculas y sin guiones."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("El correo con que envió el ticket."),
        # The person's own address: browsers may fill it in (WCAG 1.3.5, input purpose).
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if settings.LOOKUP_REQUIRES_EMAIL:
            self.fields["email"].required = True
        else:
            del self.fields["email"]

    def clean_tracking_id(self):
        value = tracking.normalize(self.cleaned_data["tracking_id"])
        if not value:
            raise ValidationError(ID_SHAPE, code="invalid")
        return value

    def clean_email(self):
        return check_address(self.cleaned_data.get("email"))


class ForgottenIdForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("El correo con que envió sus tickets."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self):
        return check_address(self.cleaned_data["email"])
