"""Inbound mail: every message that reached the desk's address, whatever became of it.

A row is written before anything else is decided, so that nothing sent to the desk
is ever lost: a reply applied to its ticket, an out-of-office ignored, a message from
an unknown sender held for staff ("sin asociar"). tickets/inbound.py decides.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ticket import Reply, Ticket


class InboundEmail(models.Model):
    class State(models.TextChoices):
        APPLIED = "applied", _("Aplicado")
        # Waiting for an agent: attach it to a ticket or open a new one from it.
        UNMATCHED = "unmatched", _("Sin asociar")
        # Recorded, never applied nor answered: auto-replies, bounces, our own mail.
        IGNORED = "ignored", _("Ignorado")
        # Could not be applied safely: too big, unreadable, too many from one sender.
        HELD = "held", _("Retenido")

    class Source(models.TextChoices):
        PIPE = "pipe", _("MTA (receive_mail)")
        IMAP = "imap", _("IMAP (fetch_mail)")

    received_at = models.DateTimeField(_("recibido"), default=timezone.now)
    source = models.CharField(_("origen"), max_length=8, choices=Source.choices)
    # The claim: two fetchers (or an MTA delivering twice) insert the same
    # Message-ID, and the unique constraint lets exactly one of them apply it.
    # Messages without one get "<sha256 of the bytes>@sin-message-id.invalid".
    message_id = models.CharField("Message-ID", max_length=255, unique=True)
    sender = models.CharField(_("remitente"), max_length=254, blank=True)
    sender_name = models.CharField(_("nombre del remitente"), max_length=150, blank=True)
    subject = models.CharField(_("asunto"), max_length=250, blank=True)
    size = models.PositiveIntegerField(_("tamaño"), default=0)
    state = models.CharField(_("resultado"), max_length=10, choices=State.choices)
    reason = models.CharField(_("motivo"), max_length=250, blank=True)
    # What the message says, as plain text (an HTML-only message is converted; HTML is
    # never kept), and the part applied to the ticket once quotes were removed.
    text = models.TextField(_("texto"), blank=True)
    reply_text = models.TextField(_("respuesta sin citas"), blank=True)
    # The message as it arrived, so that staff can still apply it (with its
    # attachments) later. Empty when it was over INBOUND_MAX_SIZE.
    raw = models.BinaryField(_("mensaje original"), null=True, blank=True, editable=False)
    ticket = models.ForeignKey(
        Ticket,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("ticket"),
    )
    reply = models.ForeignKey(
        Reply,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("respuesta"),
    )
    # Set when an agent attached it to a ticket or opened one from it.
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gestionado por"),
    )
    auto_answered = models.BooleanField(_("respondido automáticamente"), default=False)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("correo entrante")
        verbose_name_plural = _("correo entrante")
        indexes = [
            models.Index(fields=["state", "-received_at"], name="inbound_state_received"),
            # The per-sender hourly limit counts these.
            models.Index(fields=["sender", "received_at"], name="inbound_sender_received"),
        ]

    def __str__(self):
        return f"{self.sender} · {self.subject}"
