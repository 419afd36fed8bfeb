"""Settings for Mesa de Ayuda SIGEC.

Every value is read once, here, from the environment (see .env.example). The
defaults give a working development site on SQLite; production differs only
by its environment.
"""

import re
import shutil
import sqlite3
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from mesaayuda.envvalues import whole_number

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # nosec B105  # refused below when DEBUG=0

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


# django-environ turns "flase" into False and "ten" into a ValueError naming no
# variable; these two say which variable is wrong, at start-up.
def env_flag(name, default):
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0 (true/false), not {raw!r}.")


def env_count(name, default, minimum=0):
    try:
        return whole_number(name, env.str(name, default=""), default=default, minimum=minimum)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None


# Development is the default (as in healthchecks); production sets DEBUG=0
# (the Docker image does) and must then give its own SECRET_KEY.
DEBUG = env_flag("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY or (SECRET_KEY == DEV_SECRET_KEY and not DEBUG):
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: with DEBUG=0 the SECRET_KEY environment variable is required "
        "(a long random string, see .env.example)."
    )
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY is too short for production: use at least 50 random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

# The portal's name wherever it appears: pages, e-mails, admin, the system's replies.
SITE_NAME = env.str("SITE_NAME", default="Mesa de Ayuda SIGEC")

# The public address of the portal, used to build links in e-mails sent by cron.
# `make run` sets it to the address the development server listens on.
PUBLIC_SITE_URL = env.str(
    "PUBLIC_SITE_URL", default="http://127.0.0.1:8000" if DEBUG else ""
).rstrip("/")
if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", PUBLIC_SITE_URL):
    raise ImproperlyConfigured(
        f"PUBLIC_SITE_URL must be the portal's absolute address, e.g. https://mesadeayuda.example.gob.cl "
        f"(it is required with DEBUG=0), not {PUBLIC_SITE_URL!r}."
    )
PUBLIC_SITE_ORIGIN = "/".join(PUBLIC_SITE_URL.split("/")[:3])

# In production the public site's host by default; an empty list would answer 400 to every request.
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=["127.0.0.1", "localhost", "testserver"]
    if DEBUG
    else [urlsplit(PUBLIC_SITE_URL).hostname],
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty: name the portal's host name(s), comma-separated."
    )
# The public site's origin by default; more are only needed when the proxy does
# not pass the browser's Host header through.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_SITE_ORIGIN])
for origin in CSRF_TRUSTED_ORIGINS:
    if not re.fullmatch(r"https?://[^/?#\s]+", origin):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entries are origins like https://host, not {origin!r}."
        )
# How many reverse proxies in front of the app append to X-Forwarded-For.
# 0 means the header is ignored and REMOTE_ADDR is the client's address.
TRUSTED_PROXY_COUNT = env_count("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    # Django's admin, on a site that asks staff for their second factor (tickets/admin_site.py).
    "tickets.admin_app.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "captcha",
    # Admin log-in lock-out after repeated failures (see "Auth and sessions").
    "axes",
    # The second factor for staff: authenticator apps (TOTP) and one-time recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tickets",
]

MIDDLEWARE = [
    # First, so that a load balancer's probe needs no Host, no HTTPS and no session.
    "tickets.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads request.POST (the CSRF check does).
    "tickets.multipart.long_file_names",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session has passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff sessions end when idle, after a working day, and after a device reset
    # (after the messages, so the log-in page can say why).
    "tickets.staff_sessions.staff_sessions",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tickets.middleware.security_headers",
    # Last, as django-axes asks: turns a locked-out log-in into its lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mesaayuda.urls"
WSGI_APPLICATION = "mesaayuda.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.context_processors.site",
            ],
        },
    },
]
# Widgets are rendered with the templates above, so that templates/captcha/widgets/
# overrides django-simple-captcha's widget (text alternative, layout); "django.forms"
# above supplies Django's own widget templates to this renderer.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -----------------------------------------------------------------
try:
    DATABASES = {
        "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
    }
