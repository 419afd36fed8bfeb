"""Admin's own success messages without Spanish gender mistakes.

Django's Spanish catalogue writes "El {name} “{obj}” fue agregado correctamente." for
every model, so a feminine one reads "El respuesta predefinida … fue agregado". The
noun goes in brackets after the object instead, which agrees with any model:
"Se agregó correctamente «Clave» (respuesta predefinida)."
"""

import re

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

# Django's es messages, as rendered (the object may be a link: kept as the HTML it is).
DJANGO_ES = re.compile(
    r"^El ?(?P<name>[^“]+?) “(?P<obj>.*?)” (?P<verb>fue agregado correctamente|se agregó correctamente|"
    r"se cambió correctamente|fue eliminado con éxito)\.(?P<rest>.*)$",
    re.S,
)


def agree(message, verbose_name) -> str:
    m = DJANGO_ES.match(str(message))
    if not m or m.group("name").strip() != str(verbose_name):
        return message
    verb = m.group("verb")
    if "agreg" in verb:
        text = gettext("Se agregó correctamente «{obj}» ({name}).")
    elif "cambió" in verb:
        text = gettext("Se guardaron los cambios de «{obj}» ({name}).")
    else:
        text = gettext("Se eliminó «{obj}» ({name}).")
    rest = m.group("rest").strip()
    if rest.startswith("Puede agregar"):
        rest = gettext("Puede agregar otro registro a continuación.")
    elif rest:
        rest = gettext("Puede seguir editando a continuación.")
    # obj is already escaped HTML when Django built a link; keep it as it came.
    obj = mark_safe(m.group("obj")) if isinstance(message, SafeString) else m.group("obj")  # nosec B308, B703
    out = format_html(text, obj=obj, name=verbose_name)
    return format_html("{} {}", out, rest) if rest else out


class SpanishMessagesMixin:
    def message_user(self, request, message, *args, **kwargs):
        message = agree(message, self.model._meta.verbose_name)
        return super().message_user(request, message, *args, **kwargs)
