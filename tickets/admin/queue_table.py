"""The queue's rows, written out in one pass instead of through admin's ``result_list`` tag.

Django's changelist looks every cell up again on every row (``lookup_field``: the
field or the callable by name, its display options, a template-safe escape of each
piece): 550 look-ups for a page of 50 tickets, half the queue's CPU time
(benchmarks/RESULTS.md). Here each column of ``list_display`` is resolved once per
page into a function of the ticket, and the rows are joined as strings. The markup
is admin's own (``#result_list``, ``th``/``td.field-*``, the selection box), so
admin's CSS and JavaScript (selection, actions, sorting headers) work unchanged.

It serves only a plain read-only changelist: no ``list_editable`` formset and no
popup, which the queue never has (``queue_table_supported`` says when to fall back).
"""

import functools
import html as stdlib_html
from collections.abc import Callable
from datetime import datetime

from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.templatetags.admin_list import result_list as admin_result_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

# Django's own messages, translated by Django's catalogue: held in names so that
# makemessages does not copy them, untranslated, into ours.
SORT_REMOVE = "Remove from sorting"
SORT_TOGGLE = "Toggle sorting"
SORT_PRIORITY = "Sorting priority: %(priority_number)s"

# Any text that cannot be a primary key: the change URL is reversed once per page
# with it and each row's key is put in its place.
PK_PLACEHOLDER = "__pk__"


# Django's date format letters that strftime writes the same way.
STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "y": "%y", "H": "%H", "i": "%M", "s": "%S"}


def escape(value) -> str:
    """``conditional_escape`` without its check for lazy arguments, which costs more than the escape."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return stdlib_html.escape(str(value))


def html(template: str, *args) -> SafeString:
    """``format_html`` for the queue's cells, called hundreds of times a page."""
    return mark_safe(template.format(*map(escape, args)))  # nosec B308 B703  # every argument escaped


@functools.cache
def _strftime_pattern(django_format: str) -> str | None:
    if all(c in STRFTIME or not (c.isalpha() or c in "\\%") for c in django_format):
        return "".join(STRFTIME.get(c, c) for c in django_format)
    return None


def short_datetime(value: datetime) -> str:
    """``date_format(…, "SHORT_DATETIME_FORMAT")`` in local time, through strftime where it can.

    Spanish's "d/m/Y H:i" maps straight onto strftime, ten times cheaper than Django's
    formatter; a format with names or a.m./p.m. (English's "P") goes through Django.
    """
    django_format = get_format("SHORT_DATETIME_FORMAT")
    local = timezone.localtime(value)
    pattern = _strftime_pattern(django_format)
    return local.strftime(pattern) if pattern else date_format(local, django_format)


def queue_table_supported(cl: ChangeList) -> bool:
    return not cl.formset and not cl.is_popup and not cl.to_field


def _column(cl: ChangeList, name: str, empty: str) -> Callable:
    """One function from a ticket to its cell's (escaped) content."""
    model_admin = cl.model_admin
    if name == "action_checkbox" or hasattr(model_admin, name):
        method = getattr(model_admin, name)
    else:
        try:
            field = cl.model._meta.get_field(name)
        except FieldDoesNotExist:
            attr = getattr(cl.model, name)
            method = attr.fget if isinstance(attr, property) else attr
        else:
            attname = field.attname
            if field.choices:
                # get_FOO_display builds a dict of the choices on every call.
                labels = {k: escape(v) for k, v in field.flatchoices}
                return lambda obj: labels.get(getattr(obj, attname), empty)
            return lambda obj: display_for_field(getattr(obj, attname), field, empty)

    def cell(obj):
        value = method(obj)
        if value is None or value == "":
            return empty
        return escape(value)

    return cell


def rows(cl: ChangeList) -> SafeString:
    """The ``<tr>`` of every ticket on the page, as one safe string."""
    empty = conditional_escape(cl.model_admin.get_empty_value_display())
    # As admin's items_for_result: None links nothing, an empty list the first column,
    # and only the first linked cell is the row's header.
    links = () if cl.list_display_links is None else cl.list_display_links or cl.list_display[:1]
    columns, header_taken = [], False
    for name in cl.list_display:
        css = "action-checkbox" if name == "action_checkbox" else f"field-{name}"
        linked = name in links
        tag = "th" if linked and not header_taken else "td"
        header_taken = header_taken or linked
        columns.append((_column(cl, name, empty), css, tag, linked))
    change_url = add_preserved_filters(
        {"preserved_filters": cl.preserved_filters, "opts": cl.opts},
        reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=[PK_PLACEHOLDER],
            current_app=cl.model_admin.admin_site.name,
        ),
    )
    out = []
    for obj in cl.result_list:
        cells = []
        for cell, css, tag, linked in columns:
            content = cell(obj)
            if linked:
                url = change_url.replace(PK_PLACEHOLDER, quote(str(obj.pk)), 1)
                content = html('<a href="{}">{}</a>', url, content)
            cells.append(f'<{tag} class="{css}">{content}</{tag}>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    # Every piece above is escaped, by escape() or html().
    return mark_safe("\n".join(out))  # nosec B308 B703


def context(cl: ChangeList) -> dict:
    """What ``admin/tickets/ticket/queue_results.html`` needs: admin's headers and our rows."""
    if queue_table_supported(cl):
        headers = list(result_headers(cl))
        ctx = {
            "cl": cl,
            "result_headers": headers,
            "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
            "rows": rows(cl),
        }
    else:
        ctx = {**admin_result_list(cl), "rows": None}
    for h in ctx["result_headers"]:
        if h.get("sort_priority"):
            h["priority_title"] = gettext(SORT_PRIORITY) % {"priority_number": h["sort_priority"]}
    return {**ctx, "sort_remove": gettext(SORT_REMOVE), "sort_toggle": gettext(SORT_TOGGLE)}
