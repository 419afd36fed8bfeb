"""How the report's tables show a cell: numbers in the page's locale, a dash for "no figure"."""

from datetime import date

from django import template
from django.utils.formats import date_format, number_format

register = template.Library()


@register.filter
def report_cell(value, table_key: str = ""):
    if value is None:
        return "—"
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return number_format(value, decimal_pos=1)
    if isinstance(value, int):
        return number_format(value, force_grouping=True)
    if isinstance(value, date):
        if table_key == "service_month":
            return date_format(value, "YEAR_MONTH_FORMAT")
        return date_format(value, "SHORT_DATE_FORMAT")
    return value
