"""Personal data under Ley 21.719: the privacy notice, data-subject requests, the access log.

The operations themselves (export, rectify, erase, record an access) live in
``tickets/data_requests.py``; these are the rows they read and write.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.addresses import normalize_email

from .ticket import Ticket


class PrivacyNotice(models.Model):
    """The "Aviso de privacidad" shown at /aviso-de-privacidad/: one current text, edited by supervisors."""

    # {name} in the body is replaced by the configured value when the page is shown,
    # so the notice never says "24 meses" while the server keeps data for 36.
    PLACEHOLDERS = {
        "correo_privacidad": lambda: settings.PRIVACY_CONTACT_EMAIL,
        "meses_conservacion": lambda: settings.RETENTION_MONTHS,
        "dias_correos": lambda: settings.SENT_EMAIL_RETENTION_DAYS,
        "dias_registro_accesos": lambda: settings.ACCESS_LOG_RETENTION_DAYS,
    }

    title = models.CharField(_("título"), max_length=200)
    body = models.TextField(
        _("texto"),
        help_text=_(
            "Texto simple: una línea en blanco separa los párrafos. Se reemplazan al mostrarlo: "
            "{correo_privacidad}, {meses_conservacion}, {dias_correos} y {dias_registro_accesos}."
        ),
    )
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("actualizado por"),
    )

    class Meta:
        verbose_name = _("aviso de privacidad")
        verbose_name_plural = _("aviso de privacidad")

    def __str__(self):
        return self.title

    @classmethod
    def current(cls):
        return cls.objects.order_by("-updated_at", "-pk").first()

    def rendered_body(self) -> str:
        text = self.body
        # str.replace, not str.format: a stray brace in a supervisor's text must not break the page.
        for key, value in self.PLACEHOLDERS.items():
            text = text.replace(f"{{{key}}}", str(value()))
        return text


def address_fingerprint(email: str) -> tuple[str, str]:
    """SHA-256 of the lower-cased address, and its domain."""
    address = normalize_email(email)
    return hashlib.sha256(address.encode()).hexdigest(), address.rpartition("@")[2]


class DataRequest(models.Model):
    """One data-subject request a supervisor carried out: who, when, for which address, what, how many tickets.

    After an erasure the log must not become the one place that still holds the
    erased address: the erasure row, and every earlier row of the same address,
    keep only the SHA-256 of the lower-cased address and its domain. That is
    enough to answer "was this address erased, when, by whom?" (hash the address
    the person gives again and compare) and to count requests per institution,
    without storing the address. It is a pseudonym, not anonymity: whoever already
    knows an address can confirm it was erased, which is exactly the use intended.
    """

    class Action(models.TextChoices):
        EXPORT = "export", _("Exportar sus datos (acceso y portabilidad)")
        RECTIFY = "rectify", _("Rectificar nombre o e-mail")
        ERASE = "erase", _("Suprimir (anonimizar sus tickets)")

    created_at = models.DateTimeField(_("fecha"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("realizada por")
    )
    action = models.CharField(_("acción"), max_length=10, choices=Action.choices)
    email = models.EmailField(
        _("e-mail"),
        blank=True,
        help_text=_("Vacío cuando los datos de la dirección fueron suprimidos."),
    )
    email_sha256 = models.CharField(_("SHA-256 del e-mail"), max_length=64)
    email_domain = models.CharField(_("dominio"), max_length=254)
    new_name = models.CharField(_("nombre nuevo"), max_length=100, blank=True)
    new_email = models.EmailField(_("e-mail nuevo"), blank=True)
    reference = models.CharField(
        _("referencia"),
        max_length=200,
        blank=True,
        help_text=_(
            "N° de oficio, carta o correo con que llegó la solicitud. No escriba aquí nombres ni direcciones."
        ),
    )
    ticket_count = models.PositiveIntegerField(_("tickets"), default=0)
    details = models.CharField(_("detalle"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("solicitud de datos personales")
        verbose_name_plural = _("solicitudes de datos personales")
        indexes = [models.Index(fields=["email_sha256"], name="datarequest_email_sha256")]

    def __str__(self):
        # Never the address: this string lands in admin messages and the admin's own log.
        return f"{self.get_action_display()} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    @classmethod
    def log(
        cls, action: str, address: str, *, keep_address: bool = True, **fields
    ) -> "DataRequest":
        """Record a request for ``address``; its hash and domain always, the address itself
        only while ``keep_address`` (an erasure keeps none)."""
        sha, domain = address_fingerprint(address)
        return cls.objects.create(
            action=action,
            email=address if keep_address else "",
            email_sha256=sha,
            email_domain=domain,
            **fields,
        )


class AccessLog(models.Model):
    """Who opened a ticket or one of its files, or exported a list, when, from where. Appended only."""

    class Kind(models.TextChoices):
        ADMIN_VIEW = "admin_view", _("Vista en admin")
        ADMIN_DOWNLOAD = "admin_download", _("Descarga en admin")
        PUBLIC_VIEW = "public_view", _("Vista pública")
        PUBLIC_DOWNLOAD = "public_download", _("Descarga pública")
        # A report or the queue as a spreadsheet: no one ticket, so ``details`` says what.
        EXPORT = "export", _("Exportación")

    PUBLIC_KINDS = [Kind.PUBLIC_VIEW, Kind.PUBLIC_DOWNLOAD]

    ticket = models.ForeignKey(
        Ticket,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="accesses",
        verbose_name=_("ticket"),
    )
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)
    kind = models.CharField(_("tipo"), max_length=16, choices=Kind.choices)
    details = models.CharField(_("detalle"), max_length=500, blank=True)
    # Staff only: the public pages have no accounts.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("usuario"),
    )
    ip_address = models.GenericIPAddressField(_("dirección IP"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("acceso a un ticket")
        verbose_name_plural = _("registro de accesos")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="access_ticket_created"),
            # purge_old_records deletes by age.
            models.Index(fields=["created_at"], name="access_created"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"
