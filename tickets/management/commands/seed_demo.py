from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from tickets import outbox
from tickets.models import Category, Region, RegionalContact, Ticket
from tickets.snapshots import write_contacts_snapshot
from tickets.submission import submit_ticket

DEMO_USERS = [
    # username, password, group, first name, last name, superuser
    ("agente", "agente-demo-2026", "Agentes", "Ana", "Agente", False),
    ("supervisor", "supervisor-demo-2026", "Supervisores", "Sergio", "Supervisor", False),
    ("admin", "admin-demo-2026", None, "Admin", "Demo", True),
]

# The manual's last section names the professionals to write to when the help desk is
# down, "de acuerdo a la distribución regional"; the distribution itself is an image
# the manual's text does not carry, so this split (north / south) is only for the demo.
DEMO_CONTACTS = [
    # name, role, e-mail, phone, region codes
    (
        "Nancy Pereira Romero",
        "Profesional SIGEC",
        "npereira@example.org",
        "+56 2 2675 0000",
        ["NC", "AP", "TA", "AN", "AT", "CO", "VS", "RM", "LI"],
    ),
    (
        "Luis Castro Riquelme",
        "Profesional SIGEC",
        "lcastro@example.org",
        "+56 2 2675 0001",
        ["ML", "NB", "BI", "AR", "LR", "LL", "AI", "MA"],
    ),
]


class Command(BaseCommand):
    help = "Creates the demo accounts and a few tickets for a development site. Safe to run again."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with known passwords: it only runs with DEBUG=1."
            )
        for username, password, group, first, last, is_superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.org",
                    "is_staff": True,
                    "is_superuser": is_superuser,
                },
            )
            if created:
                user.set_password(password)
                user.save()
            if group and Group.objects.filter(name=group).exists():
                user.groups.add(Group.objects.get(name=group))
        for position, (name, role, email, phone, codes) in enumerate(DEMO_CONTACTS):
            for region in Region.objects.filter(code__in=codes):
                RegionalContact.objects.get_or_create(
                    region=region,
                    name=name,
                    defaults={"role": role, "email": email, "phone": phone, "position": position},
                )
        # The 500 and 503 pages show the contacts from this snapshot.
        write_contacts_snapshot()
        with outbox.deferred_to_cron():
            self.seed_tickets()
        # This process ends now: send the demo's e-mails here (to the console in
        # development) rather than leave them to a send_queued_mail nobody runs.
        sent = outbox.send_due().sent
        self.stdout.write("Demo accounts: " + ", ".join(f"{u} / {p}" for u, p, *_ in DEMO_USERS))
        if sent:
            self.stdout.write(f"{sent} demo e-mails printed above (console e-mail backend).")

    def seed_tickets(self):
        if not Ticket.objects.exists():
            submit_ticket(
                name="María González",
                email="mgonzalez@example.org",
                category=Category.objects.get(name="Claves SIGEC - Cambio de clave"),
                region=Region.objects.get(code="AP"),
                project_number=29928,
                message="No puedo ingresar a SIGEC.\nOlvidé mi clave y el cambio de clave no me llega al correo.",
                ip_address="192.168.21.120",
            )
            submit_ticket(
                name="Pedro Muñoz",
                email="pmunoz@example.org",
                category=Category.objects.get(name="Rendiciones de cuentas"),
                region=Region.objects.get(code="NB"),
                project_number=31005,
                message="Error al enviar la rendición de octubre.\nEl sistema muestra «Error inesperado».",
                ip_address="192.168.21.139",
            )
