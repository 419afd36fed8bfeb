"""Template helpers of the public portal."""

import re

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from tickets.addresses import display_address
from tickets.forms import RatingForm
from tickets.models import Rating
from tickets.models.rating import rating_open_until

register = template.Library()

# For pages and e-mails staff read: a look-alike domain shows its punycode form.
register.filter("staff_address", display_address)


@register.filter
def described_widget(field):
    """The field's inputs tied to its help text and error, as Django does for single inputs.

    Django adds aria-describedby and aria-invalid itself, except to widgets made of several
    inputs (MultiWidget: the captcha), which it treats as a group. Screen readers then
    announce the captcha's answer box without its instructions or its error.
    """
    ids = []
    attrs = {}
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return field.as_widget(attrs=attrs)


@register.inclusion_tag("tickets/_rating.html", takes_context=True)
def rating_box(context, ticket, form=None):
    """The ticket page's "¿Cómo fue la atención?", once the ticket is resolved or closed.

    One query (the present resolution's rating), only for finished tickets.
    """
    until = rating_open_until(ticket)
    rating = Rating.current(ticket) if until else None
    if form is None and until:
        initial = {"score": rating.score, "comment": rating.comment} if rating else {}
        form = RatingForm(initial=initial)
    return {
        "request": context.get("request"),
        "ticket": ticket,
        "rating": rating,
        "until": until,
        "open": until is not None and timezone.now() < until,
        "form": form,
        "action": reverse("tickets:rate", args=[ticket.tracking_id]),
    }


@register.filter
def unbreakable_id(tracking_id: str) -> SafeString:
    """The tracking ID in a span that never wraps: on a phone a hyphen is a line-break chance."""
    return format_html('<span class="tracking-id">{}</span>', tracking_id)


HEADING_MAX = 80


def is_heading(line: str) -> bool:
    line = line.strip()
    return line.startswith("## ") or (0 < len(line) <= HEADING_MAX and line[-1] not in ".:;,")


@register.filter
def notice_blocks(text: str) -> SafeString:
    """The privacy notice's plain text as headings and paragraphs.

    Paragraphs are separated by a blank line. The first line of a paragraph is a
    heading when it is short and does not end like a sentence (".", ":", ";", ","),
    as the seeded text writes them ("Sus derechos" above its paragraph); a line
    starting with "## " always is. Everything is escaped: supervisors edit this text.
    """
    parts = []
    for block in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in block.strip().split("\n") if line.strip()]
        if lines and is_heading(lines[0]):
            heading = lines.pop(0).removeprefix("## ").strip()
            parts.append(format_html("<h2>{}</h2>", heading))
        if lines:
            body = "<br>".join(escape(line) for line in lines)
            parts.append(mark_safe(f"<p>{body}</p>"))  # nosec B703 B308: escaped line by line
    return mark_safe("\n".join(parts))  # nosec B703 B308: each part is escaped
