"""The outbox: every e-mail is a row written with the change that causes it."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("En cola")
        SENDING = "sending", _("Enviando")
        SENT = "sent", _("Enviado")
        FAILED = "failed", _("Fallido")
        # Sent, but the recipient's server sent it back (tickets/inbound.py reads the bounce).
        BOUNCED = "bounced", _("Rebotado")

    created_at = models.DateTimeField(_("creado"), default=timezone.now)
    kind = models.CharField(_("tipo"), max_length=40)
    to = models.EmailField(_("destinatario"))
    subject = models.CharField(_("asunto"), max_length=250)
    body_text = models.TextField(_("texto"))
    body_html = models.TextField(_("HTML"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("ticket"),
    )
    state = models.CharField(
        _("estado"), max_length=10, choices=State.choices, default=State.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    next_attempt_at = models.DateTimeField(_("próximo intento"), default=timezone.now)
    last_error = models.TextField(_("último error"), blank=True)
    sent_at = models.DateTimeField(_("enviado"), null=True, blank=True)
    # Its own Message-ID, so that a reply (In-Reply-To, References) or a bounce finds it.
    message_id = models.CharField("Message-ID", max_length=255, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("correo saliente")
        verbose_name_plural = _("correos salientes")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["to"], name="outbox_to"),
        ]

    def __str__(self):
        return self.subject

    def retry_delay(self) -> timedelta:
        # 1, 2, 4 … minutes, at most 6 hours: a mail server down overnight is retried
        # a few times an hour, not hammered.
        return timedelta(minutes=min(2 ** max(self.attempts - 1, 0), 360))
