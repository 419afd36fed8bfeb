"""The queue's table (tickets/admin/queue_table.py), as a tag for its changelist template."""

from django import template

from tickets.admin import queue_table

register = template.Library()


@register.inclusion_tag("admin/tickets/ticket/queue_results.html")
def queue_results(cl):
    return queue_table.context(cl)
