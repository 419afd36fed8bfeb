"""Bring a HESK help desk across, keeping every tracking ID, number, reply, note and file:

    python manage.py import_hesk --db mysql://lector:clave@hesk-db:3306/hesk \\
        --attachments /var/www/hesk/attachments [--prefix hesk_] [--dry-run]

Reads HESK only (a SELECT-only account is enough) and sends no e-mail. Run it again
whenever you like: what is already here is skipped, new tickets, replies and files
are added, tickets changed in HESK (and not here) are updated. See tickets/hesk_import.py.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from tickets.hesk_import import HeskError, Options, Progress, import_hesk
from tickets.models import Status


class Command(BaseCommand):
    help = "Importa una base de datos de HESK (tickets, respuestas, notas, adjuntos, agentes)."

    def add_arguments(self, parser):
        parser.add_argument("--db", required=True, help="mysql://usuario:clave@servidor:3306/base")
        parser.add_argument(
            "--attachments", required=True, type=Path, help="La carpeta attachments de HESK."
        )
        parser.add_argument("--prefix", default="hesk_", help="Prefijo de las tablas (hesk_).")
        parser.add_argument("--dry-run", action="store_true", help="Informa sin escribir nada.")
        parser.add_argument(
            "--region-field", help="Columna customN con la región (por omisión, se deduce)."
        )
        parser.add_argument(
            "--project-field",
            help="Columna customN con el número de proyecto (por omisión, se deduce).",
        )
        parser.add_argument(
            "--custom-status",
            action="append",
            default=[],
            metavar="[ID=]ESTADO",
            help=(
                "Estado para los estados personalizados de HESK (6 en adelante): "
                "«on_hold» para todos, o «7=on_hold» para uno. Por omisión: in_progress."
            ),
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **opts):
        # Stored texts (categories, notes' author names) are the Spanish ones whatever
        # the operator's locale.
        translation.activate("es")
        options = Options(
            db_url=opts["db"],
            attachments=opts["attachments"],
            prefix=opts["prefix"],
            dry_run=opts["dry_run"],
            region_field=opts["region_field"],
            project_field=opts["project_field"],
            batch_size=max(1, opts["batch_size"]),
        )
        for item in opts["custom_status"]:
            hesk_id, _sep, value = item.rpartition("=")
            if value not in Status.values or (hesk_id and not hesk_id.isdigit()):
                raise CommandError(
                    f"--custom-status {item}: use uno de {', '.join(Status.values)}, "
                    "opcionalmente precedido de «ID=»."
                )
            if hesk_id:
                options.custom_statuses[int(hesk_id)] = value
            else:
                options.custom_status_default = value
        try:
            report = import_hesk(options, progress=Progress(self.stderr._out))
        except HeskError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.summary(dry_run=options.dry_run))
