"""The portal's own settings with one trivial view as the whole site: Django's ceiling here.

Used only by benchmarks/load.py (DJANGO_SETTINGS_MODULE=benchmarks.bare_settings, the
same gunicorn command and environment as the portal): every middleware, the session
and CSRF machinery, logging and gunicorn's access log are the same, and the view
answers "ok" without a template or a query.
"""

from mesaayuda.settings import *  # noqa: F401,F403

ROOT_URLCONF = "benchmarks.bare_urls"