except (KeyError, ValueError):
    DATABASES = {"default": {}}
if not DATABASES["default"].get("ENGINE"):
    raise ImproperlyConfigured(
        "DATABASE_URL is not a database URL: use postgres://user:password@host:5432/name "
        "or sqlite:////absolute/path/db.sqlite3."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The outbox claims its rows and reads them back in one UPDATE … RETURNING.
    if sqlite3.sqlite_version_info < (3, 35):
        raise ImproperlyConfigured(
            f"SQLite {sqlite3.sqlite_version} is too old: the outbox needs 3.35 or later "
            "(UPDATE … RETURNING)."
        )
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Concurrent writers wait for the lock instead of failing with "database is locked";
    # WAL lets readers go on while one writes (and sends mail ~4x faster, see benchmarks).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Persistent connections (one per gunicorn thread), checked before reuse so a
    # restarted or failed-over PostgreSQL costs one reconnect, not an error page.
    DATABASES["default"]["CONN_MAX_AGE"] = env_count("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The shared cache (the look-up alert's once-per-window flag, django-axes…). In development
# one process keeps it in its own memory; in production (DEBUG=0) without CACHE_URL, the
# database holds it, so every gunicorn worker sees one cache (the table is created by
# migration 0010); several app servers may share it too, or use CACHE_URL=redis://….
# The rate-limit counters themselves are rows of their own (tickets/counters.py).
CACHES = {
    "default": env.cache_url(
        "CACHE_URL", default="locmemcache://mesaayuda" if DEBUG else "dbcache://mesaayuda_cache"
    ),
    # Rendered HTML that any process can rebuild from the database (the public
    # conversation): kept in each process's memory, whatever CACHE_URL says, because a
    # hit must cost less than rendering. Keys name the state they were rendered from,
    # so nothing needs invalidating across processes.
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "mesaayuda-fragments",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
    # Agents' queue pages (tickets/admin/queue_page.py), kept for a minute: about 70 KB
    # each, so a bound of their own keeps them to a few MB per process.
    "queue_pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "mesaayuda-queue-pages",
        "TIMEOUT": 60,
        "OPTIONS": {"MAX_ENTRIES": 100},
    },
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache" and not find_spec(
    "redis"
):
    raise ImproperlyConfigured(
        "CACHE_URL is a Redis URL but the redis package is missing: pip install '.[redis]'."
    )
# Django's database cache reads then writes on incr(), so two workers could both
# count 5 and one hit would be lost: with it, the rate-limit counters use their own
# table, advanced by one atomic upsert (tickets/counters.py).
RATELIMIT_STORE = (
    "database"
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    else "cache"
)

# --- Auth and sessions --------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_count("SESSION_COOKIE_AGE", default=8 * 3600, minimum=60)
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, except that a failed save cannot hide a committed
# submission behind an error page (tickets/session_store.py).
SESSION_ENGINE = "tickets.session_store"
# Staff often work on shared office computers, and the public's session only
# remembers which tickets this browser opened: neither should outlive the browser.
# The server still ends every session after SESSION_COOKIE_AGE.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_flag("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
# django-axes: after AXES_FAILURE_LIMIT failed admin log-ins for one username from
# one IP, that pair is locked out for AXES_COOLOFF_MINUTES (each further try during
# the lock-out restarts it). Per pair, not per username alone, so nobody can lock
# a colleague out from elsewhere; the IP is the one tickets.clientip trusts.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, with a user's permissions read in one query instead of two.
    "tickets.auth_backend.OneQueryModelBackend",
]
AXES_FAILURE_LIMIT = env_count("AXES_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_count("AXES_COOLOFF_MINUTES", default=15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "tickets.clientip.client_ip"
# A right password alone no longer wipes the count when a second factor is still due
# (else a thief with the password could guess codes for ever, logging in again every
# few tries): tickets.staff_auth's handler resets it once the whole sign-in succeeds.
AXES_RESET_ON_SUCCESS = False
AXES_HANDLER = "tickets.staff_auth.StaffAxesHandler"
# Every failed sign-in (password or code) is kept, for the staff's own login records
# and the supervisors' list; axes_reset_logs (cron) trims them.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
# Its start-up banner would be one more line in every cron command's output (and mail).
AXES_VERBOSE = False
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

# --- Staff accounts -----------------------------------------------------------------
# Every staff user must sign in with a second factor (an authenticator app, or one of
# their recovery codes). On by default in production; off in development so that
# `make run`'s demo accounts work with their passwords alone. A user who has enrolled
# is always asked for the code, whatever this says.
STAFF_REQUIRE_2FA = env_flag("STAFF_REQUIRE_2FA", default=not DEBUG)
# A staff session ends after this many minutes without a request, and in any case
# this many hours after signing in (a working day).
STAFF_SESSION_IDLE_MINUTES = env_count("STAFF_SESSION_IDLE_MINUTES", default=30, minimum=1)
STAFF_SESSION_MAX_HOURS = env_count("STAFF_SESSION_MAX_HOURS", default=10, minimum=1)
# The name authenticator apps show next to the username.
OTP_TOTP_ISSUER = SITE_NAME

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Santiago"
USE_I18N = True
USE_TZ = True

# --- Static files and uploads -------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Attachments are never served from MEDIA_URL: downloads go through a view that
# checks the tracking ID. MEDIA_ROOT must not be under a web server's document root.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = None
# Pre-rendered fragments the error pages show without the database (tickets/snapshots.py).
SNAPSHOT_DIR = env.path("SNAPSHOT_DIR", default=BASE_DIR / "var" / "snapshots")
# Attachments go through the storage API: the file system under MEDIA_ROOT on one
# server, or S3-compatible object storage shared by several
# (FILE_STORAGE=storages.backends.s3.S3Storage, pip install '.[s3]').
FILE_STORAGE = env.str("FILE_STORAGE", default="django.core.files.storage.FileSystemStorage")
try:
    storage_module_found = bool(find_spec(FILE_STORAGE.rpartition(".")[0]))
except (ImportError, ValueError):
    storage_module_found = False
if not storage_module_found:
    raise ImproperlyConfigured(
        f"FILE_STORAGE={FILE_STORAGE!r} cannot be imported (for S3 install the extra: pip install '.[s3]')."
    )
FILE_STORAGE_OPTIONS = {}
if FILE_STORAGE.startswith("storages.backends.s3"):
    # Read only when S3 is chosen. Keys may also come from boto3's usual sources
    # (an instance role); the bucket stays private, as downloads go through the view.
    FILE_STORAGE_OPTIONS = {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
        "region_name": env.str("AWS_S3_REGION_NAME", default=None),
        "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
        "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
        "location": env.str("AWS_LOCATION", default="attachments"),
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }
STORAGES = {
    "default": {"BACKEND": FILE_STORAGE, "OPTIONS": FILE_STORAGE_OPTIONS},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads are written to temporary files as they arrive, never held whole in memory;
# the first handler stops a file at TICKET_MAX_FILE_SIZE and a request at
# MAX_REQUEST_SIZE while they stream (tickets/uploadhandlers.py).
FILE_UPLOAD_HANDLERS = [
    "tickets.uploadhandlers.LimitedUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_PERMISSIONS = 0o640
TICKET_MAX_FILES = env_count("TICKET_MAX_FILES", default=10)
TICKET_MAX_FILE_SIZE = env_count("TICKET_MAX_FILE_SIZE", default=10 * 1024 * 1024, minimum=1)
TICKET_ALLOWED_EXTENSIONS = env.list(
    "TICKET_ALLOWED_EXTENSIONS",
    default=[
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "odt",
        "ods",
        "odp",
        "jpg",
        "jpeg",
        "png",
        "gif",
        "txt",
        "csv",
        "zip",
    ],
)
# All the attachments of one ticket, its replies' included.
TICKET_MAX_TOTAL_SIZE = env_count("TICKET_MAX_TOTAL_SIZE", default=50 * 1024 * 1024, minimum=1)
# A request larger than every file at its limit plus the text fields is refused
# before its body is read. nginx's client_max_body_size should match it.
MAX_REQUEST_SIZE = env_count(
    "MAX_REQUEST_SIZE",
    default=TICKET_MAX_FILES * TICKET_MAX_FILE_SIZE + 1024 * 1024,
    minimum=1024 * 1024,
)

# --- Help-desk rules -------------------------------------------------------------
# The manual lets the tracking ID alone open a ticket; set this to also ask for the e-mail.
LOOKUP_REQUIRES_EMAIL = env_flag("LOOKUP_REQUIRES_EMAIL", default=False)
STAFF_RESPONSE_HOURS = env_count("STAFF_RESPONSE_HOURS", default=16, minimum=1)
REQUESTER_RESPONSE_HOURS = env_count("REQUESTER_RESPONSE_HOURS", default=16, minimum=1)
# Working hours per weekday (0 = Monday) as "HH:MM-HH:MM" ranges separated by commas;
# an empty value is a day off. A break is two ranges: "09:00-13:00,14:00-18:00".
BUSINESS_HOURS = {
    day: env.str(f"BUSINESS_HOURS_{name}", default=default)
    for day, name, default in [
        (0, "MON", "09:00-17:00"),
        (1, "TUE", "09:00-17:00"),
        (2, "WED", "09:00-17:00"),
        (3, "THU", "09:00-17:00"),
        (4, "FRI", "09:00-17:00"),
        (5, "SAT", ""),
        (6, "SUN", ""),
    ]
}


# --- Rate limits (tickets/ratelimit.py) ----------------------------------------------
# "<count>/<period>", period s, m, h or d with an optional multiplier ("100/15m").
# Per client IP generous enough for a regional office behind one address; per
# recipient address tight enough that the forms are no use as a spam relay.
def env_rate(name, default):
    value = env.str(name, default=default).strip()
    if not re.fullmatch(r"\d+\s*/\s*\d*\s*[smhd]", value) or re.fullmatch(
        r"\d+\s*/\s*0+\s*[smhd]", value
    ):
        raise ImproperlyConfigured(
            f"{name} must be a rate like '5/h', '100/15m' or '1000/d', not {value!r}."
        )
    return value


RATELIMIT_SUBMIT = env_rate("RATELIMIT_SUBMIT", "20/h")  # POSTs of the new-ticket form, per IP
RATELIMIT_REPLY = env_rate("RATELIMIT_REPLY", "60/h")  # public replies, per IP
RATELIMIT_FORGOTTEN_ID = env_rate("RATELIMIT_FORGOTTEN_ID", "10/h")  # forgotten-ID requests, per IP
RATELIMIT_LOOKUP = env_rate("RATELIMIT_LOOKUP", "30/h")  # failed tracking-ID look-ups, per IP
RATELIMIT_CONFIRMATION_EMAIL = env_rate("RATELIMIT_CONFIRMATION_EMAIL", "10/d")  # per recipient
RATELIMIT_FORGOTTEN_ID_EMAIL = env_rate("RATELIMIT_FORGOTTEN_ID_EMAIL", "5/d")  # per recipient
RATELIMIT_RATING = env_rate("RATELIMIT_RATING", "30/h")  # satisfaction ratings sent, per IP
# Each spoken captcha runs the speech synthesiser once: bounded so that it cannot be used to load the server.
RATELIMIT_CAPTCHA_AUDIO = env_rate("RATELIMIT_CAPTCHA_AUDIO", "60/h")
# Failed look-ups from everyone together. Past it, every failed look-up waits
# LOOKUP_ABUSE_DELAY seconds and supervisors get one alert per window: guessing a
# 49-bit ID from many addresses at once becomes slow and visible.
RATELIMIT_LOOKUP_GLOBAL = env_rate("RATELIMIT_LOOKUP_GLOBAL", "1000/h")
LOOKUP_ABUSE_DELAY = env.float("LOOKUP_ABUSE_DELAY", default=1.5)

# --- Retention ----------------------------------------------------------------------
# anonymize_closed_tickets erases the personal data of tickets resolved or closed
# longer ago than this.
RETENTION_MONTHS = env_count("RETENTION_MONTHS", default=24, minimum=1)
# purge_old_records deletes sent notification e-mails and access-log rows older than these.
SENT_EMAIL_RETENTION_DAYS = env_count("SENT_EMAIL_RETENTION_DAYS", default=90, minimum=1)
ACCESS_LOG_RETENTION_DAYS = env_count("ACCESS_LOG_RETENTION_DAYS", default=730, minimum=1)

# --- Captcha ----------------------------------------------------------------------
CAPTCHA_CHALLENGE_FUNCT = "tickets.captcha.digits_challenge"
CAPTCHA_LENGTH = 5
CAPTCHA_IMAGE_SIZE = (150, 50)
CAPTCHA_FONT_SIZE = 34
# Serve captchas from a pool of ready rows instead of writing one per form shown (a
# write per GET was a measurable part of the form's cost). refill_captcha_pool keeps
# CAPTCHA_POOL_SIZE rows ready (cron every 5 minutes, and after every migrate); a row
# is handed out only while it has CAPTCHA_GET_FROM_POOL_TIMEOUT minutes left, so a
# person still gets at least 10 minutes to answer, as without the pool. Each row is
# still deleted at its first answer, right or wrong. Off in development and tests.
CAPTCHA_GET_FROM_POOL = env_flag("CAPTCHA_GET_FROM_POOL", default=not DEBUG)
CAPTCHA_GET_FROM_POOL_TIMEOUT = 10
CAPTCHA_TIMEOUT = 20 if CAPTCHA_GET_FROM_POOL else 10
CAPTCHA_POOL_SIZE = env_count("CAPTCHA_POOL_SIZE", default=500, minimum=1)
# Accepts the answer "PASSED": only for automated tests and benchmarks, never in production.
CAPTCHA_TEST_MODE = env_flag("CAPTCHA_TEST_MODE", default=False)
# The spoken alternative to the image (WCAG 1.1.1) is synthesised by espeak-ng (Debian's
# package "espeak-ng", which has a Latin American Spanish voice) or else flite (English
# only); without either the audio link is not offered. The setting's name is
# django-simple-captcha's, whose widget offers the link when it is set.
CAPTCHA_FLITE_PATH = (
    env.str("CAPTCHA_FLITE_PATH", default=shutil.which("espeak-ng") or shutil.which("flite") or "")
    or None
)

# --- Satisfaction rating ------------------------------------------------------------
# How long after a ticket is resolved or closed the requester may rate the answer
# or change the rating; also the lifetime of the link in the e-mail.
RATING_WINDOW_DAYS = env_count("RATING_WINDOW_DAYS", default=30, minimum=1)

# --- E-mail -------------------------------------------------------------------------
# smtp+tls://user:password@host:587 in production; there it is required, as the
# console backend would print every message, names and addresses included, to the log.
if not DEBUG and not env.str("EMAIL_URL", default=""):
    raise ImproperlyConfigured(
        "EMAIL_URL is required with DEBUG=0, e.g. smtp+tls://user:password@smtp.example.gob.cl:587."
    )
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <mesaayuda@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where new tickets are announced when no agent is routed for their category or region.
HELPDESK_NOTIFY_EMAIL = env.str("HELPDESK_NOTIFY_EMAIL", default="soporte@localhost")
# Where people exercise their rights over their personal data (named in the privacy notice).
PRIVACY_CONTACT_EMAIL = env.str("PRIVACY_CONTACT_EMAIL", default=HELPDESK_NOTIFY_EMAIL)

# --- Inbound mail (tickets/inbound.py) ----------------------------------------------------
# The desk's address for replies: the Reply-To of every ticket e-mail, and the mailbox that
# `receive_mail` (an MTA pipe) or `fetch_mail` (IMAP) reads. Empty: notifications ask
# people to reply on the portal, as before.
INBOUND_EMAIL_ADDRESS = env.str("INBOUND_EMAIL_ADDRESS", default="").strip()
# imaps://user:password@imap.example.gob.cl:993/INBOX (percent-encode special characters);
# imap+tls:// is STARTTLS on 143; imap:// is plain IMAP (loopback only). Read by `fetch_mail`; empty when the MTA pipes mail in.
INBOUND_IMAP_URL = env.str("INBOUND_IMAP_URL", default="").strip()
if INBOUND_IMAP_URL and not re.fullmatch(
    r"imap(s|\+tls)?://[^:@/\s]+:[^@/\s]*@[^/:\s]+(:\d+)?(/\S*)?", INBOUND_IMAP_URL
):
    raise ImproperlyConfigured(
        "INBOUND_IMAP_URL must look like imaps://user:password@imap.example.gob.cl:993/INBOX."
    )
# Where `fetch_mail` moves what it processed (created if missing); empty: flag it as seen instead.
INBOUND_IMAP_DONE_FOLDER = env.str("INBOUND_IMAP_DONE_FOLDER", default="Procesados").strip()
# A message larger than this is recorded as held, unread; 25 MB is what most mail servers accept.
INBOUND_MAX_SIZE = env_count("INBOUND_MAX_SIZE", default=25 * 1024 * 1024, minimum=1024)
# More messages than this from one sender in an hour are held for staff, not applied (a loop).
INBOUND_MAX_PER_SENDER_HOUR = env_count("INBOUND_MAX_PER_SENDER_HOUR", default=20, minimum=1)

# --- Security -------------------------------------------------------------------------
# With DEBUG=0 every protection here is on unless the environment turns it off;
# with DEBUG=1 they default off so runserver works over plain HTTP.
# BEHIND_HTTPS_PROXY=1 believes X-Forwarded-Proto: only when the proxy in front
# terminates TLS and overwrites that header (nginx: proxy_set_header X-Forwarded-Proto $scheme).
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_flag("BEHIND_HTTPS_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_flag("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_count("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0
)
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", default=False)
# Preloading writes the domain into browsers' built-in HTTPS lists, hard to undo:
# the ministry's domain owners decide that, not this portal, so check --deploy's
# reminder (security.W021) is silenced until SECURE_HSTS_PRELOAD=1.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere, the admin included (Django 5.2's loads all
# of its code from files); tests/test_production.py checks the pages against it.
CSP_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# --- Logging ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A tracking ID opens its ticket: log lines carry its short prefix only
    # (tickets/logging.py), so "Not Found: /ticket/1N7-…/" is the one line per error.
    "filters": {"tracking_ids": {"()": "tickets.logging.RedactTrackingIds"}},
    "formatters": {
        "line": {
            "class": "tickets.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            # Logs go to standard error, so that a command's standard output is its own
            # summary line (what cron mails) and a pipe or redirect can tell the two apart.
            "stream": "ext://sys.stderr",
            "formatter": "line",
            "filters": ["tracking_ids"],
        }
    },
    "root": {"handlers": ["stderr"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {
            "handlers": ["stderr"],
            "level": "WARNING",
            "propagate": False,
            "filters": ["tracking_ids"],
        }
    },
}

# Try to send each message right after its transaction commits (in a background
# thread); the send_queued_mail cron command retries whatever that misses.
EMAIL_SEND_ON_COMMIT = env_flag("EMAIL_SEND_ON_COMMIT", default=True)
EMAIL_TIMEOUT = env_count("EMAIL_TIMEOUT", default=10, minimum=1)
