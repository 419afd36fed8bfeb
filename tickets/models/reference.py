"""Reference data that supervisors manage in admin."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    name = models.CharField(_("nombre"), max_length=100, unique=True)
    is_active = models.BooleanField(
        _("activa"),
        default=True,
        help_text=_("Las categorías inactivas no se ofrecen en el formulario."),
    )
    position = models.PositiveSmallIntegerField(_("orden"), default=100)
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="routed_categories",
        verbose_name=_("agentes avisados"),
        help_text=_("Reciben el aviso de tickets nuevos de esta categoría."),
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("categoría")
        verbose_name_plural = _("categorías")

    def __str__(self):
        return self.name


class Region(models.Model):
    code = models.CharField(
        _("código"),
        max_length=5,
        unique=True,
        help_text=_("Código ISO 3166-2:CL (p. ej. AP, RM); NC para Nivel Central."),
    )
    name = models.CharField(_("nombre"), max_length=100)
    # The `holidays` subdivision whose calendar applies; Nivel Central uses RM's.
    holiday_subdiv = models.CharField(_("calendario de feriados"), max_length=5)
    position = models.PositiveSmallIntegerField(_("orden"), default=100)
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="routed_regions",
        verbose_name=_("agentes avisados"),
        help_text=_("Reciben el aviso de tickets nuevos de esta región."),
    )

    class Meta:
        ordering = ["position"]
        verbose_name = _("región")
        verbose_name_plural = _("regiones")

    def __str__(self):
        return self.name


class RegionalContact(models.Model):
    """Whom to contact when the help desk itself is down (the manual's last section)."""

    region = models.ForeignKey(
        Region, models.CASCADE, related_name="contacts", verbose_name=_("región")
    )
    name = models.CharField(_("nombre"), max_length=120)
    role = models.CharField(_("cargo"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("teléfono"), max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(_("orden"), default=100)

    class Meta:
        ordering = ["region__position", "position", "name"]
        verbose_name = _("contacto regional")
        verbose_name_plural = _("contactos regionales")

    def __str__(self):
        return f"{self.name} ({self.region})"


class NonWorkingDay(models.Model):
    """A day off that the `holidays` package cannot know: a decreed holiday, a closure."""

    date = models.DateField(_("fecha"))
    region = models.ForeignKey(
        Region,
        models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("región"),
        help_text=_("Déjelo vacío si el día es inhábil en todo el país."),
    )
    description = models.CharField(_("motivo"), max_length=200)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("día inhábil adicional")
        verbose_name_plural = _("días inhábiles adicionales")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "region"], name="unique_nonworking_day_per_region"
            )
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self):
        where = self.region or _("todo el país")
        return f"{self.date:%Y-%m-%d} · {where} · {self.description}"

    @classmethod
    def dates_by_region(
        cls, region_ids, start: datetime.date, end: datetime.date
    ) -> dict[int, frozenset[datetime.date]]:
        """The days off of several regions (by pk) in one query, national ones included:
        region pk -> its days off from ``start`` to ``end``."""
        national, own = set(), {pk: set() for pk in region_ids}
        q = cls.objects.filter(date__gte=start, date__lte=end)
        q = q.filter(Q(region__isnull=True) | Q(region__in=own))
        for region_id, day in q.values_list("region_id", "date"):
            (national if region_id is None else own[region_id]).add(day)
        return {pk: frozenset(national | days) for pk, days in own.items()}


class CannedResponse(models.Model):
    title = models.CharField(_("título"), max_length=120, unique=True)
    body = models.TextField(
        _("texto"),
        help_text=_(
            "Puede usar {nombre}, {id_seguimiento}, {numero} y {enlace}; se reemplazan al insertarla."
        ),
    )
    is_active = models.BooleanField(_("activa"), default=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("respuesta predefinida")
        verbose_name_plural = _("respuestas predefinidas")

    def __str__(self):
        return self.title

    def render(self, ticket) -> str:
        values = {
            "nombre": ticket.name,
            "id_seguimiento": ticket.tracking_id,
            "numero": ticket.number,
            "enlace": ticket.public_url(),
        }
        text = self.body
        # str.replace, not str.format: a stray brace in a supervisor's text must not break replies.
        for key, value in values.items():
            text = text.replace(f"{{{key}}}", str(value))
        return text
