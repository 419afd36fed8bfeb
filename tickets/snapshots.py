"""The regional contacts, pre-rendered to a file so the error pages need no database.

The 500 and 503 pages are shown exactly when the database may be down, and the
contacts are what people need then. Each change of a contact (in admin) and each
deploy (``render_contacts_snapshot``) rewrites the fragment; the pages read it.
"""

import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import translation

from tickets.models import Region, RegionalContact

log = logging.getLogger(__name__)
FRAGMENT = "contacts.html"
MAINTENANCE_PAGE = "503.html"


def snapshot_dir() -> Path:
    return Path(settings.SNAPSHOT_DIR)


def _write(name: str, text: str):
    # Write then rename: a 500 page rendered mid-write reads the old file or the
    # new one, never half of one.
    folder = snapshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_contacts() -> str:
    regions = Region.objects.prefetch_related(
        Prefetch("contacts", queryset=RegionalContact.objects.order_by("position", "name"))
    )
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "tickets/_contacts_list.html", {"regions": [r for r in regions if r.contacts.all()]}
        )


def write_contacts_snapshot() -> Path:
    """Render the contacts (and the maintenance page that shows them) to SNAPSHOT_DIR."""
    fragment = render_contacts()
    _write(FRAGMENT, fragment)
    # A whole page a proxy can serve while the application itself is stopped.
    _write(MAINTENANCE_PAGE, render_to_string("503.html", {"contacts_html": fragment}))
    log.info("contacts snapshot written to %s", snapshot_dir())
    return snapshot_dir() / FRAGMENT


def read_contacts_snapshot() -> str:
    """The last fragment written, or "" if there is none (the pages then say so plainly)."""
    try:
        return (snapshot_dir() / FRAGMENT).read_text(encoding="utf-8")
    except OSError:
        return ""
