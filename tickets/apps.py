from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Mesa de Ayuda")

    def ready(self):
        # Registers the deployment checks.
        from tickets import checks  # noqa: F401

        # Imported here: the module reads the models, which are ready only now.
        from tickets.staff_sessions import signed_in

        user_logged_in.connect(signed_in, dispatch_uid="tickets.staff_sessions.signed_in")
