from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Mesa de Ayuda")

    def ready(self):
        # Importing the module registers its checks; Django's documented place for that is
        # ready(), once every app is loaded.
        from tickets import checks  # noqa: F401
