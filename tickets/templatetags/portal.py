"""Template helpers of the public portal."""

from django import template

from tickets.addresses import display_address

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
