from django.core.management.base import BaseCommand

from tickets.snapshots import write_contacts_snapshot


class Command(BaseCommand):
    help = (
        "Pre-renders the regional contacts for the 500 and 503 pages (SNAPSHOT_DIR). "
        "The admin does it on every change; run it on each deploy too."
    )

    def handle(self, *args, **options):
        path = write_contacts_snapshot()
        self.stdout.write(f"contacts snapshot written: {path}")
