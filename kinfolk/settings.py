"""Kinfolk's one settings module: every knob comes from the environment.

Development defaults are safe (SQLite in ``var/``, DEBUG off unless asked).
``KINFOLK_ENV=production`` makes a missing ``SECRET_KEY`` or field-encryption
key a start-up error instead of falling back to a development value.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

env = environ.Env()

KINFOLK_ENV = env.str("KINFOLK_ENV", default="development")
PRODUCTION = KINFOLK_ENV == "production"
DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "kinfolk-development-only-secret-key-not-for-production-use-0123456789"  # noqa: S105 - development only; production requires SECRET_KEY
# Fernet keys (url-safe base64, 32 bytes). Several may be given, comma-separated:
# the first encrypts, all decrypt, so keys can be rotated without a rewrite.
_DEV_FIELD_KEY = "a2luZm9say1kZXZlbG9wbWVudC1maWVsZC1rZXktMDE="

if PRODUCTION:
    from django.core.exceptions import ImproperlyConfigured

    for _name in ("SECRET_KEY", "KINFOLK_FIELD_KEYS"):
        if not env.str(_name, default=""):
            raise ImproperlyConfigured(f"{_name} must be set when KINFOLK_ENV=production")

SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET)
KINFOLK_FIELD_KEYS = env.list("KINFOLK_FIELD_KEYS", default=[_DEV_FIELD_KEY])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "kinfolk.core",
    "kinfolk.people",
    "kinfolk.intake",
    "kinfolk.partners",
    "kinfolk.cases",
    "kinfolk.placements",
    "kinfolk.web",
]

MIDDLEWARE = [
    "kinfolk.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kinfolk.core.middleware.SessionTimeoutMiddleware",
    "kinfolk.core.middleware.AgencyTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kinfolk.core.middleware.SecurityHeadersMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kinfolk.urls"
WSGI_APPLICATION = "kinfolk.wsgi.application"
AUTH_USER_MODEL = "core.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kinfolk.web.context.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR = Path(env.str("KINFOLK_VAR_DIR", default=str(BASE_DIR / "var")))
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kinfolk.sqlite3'}"),
}
# Every request is one transaction: a read writes its audit row in the same transaction,
# and a failure anywhere leaves nothing behind that claims success.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            # IMMEDIATE takes the write lock when a transaction starts, so two writers
            # queue instead of deadlocking when a reader tries to upgrade its lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            ),
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The person-matching search index (kinfolk.matching.SearchIndex): one SQLite file per
# database, kept in step by the people services; rebuild with `rebuild_match_index`.
KINFOLK_MATCH_INDEX = Path(
    env.str("KINFOLK_MATCH_INDEX", default=str(VAR_DIR / "match-index.sqlite3"))
)

# --- Auth and sessions ----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Idle timeout (no request for this long ends the session) and absolute lifetime.
KINFOLK_SESSION_IDLE_SECONDS = env.int("KINFOLK_SESSION_IDLE_SECONDS", default=30 * 60)
# API tokens (scripts) live as long as a session at most, then a new one must be asked for.
KINFOLK_TOKEN_SECONDS = env.int("KINFOLK_TOKEN_SECONDS", default=10 * 60 * 60)
SESSION_COOKIE_AGE = env.int("KINFOLK_SESSION_ABSOLUTE_SECONDS", default=10 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True

# Login throttling (django-axes): lock a username+IP after repeated failures.
AXES_FAILURE_LIMIT = env.int("KINFOLK_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("KINFOLK_LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ENABLED = env.bool("KINFOLK_LOGIN_THROTTLING", default=True)

# --- Security headers -----------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
KINFOLK_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)

# --- Internationalisation and time ----------------------------------------------------------
LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
# The agency's own zone: legal timeframes and the pages' clocks use it (policy may override).
KINFOLK_AGENCY_TIME_ZONE = env.str("KINFOLK_AGENCY_TIME_ZONE", default="America/Chicago")
KINFOLK_POLICY_FILE = env.str(
    "KINFOLK_POLICY_FILE", default=str(PACKAGE_DIR / "policy" / "default.yaml")
)


def _policy_time_zone(path: str, fallback: str) -> str:
    """``agency.time_zone`` from the policy file (the start-up policy check reports a bad file)."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return str(raw["agency"]["time_zone"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return fallback


# Stored values stay UTC (USE_TZ); forms read and pages show times in the agency's zone, and
# timezone.localdate() is the agency's date. AgencyTimeZoneMiddleware activates the same zone
# per request, so a policy swapped at run time is followed too.
TIME_ZONE = _policy_time_zone(KINFOLK_POLICY_FILE, KINFOLK_AGENCY_TIME_ZONE)
KINFOLK_BREAK_GLASS_MINUTES = env.int("KINFOLK_BREAK_GLASS_MINUTES", default=240)
KINFOLK_IDEMPOTENCY_HOURS = env.int("KINFOLK_IDEMPOTENCY_HOURS", default=48)
# ``make run`` sets it: the sign-in page then lists the demo logins (synthetic data only).
KINFOLK_DEMO = env.bool("KINFOLK_DEMO", default=False)

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "kinfolk.core.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "kinfolk.core.api.KinfolkAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "kinfolk.core.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["kinfolk.core.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kinfolk API",
    "DESCRIPTION": "Child-welfare information system. Updates need If-Match; "
    "POSTs accept an Idempotency-Key header.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Logging: IDs only, never names, dates of birth or narratives -----------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_query": {"()": "kinfolk.core.logfilters.RedactQueryStrings"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_query"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
