"""The queue's table (tickets/admin/queue_table.py), as a tag for its changelist template."""

from django import template

from tickets.admin import deadlines, queue_table

register = template.Library()


@register.inclusion_tag("admin/tickets/ticket/queue_results.html")
def queue_results(cl):
    # Here, not when the rows are read: a page kept by tickets/admin/queue_page.py skips it.
    # Business-time deadlines for the whole page: one query for the days off.
    deadlines.annotate(cl.result_list)
    return queue_table.context(cl)
