"""Persona Lab settings: one module, configured only by environment variables (see README, "Production").

Without DATABASE_URL / CELERY_BROKER_URL the app runs on the embedded default: SQLite in WAL mode with
immediate transactions, and Celery on kombu's filesystem transport (a broker that needs no server).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.env import EnvironmentVariableError, env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("PERSONA_LAB_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise EnvironmentVariableError("DJANGO_SECRET_KEY", "is required when DJANGO_DEBUG is off")
    SECRET_KEY = "django-insecure-persona-lab-development-only-key-do-not-use-in-production"
elif not DEBUG and len(SECRET_KEY) < 50:
    raise EnvironmentVariableError("DJANGO_SECRET_KEY", "must be at least 50 characters in production")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise EnvironmentVariableError("DJANGO_ALLOWED_HOSTS", "is required when DJANGO_DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "core",
    "personas",
    "benchmarks",
    "annotation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required (participant pages, login).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Answers 503, not 429, when logins were refused because Redis (the login counts) is unreachable.
    "core.login_throttle.LoginThrottleUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the 429 page.
    "axes.middleware.AxesMiddleware",
]

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
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
# The participant save prepares its two statements on PostgreSQL; turn off behind a pooler that cannot keep
# prepared statements (PgBouncer in transaction mode before 1.21).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
# SQLite gets the same options however it is chosen (embedded default or DATABASE_URL=sqlite:///…).
SQLITE_OPTIONS = {
    # Writers take the lock at BEGIN, so concurrent web and worker writes queue instead of failing
    # half-way with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
# The connection budget (README, "Operating it"): each process — a gunicorn worker, a Celery pool child — takes its
# PostgreSQL connections from a psycopg pool of its own, opened on first use and holding at most
# DATABASE_POOL_MAX_SIZE. Connections above DATABASE_POOL_MIN_SIZE close after a minute unused, so the database
# empties after a burst instead of staying full (CONN_MAX_AGE=60 kept one per process open indefinitely). A request
# that finds the pool empty waits DATABASE_POOL_TIMEOUT seconds for a connection, then fails.
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 4, minimum=1)
DATABASE_POOL_MIN_SIZE = env_int("DATABASE_POOL_MIN_SIZE", 0, minimum=0)
DATABASE_POOL_TIMEOUT = env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1)
if DATABASE_POOL_MIN_SIZE > DATABASE_POOL_MAX_SIZE:
    raise EnvironmentVariableError(
        "DATABASE_POOL_MIN_SIZE", f"must be at most DATABASE_POOL_MAX_SIZE ({DATABASE_POOL_MAX_SIZE})"
    )
# The processes that draw on the budget, as this deployment declares them; config/gunicorn.conf.py and the Celery
# worker run with these same figures, and the core.W001 check (manage.py check --deploy --database default) compares
# them with the server's max_connections.
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 4, minimum=1)  # gunicorn worker processes
GUNICORN_THREADS = env_int("GUNICORN_THREADS", 1, minimum=1)  # threads per gunicorn worker
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", os.cpu_count() or 1, minimum=1)
if DATABASE_URL and not DATABASE_URL.startswith("sqlite"):
    # CONN_MAX_AGE must be 0 with a pool: "closing" a connection returns it to the pool.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DATABASE_POOL_MIN_SIZE,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT,
        "max_idle": 60,
    }
    if DATABASE_PREPARED_STATEMENTS:
        # Only server-side-binding cursors prepare, and only the participant pages use one (core.rows.
        # prepared_cursor); Django's ORM binds on the client. None (Django's default) would turn preparing off.
        # A pooled connection keeps its prepared statements when it goes back to the pool (nothing deallocates them).
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2
else:
    _sqlite_name = dj_database_url.parse(DATABASE_URL)["NAME"] if DATABASE_URL else DATA_DIR / "db.sqlite3"
    if str(_sqlite_name) in ("", ":memory:"):
        raise EnvironmentVariableError("DATABASE_URL", "must name an SQLite file (sqlite:////path/db.sqlite3)")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _sqlite_name,
            "OPTIONS": dict(SQLITE_OPTIONS),
            # A file, not memory: the test worker threads and the smoke test's processes share it.
            "TEST": {"NAME": str(Path(_sqlite_name).with_name(f"test-{Path(_sqlite_name).stem}.sqlite3"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery ---------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", schemes=("redis", "rediss", "amqp", "filesystem"))
EMBEDDED_BROKER = CELERY_BROKER_URL is None or CELERY_BROKER_URL.startswith("filesystem")
BROKER_DIR = DATA_DIR / "broker"
if EMBEDDED_BROKER:
    CELERY_BROKER_URL = "filesystem://"
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Job state lives in core.Job rows, so task results are not stored anywhere.
# The queue jobs are sent to and workers consume; set it to keep two deployments sharing one Redis apart.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {
    "sweep-stalled-jobs": {"task": "core.sweep_stalled_jobs", "schedule": 15.0},
    "prolific-sync": {"task": "annotation.prolific_sync", "schedule": 60.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# A running job's lease: its worker renews the heartbeat every quarter of this; silent this long, the worker counts
# as dead, and a redelivered task or the sweep (beat, every 15 s) resumes the job on another worker.
JOB_STALL_SECONDS = env_int("JOB_STALL_SECONDS", 45, minimum=1)
# A queued job no worker has claimed this long after its message was due is sent again by the sweep (its message
# may be lost: a broker restarted empty); again after twice as long each time, up to four times this.
JOB_RESEND_AFTER_SECONDS = env_int("JOB_RESEND_AFTER_SECONDS", 120, minimum=1)
# A dataset stage bigger than this many items is spread over shards of about this size, each a job of its own that
# any free worker takes (benchmarks/datasets/shards.py); smaller stages run as one job.
DATASET_SHARD_ITEMS = env_int("DATASET_SHARD_ITEMS", 2000, minimum=1)
# First back-off before a job that hit a transient error (e.g. a provider outage) is tried again; doubles each time.
JOB_RETRY_BASE_SECONDS = 5.0
# An LLM reply that could not be read (``invalid``) is kept for the record and asked again by a re-run, at most this
# many more times per item; after that it stays invalid and counts as failed.
LLM_INVALID_RETRIES = env_int("LLM_INVALID_RETRIES", 2, minimum=0)

# Redis for cross-worker coordination (LLM rate limits); absent on the embedded default.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss")) or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else None
)

# --- Prolific (annotation studies) ---------------------------------------------------------------------
# API token for paying bonuses through Prolific (optional: without it, export the bulk-bonus CSV instead).
# Arrivals from one IP per minute: Prolific participants behind one university NAT share an address.
PARTICIPANT_ENTRIES_PER_MINUTE_PER_IP = env_int("PARTICIPANT_ENTRIES_PER_MINUTE_PER_IP", 60, minimum=1)
PROLIFIC_API_TOKEN = env_str("PROLIFIC_API_TOKEN")
PROLIFIC_API_URL = env_str("PROLIFIC_API_URL", "https://api.prolific.com")
# Secret Prolific signs its webhook calls with; the webhook endpoint refuses every call while it is unset.
PROLIFIC_WEBHOOK_SECRET = env_str("PROLIFIC_WEBHOOK_SECRET")
# Workspace for a later wave's exclusion group (participant groups belong to one); unset = the token's first.
PROLIFIC_WORKSPACE_ID = env_str("PROLIFIC_WORKSPACE_ID")

# The cache holds rate-limit counters: shared through Redis when there is one, so limits hold across workers.
# It is an accelerator, never the truth: with Redis unreachable, each of its users degrades on its own terms
# (core/cache.py). Short socket timeouts, so an unreachable host (not only a stopped server, which refuses at once)
# costs a cache call half a second to connect instead of the operating system's minutes-long connect timeout.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read on every participant save: from Redis when there is one (written through to the database, so
# nothing is lost if the cache is flushed, and read from it while Redis is unreachable: core/sessions.py). Not with
# the per-process locmem cache, which workers do not share.
if REDIS_URL:
    SESSION_ENGINE = "core.sessions"

# --- Auth -----------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses logins from a locked-out account or address before any password is checked.
    "core.auth_backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (/accounts/login/ and /admin/login/): after LOGIN_FAILURE_LIMIT wrong passwords for one account,
# or from one address, that account or address is refused for LOGIN_LOCKOUT_MINUTES (the right password too).
# Counted in the shared Redis cache when there is one (every gunicorn worker sees the same count); in the database
# on the embedded default, whose per-process cache the web server and the worker would not share.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# With Redis unreachable, logins are refused with a page that says so (core/login_throttle.py: fails closed).
AXES_HANDLER = (
    "core.login_throttle.LoginThrottleCacheHandler" if REDIS_URL else "axes.handlers.database.AxesDatabaseHandler"
)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- REST API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.ModelViewPermissions"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    # ?limit= (1 … 1000, default 100) and ?offset=; anything else is a 400 (core/api/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Persona Lab API",
    "DESCRIPTION": "Read-only access to Persona Lab jobs, personas, studies and reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- I18N / static --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"

# Caps on what a client may send: forms and uploads stay bounded in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Security (production) ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"forbidden_one_line": {"()": "core.log_filters.ForbiddenOneLine"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["forbidden_one_line"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
