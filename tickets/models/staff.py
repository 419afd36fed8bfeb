"""Staff accounts: the record of second-factor resets, and the rate-limit counters' table."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SecondFactorReset(models.Model):
    """A supervisor removed an agent's authenticator and recovery codes (a lost phone).

    Besides being the record, a row ends every session the agent had opened before
    it (tickets/staff_sessions.py), so a stolen session cannot enrol a new device.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="second_factor_resets",
        verbose_name=_("usuario"),
    )
    reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("restablecido por"),
    )
    reset_at = models.DateTimeField(_("fecha"), default=timezone.now)

    class Meta:
        ordering = ["-reset_at"]
        indexes = [models.Index(fields=["user", "reset_at"])]
        verbose_name = _("restablecimiento de segundo factor")
        verbose_name_plural = _("restablecimientos de segundo factor")

    def __str__(self) -> str:
        return f"{self.user} {self.reset_at:%Y-%m-%d %H:%M}"


class RateLimitCounter(models.Model):
    """One rate-limit window's count, when the database is the shared store.

    Written only by tickets/counters.py, with one atomic upsert per hit; ``key`` names
    the scope, a hash of the IP or address, and the window.
    """

    key = models.CharField(primary_key=True, max_length=120)
    count = models.PositiveBigIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("contador de límite")
        verbose_name_plural = _("contadores de límite")

    def __str__(self) -> str:
        return f"{self.key}={self.count}"
