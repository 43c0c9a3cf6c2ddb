"""linli settings. Every value that differs between machines comes from the environment
(see docs/configuration.md); nothing here needs editing to deploy."""

import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from linli.env import env_bool, env_int, env_key, env_keys, env_list, env_str, env_time_ranges

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LINLI_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# Development gets fixed throw-away keys so that `make run` needs no setup; production must
# set its own or refuse to start.
_DEV_SECRET = "linli-development-only-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
LINLI_FIELD_KEY = env_key(
    "LINLI_FIELD_KEY", hashlib.sha256(b"linli-development-field-key").digest() if DEBUG else None
)
# Keys that sealed data before the last rotation; they only decrypt (docs/personal-data.md).
LINLI_FIELD_KEY_PREVIOUS = env_keys("LINLI_FIELD_KEY_PREVIOUS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "linli.core",
    "linli.areas",
    "linli.accounts",
    "linli.people",
    "linli.notifications",
    "linli.cases",
    "linli.insights",
    "linli.open311",
    "linli.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "linli.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "linli.accounts.middleware.SessionLifetimeMiddleware",
    # Before anything reads the body (CSRF's check reads a form's), with the user known.
    "linli.core.middleware.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns django-ratelimit's refusal into RATELIMIT_VIEW's 429.
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, so that it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linli.core.context_processors.site",
                "linli.notifications.context_processors.notifications",
                "linli.insights.context_processors.insights",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite settings follow the measurements in docs/performance.md: WAL with synchronous=NORMAL
# commits ~17x faster than the rollback journal, and IMMEDIATE transactions take the write
# lock up front so concurrent writers queue on busy_timeout instead of failing with BUSY.
SQLITE_PATH = VAR_DIR / "linli.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 5,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=5000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    # The database cache is shared by every web process, which rate limits need; a Redis
    # cache takes its place when REDIS_URL is set.
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "linli_cache",
    }
}
if env_str("REDIS_URL", ""):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("REDIS_URL"),
    }

# --- Accounts and sessions ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Counts failures and refuses locked accounts before any password is hashed.
    "axes.backends.AxesStandaloneBackend",
    "linli.accounts.backends.UsernameOrPhoneBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "linli.accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# 等保 2.0: idle sessions end after 30 minutes; SESSION_SAVE_EVERY_REQUEST makes the
