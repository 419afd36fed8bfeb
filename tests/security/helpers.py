"""Shared by the attack tests: posting the public forms as a browser would."""

import re

from tests.conftest import submission_data

SUBMIT = "/ticket/nuevo/"
LOOKUP = "/ticket/ver/"
FORGOTTEN = "/ticket/olvide-mi-id/"

PAYLOADS = [
    "<script>alert('xss')</script>",
    '"><svg onload=alert(1)>',
    "<img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
]


def submit(client, *, files=None, ip="192.168.21.120", **overrides):
    data = submission_data(**overrides)
    if files is not None:
        data["attachments"] = files
    return client.post(SUBMIT, data, REMOTE_ADDR=ip)


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
