"""Keep the captcha pool full. Cron every 5 minutes (with CAPTCHA_GET_FROM_POOL on):

*/5 * * * *  cd /srv/mesaayuda && .venv/bin/python manage.py refill_captcha_pool
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.captcha import refill_pool


class Command(BaseCommand):
    help = (
        "Completa la reserva de captchas listos (CAPTCHA_POOL_SIZE) y borra los vencidos. "
        "Cron lo ejecuta cada 5 minutos."
    )

    def handle(self, **options):
        if not settings.CAPTCHA_GET_FROM_POOL:
            self.stdout.write("captcha pool off (CAPTCHA_GET_FROM_POOL=0): nothing to do")
            return
        added = refill_pool()
        self.stdout.write(f"captcha pool: added {added}, size {settings.CAPTCHA_POOL_SIZE}")