# cookie age a sliding idle timeout, and the middleware enforces an absolute lifetime too.
LINLI_IDLE_TIMEOUT_MINUTES = env_int("LINLI_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
LINLI_SESSION_MAX_HOURS = env_int("LINLI_SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = LINLI_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout: five wrong passwords lock the *account* (not the address: fifty grid workers may
# share one street-office NAT). Addresses are throttled separately at a higher threshold.
AXES_FAILURE_LIMIT = env_int("LINLI_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LINLI_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes warns that locking by username alone lets an attacker spray many accounts from one
# address. That is deliberate here (the NAT rule above); spraying is met by the per-address
# throttle, LINLI_LOGIN_RATE_PER_IP, on the login page and the token endpoint.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "linli.accounts.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "linli.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("LINLI_PROXY_COUNT", 0, minimum=0)
LINLI_LOGIN_RATE_PER_IP = env_str("LINLI_LOGIN_RATE_PER_IP", "100/10m")
# Sign-in attempts naming one account, right or wrong, from anywhere (django-ratelimit
# syntax); the lockout above counts wrong passwords only.
LINLI_LOGIN_RATE_PER_ACCOUNT = env_str("LINLI_LOGIN_RATE_PER_ACCOUNT", "30/10m")
LINLI_API_TOKEN_DAYS = env_int("LINLI_API_TOKEN_DAYS", 30, minimum=1)

LINLI_SMS_BACKEND = env_str("LINLI_SMS_BACKEND", "linli.accounts.sms.ConsoleSmsBackend")
LINLI_SMS_CODE_MINUTES = env_int("LINLI_SMS_CODE_MINUTES", 10, minimum=1)

# --- Email (notifications; docs/notifications.md) -----------------------------------------
# Development prints mail to the console; production sends through SMTP. Mail goes out
# after the transaction commits, within the request, so a slow server is cut off at the
# timeout (and logged) rather than holding the page.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "linli@localhost")
# The site's address (https://linli.example.gov.cn), for links in emails and texts; empty
# leaves them out.
LINLI_SITE_URL = env_str("LINLI_SITE_URL", "")

# --- The resident register (docs/personal-data.md) -----------------------------------------
# Roles that may see an ID number or phone in full (with a reason, logged) within their
# scope, see sensitive tags, and export unmasked; individual users can also be granted the
# people.reveal_personal_data / view_sensitive_tags / export_full permissions.
LINLI_REVEAL_ROLES = env_list("LINLI_REVEAL_ROLES", ["grid_worker", "dispatcher", "admin"])
LINLI_SENSITIVE_ROLES = env_list("LINLI_SENSITIVE_ROLES", ["admin"])
LINLI_FULL_EXPORT_ROLES = env_list("LINLI_FULL_EXPORT_ROLES", ["admin"])
# Full views one user may make in an hour before they are refused (and the refusal audited).
LINLI_REVEALS_PER_HOUR = env_int("LINLI_REVEALS_PER_HOUR", 60, minimum=1)
LINLI_MAX_IMAGE_BYTES = env_int("LINLI_MAX_IMAGE_BYTES", 10 * 1024 * 1024, minimum=1024)

RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "linli.core.views.rate_limited"
# The caller's address behind LINLI_PROXY_COUNT proxies, as axes sees it.
RATELIMIT_IP_META_KEY = "linli.core.ratelimits.client_ip"
# Cases filed (report page and POST /api/v1/cases together) per address and per account;
# a street office's NAT carries many workers, a dispatcher enters a call every few minutes.
LINLI_INTAKE_RATE_PER_IP = env_str("LINLI_INTAKE_RATE_PER_IP", "300/h")
LINLI_INTAKE_RATE_PER_ACCOUNT = env_str("LINLI_INTAKE_RATE_PER_ACCOUNT", "60/h")

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Each app keeps its own catalogue in <app>/locale/; project-level files (settings, api)
# share core's. msgids are English; the zh_Hans catalogues are complete (a test checks).
LOCALE_PATHS = [BASE_DIR / "linli" / "core" / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True
# Office time on a working day, in TIME_ZONE: deadlines in 工作时 count only these hours
# (docs/calendar.md).
LINLI_OFFICE_HOURS = env_time_ranges("LINLI_OFFICE_HOURS", "08:30-12:00,13:30-17:30")
# How long a process keeps its copy of the working-day overrides before re-reading them.
LINLI_WORKCAL_TTL_SECONDS = env_int("LINLI_WORKCAL_TTL_SECONDS", 5, minimum=0)

# --- Cases (docs/cases.md) ------------------------------------------------------------------
# A new report is offered the open cases of the same matter within this many metres,
# reported in the last this many days, whose text is at least this similar (percent,
# character bigrams), as possible duplicates.
LINLI_DUPLICATE_RADIUS_M = env_int("LINLI_DUPLICATE_RADIUS_M", 150, minimum=1)
LINLI_DUPLICATE_DAYS = env_int("LINLI_DUPLICATE_DAYS", 7, minimum=1)
LINLI_DUPLICATE_SIMILARITY = env_int("LINLI_DUPLICATE_SIMILARITY", 30, minimum=0)
# Where `train_matter_suggester` saves the matter suggester's model and every process reads
# it (docs/suggester.md).
LINLI_SUGGESTER_PATH = Path(
    env_str("LINLI_SUGGESTER_PATH", str(VAR_DIR / "models" / "matter_suggester.joblib"))
)
# The KPI limits (docs/kpis.md): a dispatch is timely within this many working hours of the
# case entering the centre's queue; a sign-for is a timely response within these working
# hours of the dispatch (or reopen), by urgency.
LINLI_KPI_DISPATCH_HOURS = env_int("LINLI_KPI_DISPATCH_HOURS", 2, minimum=0)
LINLI_KPI_SIGN_HOURS = {
    "normal": env_int("LINLI_KPI_SIGN_HOURS_NORMAL", 8, minimum=0),
    "urgent": env_int("LINLI_KPI_SIGN_HOURS_URGENT", 2, minimum=0),
    "critical": env_int("LINLI_KPI_SIGN_HOURS_CRITICAL", 1, minimum=0),
}
# The monthly evaluation workbook (docs/kpis.md): the composite score weighs these
# rates ("name:weight,…"; governance-standards §2.2), and its colour grades start at these
# scores (green, blue, yellow; red below).
LINLI_KPI_WEIGHTS: dict[str, int] = {}
for _item in env_list(
    "LINLI_KPI_WEIGHTS", ["on_time_rate:30", "satisfaction_rate:35", "resolution_rate:35"]
):
    _name, _colon, _weight = _item.partition(":")
    if not (_colon and _name.strip() and _weight.strip().isdigit() and int(_weight) > 0):
        raise ImproperlyConfigured(
            f"LINLI_KPI_WEIGHTS must be name:weight pairs with whole weights above 0, not {_item!r}"
        )
    LINLI_KPI_WEIGHTS[_name.strip()] = int(_weight)
_grades = env_list("LINLI_KPI_GRADES", ["90", "80", "70"])
if (
    len(_grades) != 3
    or not all(g.isdigit() for g in _grades)
    or _grades != sorted(_grades, key=int, reverse=True)
):
    raise ImproperlyConfigured(
        f"LINLI_KPI_GRADES must be three scores, highest first (90,80,70), not {_grades!r}"
    )
LINLI_KPI_GRADES = dict(zip(("green", "blue", "yellow"), map(int, _grades), strict=True))

# --- Static files -------------------------------------------------------------------------
# Third-party assets come from npm (package-lock.json) and are served straight from
# node_modules; no bundler.
NODE_MODULES = BASE_DIR / "node_modules"
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# --- The map ---------------------------------------------------------------------------------
# Empty: grids are drawn on a plain background and the map works offline. Set a tile URL
# template (e.g. a 天地图 WMTS URL with your key) when the server has one.
LINLI_TILE_URL = env_str("LINLI_TILE_URL", "")
LINLI_TILE_ATTRIBUTION = env_str("LINLI_TILE_ATTRIBUTION", "")
# How often a process re-checks whether grid polygons changed in another process.
LINLI_GRID_INDEX_TTL_SECONDS = env_int("LINLI_GRID_INDEX_TTL_SECONDS", 5, minimum=0)
# How long a process keeps the matter catalogue (with questions and options) before it
# re-reads it; a save in the same process forgets it at once.
LINLI_CATALOGUE_TTL_SECONDS = env_int(
    "LINLI_CATALOGUE_TTL_SECONDS", LINLI_GRID_INDEX_TTL_SECONDS, minimum=0
)

# --- Open311 GeoReport v2 (docs/open311.md) -------------------------------------------------
# What discovery tells clients: who to write to, how to get a key, the jurisdiction id (the
# city's web domain by convention; a single-jurisdiction server accepts any or none).
LINLI_OPEN311_CONTACT = env_str("LINLI_OPEN311_CONTACT", "")
LINLI_OPEN311_KEY_SERVICE = env_str("LINLI_OPEN311_KEY_SERVICE", "")
LINLI_OPEN311_JURISDICTION = env_str("LINLI_OPEN311_JURISDICTION", "")
# "test" while clients try the endpoint out, "production" once cases filed are real work.
LINLI_OPEN311_ENDPOINT_TYPE = env_str("LINLI_OPEN311_ENDPOINT_TYPE", "production")
if LINLI_OPEN311_ENDPOINT_TYPE not in ("production", "test"):
    raise ImproperlyConfigured(
        f"LINLI_OPEN311_ENDPOINT_TYPE must be production or test, "
        f"not {LINLI_OPEN311_ENDPOINT_TYPE!r}"
    )
# POSTs one key, and one address, may make (django-ratelimit syntax); then 429.
LINLI_OPEN311_RATE_PER_KEY = env_str("LINLI_OPEN311_RATE_PER_KEY", "60/m")
LINLI_OPEN311_RATE_PER_IP = env_str("LINLI_OPEN311_RATE_PER_IP", "120/m")

# --- Security ------------------------------------------------------------------------------
LINLI_HTTPS = env_bool("LINLI_HTTPS", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if LINLI_HTTPS:
    SECURE_SSL_REDIRECT = env_bool("LINLI_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("LINLI_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("LINLI_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole registrable domain (often a gov.cn one shared with
        # other offices) to HTTPS in browsers for good: the operator's decision, not a
        # default; check --deploy stays clean without it (docs/security.md).
        SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("LINLI_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)
# A multipart body (a form with photos: up to 6 of LINLI_MAX_IMAGE_BYTES each) larger than
# this is refused with 413 before it is read (core.middleware.RequestSizeLimitMiddleware).
LINLI_MAX_REQUEST_BYTES = env_int("LINLI_MAX_REQUEST_BYTES", 64 * 1024 * 1024, minimum=1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

LINLI_SITE_NAME = _("linli community governance")
