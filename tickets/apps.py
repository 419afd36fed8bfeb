from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Mesa de Ayuda")

    def ready(self):
        # Here, not at the top: both import models, which exist only once every app is
        # loaded. Importing checks registers them.
        from tickets import captcha, checks  # noqa: F401

        # After migrate, as Django's own apps create permissions: a deploy leaves a
        # full captcha pool behind (see tickets/captcha.py).
        post_migrate.connect(captcha.refill_after_migrate, sender=self)
