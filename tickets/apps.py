from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Mesa de Ayuda")

    def ready(self):
        # Here, not at the top: these modules read the models, which are ready only now.
        # Importing checks registers them.
        from django.contrib.auth import get_user_model  # the same reason

        from tickets import captcha, checks, reference_choices  # noqa: F401
        from tickets.models import Category, NonWorkingDay, PrivacyNotice, Region  # the same reason
        from tickets.staff_sessions import signed_in  # the same reason

        # After migrate, as Django's own apps create permissions: a deploy leaves a
        # full captcha pool behind (see tickets/captcha.py).
        post_migrate.connect(captcha.refill_after_migrate, sender=self)
        user_logged_in.connect(signed_in, dispatch_uid="tickets.staff_sessions.signed_in")
        # The privacy notice: the app list offers to add one only while none exists.
        for model in (Category, Region, NonWorkingDay, PrivacyNotice, get_user_model()):
            for signal in (post_save, post_delete):
                signal.connect(reference_choices.forget, sender=model)
        # Who is notified of new tickets of a category or region.
        for model in (Category, Region):
            m2m_changed.connect(reference_choices.forget, sender=model.agents.through)
