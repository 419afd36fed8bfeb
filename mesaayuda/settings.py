"""Settings for Mesa de Ayuda SIGEC.

Every value is read once, here, from the environment (see .env.example). The
defaults give a working development site on SQLite; production differs only
by its environment.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Development is the default (as in healthchecks); production sets DEBUG=0
# (the Docker image does) and must then give its own SECRET_KEY.
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY or (SECRET_KEY == DEV_SECRET_KEY and not DEBUG):
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: with DEBUG=0 the SECRET_KEY environment variable is required "
        "(a long random string, see .env.example)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public address of the portal, used to build links in e-mails sent by cron.
PUBLIC_SITE_URL = env.str("PUBLIC_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How many reverse proxies in front of the app append to X-Forwarded-For.
# 0 means the header is ignored and REMOTE_ADDR is the client's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "captcha",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tickets.middleware.security_headers",
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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Concurrent writers wait for the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://mesaayuda")}

# --- Auth and sessions --------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

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
STORAGES = {
    "default": {"BACKEND": env.str("FILE_STORAGE", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads are written to temporary files as they arrive, never held whole in memory.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_PERMISSIONS = 0o640
TICKET_MAX_FILES = env.int("TICKET_MAX_FILES", default=10)
TICKET_MAX_FILE_SIZE = env.int("TICKET_MAX_FILE_SIZE", default=10 * 1024 * 1024)
TICKET_ALLOWED_EXTENSIONS = env.list(
    "TICKET_ALLOWED_EXTENSIONS",
    default=[
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp",
        "jpg", "jpeg", "png", "gif", "txt", "csv", "zip",
    ],
)
# A request larger than every file at its limit plus the text fields is refused
# before its body is read.
MAX_REQUEST_SIZE = env.int("MAX_REQUEST_SIZE", default=TICKET_MAX_FILES * TICKET_MAX_FILE_SIZE + 1024 * 1024)

# --- Help-desk rules -------------------------------------------------------------
# The manual lets the tracking ID alone open a ticket; set this to also ask for the e-mail.
LOOKUP_REQUIRES_EMAIL = env.bool("LOOKUP_REQUIRES_EMAIL", default=False)
STAFF_RESPONSE_HOURS = env.int("STAFF_RESPONSE_HOURS", default=16)
REQUESTER_RESPONSE_HOURS = env.int("REQUESTER_RESPONSE_HOURS", default=16)
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

# --- Captcha ----------------------------------------------------------------------
CAPTCHA_CHALLENGE_FUNCT = "tickets.captcha.digits_challenge"
CAPTCHA_LENGTH = 5
CAPTCHA_IMAGE_SIZE = (150, 50)
CAPTCHA_FONT_SIZE = 34
CAPTCHA_TIMEOUT = 10
# Accepts the answer "PASSED": only for automated tests and benchmarks, never in production.
CAPTCHA_TEST_MODE = env.bool("CAPTCHA_TEST_MODE", default=False)

# --- E-mail -------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mesa de Ayuda SIGEC <mesaayuda@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where new tickets are announced when no agent is routed for their category or region.
HELPDESK_NOTIFY_EMAIL = env.str("HELPDESK_NOTIFY_EMAIL", default="soporte@localhost")

# --- Security -------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_HTTPS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSP_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# --- Logging ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"handlers": ["stdout"], "level": "WARNING", "propagate": False}},
}

# Try to send each message right after its transaction commits (in a background
# thread); the send_queued_mail cron command retries whatever that misses.
EMAIL_SEND_ON_COMMIT = env.bool("EMAIL_SEND_ON_COMMIT", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
