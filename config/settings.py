"""Duban settings: one file, every difference between machines read from the environment."""

import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "duban-insecure-development-key"


# The history's key: every event's digest is an HMAC with it, so whoever can write to the database but
# does not hold the key cannot forge an event. Never stored in the database.
def history_key(name, value):
    if len(value) < 32:
        raise ImproperlyConfigured(f"{name} must be at least 32 characters (64 hex digits are best)")
    return value


def development_history_key(path):
    """Created once (mode 0600) and reused; a second process racing the first reads the first's key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        else:
            print(f"HISTORY_KEY is not set: generated a development key into {path}", file=sys.stderr)
        finally:
            draft.unlink()
    return path.read_text().strip()


HISTORY_KEY = os.environ.get("HISTORY_KEY", "")
if HISTORY_KEY:
    HISTORY_KEY = history_key("HISTORY_KEY", HISTORY_KEY)
elif DEBUG:
    HISTORY_KEY = development_history_key(BASE_DIR / "var" / "history.key")
else:
    raise ImproperlyConfigured("HISTORY_KEY must be set when DEBUG is off")
# Keys retired by a rotation: events and checkpoints made with them still verify (looked up by key id).
HISTORY_OLD_KEYS = [history_key("HISTORY_OLD_KEYS", key) for key in env_list("HISTORY_OLD_KEYS", [])]
HISTORY_ALGORITHM = os.environ.get("HISTORY_ALGORITHM", "sm3")  # sm3 (GB/T 32905) or sha256
if HISTORY_ALGORITHM not in {"sm3", "sha256"}:
    raise ImproperlyConfigured(f"HISTORY_ALGORITHM must be sm3 or sha256, not {HISTORY_ALGORITHM!r}")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "viewflow",
    "viewflow.workflow",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "assignments",
    "permissions",
    "workflows",
    # e.g. "bench" while `make bench` runs (its baseline flow must belong to an installed app)
    *env_list("EXTRA_APPS", []),
]

MIDDLEWARE = [
    "config.requestlog.RequestLogMiddleware",  # first: every request gets its id and its log line
    "config.health.HealthMiddleware",  # /healthz before host, HTTPS, session and login: the proxy asks it often
    "config.errors.ApiErrorMiddleware",  # a bad Host or an oversized body under /api/ is refused in JSON
    "config.unavailable.DatabaseUnavailableMiddleware",  # a lost database connection answers 503, not a traceback
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
]

# The middleware above is listed explicitly; viewflow must not append its own.
VIEWFLOW = {"AUTOREGISTER": False}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "permissions.context_processors.identity",
                "workflows.context_processors.notifications",
            ],
        },
    },
]

SQLITE_PATH = BASE_DIR / "db.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH}}
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock when a transaction starts, so of two racing writers the loser
    # waits (up to the timeout) instead of failing mid-transaction with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
for _database in DATABASES.values():
    # every SQLite database, whether the default file or one named by DATABASE_URL
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        _database["OPTIONS"] = {**SQLITE_OPTIONS, **_database.get("OPTIONS", {})}
# Each test run gets a database of its own name: the server may be shared with other jobs, and two
# runs on one machine must never drop each other's database.
TEST_DATABASE_SUFFIX = os.environ.get("TEST_DATABASE_SUFFIX") or f"{os.getpid()}_{secrets.token_hex(3)}"
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests run on a file, not in memory, so that threads racing each other share one database.
    DATABASES["default"]["TEST"].setdefault("NAME", str(BASE_DIR / f"test-db-{TEST_DATABASE_SUFFIX}.sqlite3"))
else:
    DATABASES["default"]["TEST"].setdefault("NAME", f"test_duban_{TEST_DATABASE_SUFFIX}")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "config.auth.LockoutBackend",  # first: a locked account is refused before its password is checked
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one account from one address,
# that account is refused from that address for LOGIN_COOLOFF_MINUTES. The address is the connection's
# (REMOTE_ADDR), never a header a client could forge. `manage.py axes_reset` lifts every lock.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_LOCKOUT_CALLABLE = "config.auth.lockout_response"
AXES_VERBOSE = False

GUARDIAN_MONKEY_PATCH_USER = False
ANONYMOUS_USER_NAME = None

REST_FRAMEWORK = {
    # Token first: an anonymous request gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "workflows.api.handle_exception",
    # Requests per client: anonymous ones by address (the connection's, NUM_PROXIES 0), others by account.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_ANON_RATE", "60/min"),
        "user": os.environ.get("API_USER_RATE", "600/min"),
    },
    "NUM_PROXIES": 0,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "督办 Duban API",
    "DESCRIPTION": (
        "督办事项的查询与办理。认证:请求头 `Authorization: Token <令牌>`(令牌由 `manage.py issue_token` 发放,"
        '可在管理后台吊销),或浏览器会话。所有错误均为 `{"code": "…", "detail": "…"}`。'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"AssignmentStateEnum": "assignments.models.State"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
# Attachments go through Django's storage API only: the file system under MEDIA_ROOT by default, or the
# storage class MEDIA_STORAGE names with the keyword arguments of MEDIA_STORAGE_OPTIONS (JSON), such as
# django-storages' S3Storage for an S3-compatible store shared by several servers (see README).
MEDIA_STORAGE = os.environ.get("MEDIA_STORAGE", "") or "django.core.files.storage.FileSystemStorage"
try:
    MEDIA_STORAGE_OPTIONS = json.loads(os.environ.get("MEDIA_STORAGE_OPTIONS", "") or "{}")
except ValueError as error:
    raise ImproperlyConfigured(f"MEDIA_STORAGE_OPTIONS must be a JSON object: {error}") from None
if MEDIA_STORAGE == "django.core.files.storage.FileSystemStorage":
    # storing bytes that exist saves them again (a rename over the old copy), so they count as recent
    MEDIA_STORAGE_OPTIONS.setdefault("allow_overwrite", True)
STORAGES = {
    "default": {"BACKEND": MEDIA_STORAGE, "OPTIONS": MEDIA_STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": "config.storage.StaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Where `make backup` (manage.py backup) writes its archives unless told otherwise.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", BASE_DIR / "var" / "backups"))
MEDIA_URL = "media/"
# Largest accepted attachment; larger uploads are refused before anything is stored.
ATTACHMENT_MAX_BYTES = (
    env_int("ATTACHMENT_MAX_MB", 20) * 1024 * 1024
)  # never served directly: attachments go through a view that checks visibility

# An open assignment's light turns yellow this many working days before its due date.
DUE_WARNING_DAYS = env_int("DUE_WARNING_DAYS", 5)

# Notifications: written in the action's transaction (an outbox), delivered after commit by a task that
# the database backend keeps across restarts (`manage.py db_worker`, started by `make run`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 5)  # a failed e-mail is tried this often
# E-mail: printed to the console in development; SMTP from the environment in production.
if DEBUG and not os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "duban@localhost")
SITE_URL = os.environ.get("SITE_URL", "")  # e.g. https://duban.example.gov.cn: links in e-mails start with it

# The plan loaded by `make run` and by tests that need the real plan.
PLAN_FILE = BASE_DIR / "assignments" / "plan" / "lvliang-2022-31.json"

# A login lasts SESSION_HOURS at most, and ends with the browser unless SESSION_EXPIRE_AT_BROWSER_CLOSE is off.
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)

# Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto (and removes it from clients'
# requests): without this, every request looks like plain HTTP and the HTTPS redirect loops.
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading asks the browsers' makers to hard-code HTTPS for the whole domain: the domain
        # owner's decision, not the application's; the check that urges it is silenced unless it is taken.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy: scripts and styles from this site only (Swagger UI's start script is served
# as a file too). Styles allow inline: the material frontend and Swagger UI set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # every record carries the id of the request it was logged in (config.requestlog), "-" outside one
    "filters": {"request_id": {"()": "config.requestlog.RequestIdFilter"}},
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "line"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
