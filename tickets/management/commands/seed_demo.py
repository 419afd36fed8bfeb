from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from tickets.models import Category, Region, Ticket
from tickets.submission import submit_ticket

DEMO_USERS = [
    # username, password, group, first name, last name, superuser
    ("agente", "agente-demo-2026", "Agentes", "Ana", "Agente", False),
    ("supervisor", "supervisor-demo-2026", "Supervisores", "Sergio", "Supervisor", False),
    ("admin", "admin-demo-2026", None, "Admin", "Demo", True),
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
        self.stdout.write("Demo accounts: " + ", ".join(f"{u} / {p}" for u, p, *_ in DEMO_USERS))
