"""Settings classes per environment, read from environment variables.

`APP_ENV` picks the class (development, testing, production). Every value can be
overridden by the environment variable of the same name; see config/example.env.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import overload
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))


# The province's wall clock: office hours, days, local times shown and exported.
TIMEZONE = "Asia/Ho_Chi_Minh"
VN_TZ = ZoneInfo(TIMEZONE)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None = None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _bool(name: str, default: bool) -> bool:
    """A boolean setting; anything but true/false, 1/0, yes/no, on/off is an error (no typo
    silently turns a switch off)."""
    raw = _env(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean: use true/false, 1/0, yes/no or on/off")


SECRET_KEY_FILE = INSTANCE / "secret_key"
# Keys that were ever written in this repository or its docs: never accepted outside tests.
WELL_KNOWN_SECRETS = frozenset({"dev-only-not-secret", "change-me", "secret", "bench-abuse"})
SECRET_KEY_MIN_LENGTH = 32


def _secret_key() -> str | None:
    """SECRET_KEY from the environment, else the key `make run` generated into instance/."""
    key = _env("SECRET_KEY")
    if key is None and SECRET_KEY_FILE.is_file():
        key = SECRET_KEY_FILE.read_text(encoding="utf-8").strip() or None
    return key


def check_secret_key(config: dict) -> None:
    """Refuse to run without a real secret (every process builds its app through this).

    Outside `testing`, a missing, short or well-known SECRET_KEY stops the process: a key an
    attacker can guess lets them sign a session cookie for any user.
    """
    if config.get("APP_ENV") == "testing":
        return
    key = config.get("SECRET_KEY")
    if not key or key in WELL_KNOWN_SECRETS or len(str(key)) < SECRET_KEY_MIN_LENGTH:
        raise RuntimeError(
            "SECRET_KEY is missing, too short or well known. Set SECRET_KEY (at least "
            f"{SECRET_KEY_MIN_LENGTH} random characters, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`) or run `make run`, which writes one to "
            f"{SECRET_KEY_FILE}."
        )


class Config:
    """Defaults shared by every environment: the embedded set-up (SQLite, no broker server)."""

    APP_ENV = "development"
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE / 'phananh.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Celery: kombu's SQLAlchemy transport needs no server; Redis in production and CI.
    CELERY_BROKER_URL = _env("CELERY_BROKER_URL", f"sqla+sqlite:///{INSTANCE / 'broker.sqlite'}")
    CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", False)
    # The queues' common prefix: one queue per kind of work, `<prefix>.intake`, `.outbox`, ….
    CELERY_QUEUE = _env("CELERY_QUEUE", "phananh")
    # The kinds a worker takes (comma-separated, webapp/infra/task_names.KINDS); empty = all.
    WORKER_QUEUES = _env("WORKER_QUEUES", "")
    # Redis redelivers a task whose worker died after this many seconds (acks_late).
    CELERY_VISIBILITY_TIMEOUT = int(_env("CELERY_VISIBILITY_TIMEOUT", "3600"))
    # Off: nothing is sent to the broker (the sweep does the work); tests of intake alone.
    TASKS_ENABLED = _bool("TASKS_ENABLED", True)
    # The sweep re-enqueues reports still unclassified after this long.
    REQUEUE_AFTER_SECONDS = _float("REQUEUE_AFTER_SECONDS", 60)

    PROVINCE_CODE = _env("PROVINCE_CODE", "48")
    PUBLIC_CODE_PREFIX = _env("PUBLIC_CODE_PREFIX", "PA")
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE / "uploads"))
    # Photos and exports in an S3-compatible object store instead of UPLOAD_DIR/EXPORT_DIR:
    # s3://BUCKET/PREFIX?endpoint=http://host:8333&region=us-east-1 (credentials: the AWS_*
    # variables boto3 reads). Empty: the local folders (one machine).
    STORAGE_URL = _env("STORAGE_URL", "")
    MAX_CONTENT_LENGTH = int(_env("MAX_CONTENT_LENGTH", str(60 * 1024 * 1024)))
    PHOTO_MAX_BYTES = int(_env("PHOTO_MAX_BYTES", str(10 * 1024 * 1024)))
    # Per file, from the header: 65 MP takes 48/50/64 MP phone photos (JPEGs are decoded at
    # about the web copy's size, so their pixels cost little). PNG, WebP and progressive JPEG
    # can only be decoded whole: 20 MP each. A submission's photos may cost 35 M in all
    # (pixels decoded, 1¼ for PNG/WebP, + bytes): under a second of CPU (intake/photo_budget.py).
    PHOTO_MAX_PIXELS = int(_env("PHOTO_MAX_PIXELS", str(65_000_000)))
    PHOTO_MAX_FULL_DECODE_PIXELS = int(_env("PHOTO_MAX_FULL_DECODE_PIXELS", str(20_000_000)))
    PHOTO_MAX_REQUEST_PIXELS = int(_env("PHOTO_MAX_REQUEST_PIXELS", str(35_000_000)))
    PHOTO_MAX_COUNT = int(_env("PHOTO_MAX_COUNT", "5"))
    # Submissions decoding photos at once per process, and how long another one waits for its
    # turn before it is told the service is busy (503).
    PHOTO_DECODE_CONCURRENCY = int(_env("PHOTO_DECODE_CONCURRENCY", "2"))
    PHOTO_DECODE_WAIT_SECONDS = _float("PHOTO_DECODE_WAIT_SECONDS", 10.0)
    DESCRIPTION_MIN_LENGTH = int(_env("DESCRIPTION_MIN_LENGTH", "10"))
    DESCRIPTION_MAX_LENGTH = int(_env("DESCRIPTION_MAX_LENGTH", "4000"))

    # Geography
    GEO_BOUNDARIES_FILE = _env("GEO_BOUNDARIES_FILE")
    NOMINATIM_DOMAIN = _env("NOMINATIM_DOMAIN")  # off by default: offline gazetteer only
    NOMINATIM_SCHEME = _env("NOMINATIM_SCHEME", "https")
    NOMINATIM_USER_AGENT = _env("NOMINATIM_USER_AGENT", "phananh-hientruong")
    MAP_TILE_URL = _env("MAP_TILE_URL", "")  # empty: boundaries only, no tiles
    MAP_TILE_ATTRIBUTION = _env("MAP_TILE_ATTRIBUTION", "")
    # Seconds a heatmap answer is reused (0: never cached).
    HEATMAP_CACHE_SECONDS = _float("HEATMAP_CACHE_SECONDS", 30)
    # Where heatmap answers are shared (redis://…: by every web process); empty: in each process.
    HEATMAP_CACHE_URL = _env("HEATMAP_CACHE_URL", "")
    # The province heatmap and the KPIs read the report rollup once built (off: the reports).
    IOC_ROLLUP = _bool("IOC_ROLLUP", True)

    # NLU
    RASA_URL = _env("RASA_URL", "http://127.0.0.1:5005")
    # Below it, a report waits for an operator. 0.82 is the lowest threshold the triage budget
    # below picks on `flask nlu crossval` of step 15's nlu/data (seeds 0, 1, 2 pick 0.82, 0.84,
    # 0.82), so within the budget with each: 85.5 % routed, 97.1 % of them right with seed 0
    # (0.6 gave 93.3 % and 95.1 %): a wrong agency costs a resident days, triage costs an
    # operator minutes.
    NLU_CONFIDENCE_THRESHOLD = _float("NLU_CONFIDENCE_THRESHOLD", 0.82)
    # The share of reports the IOC's operators can triage: `flask nlu crossval` prints the
    # threshold it picks (the most precise one that keeps triage within it).
    NLU_TRIAGE_BUDGET = _float("NLU_TRIAGE_BUDGET", 0.15)
    NLU_TIMEOUT = _float("NLU_TIMEOUT", 3.0)
    NLU_RETRIES = int(_env("NLU_RETRIES", "2"))
    # After this long without an answer from the NLU, a report goes to triage.
    NLU_TRIAGE_AFTER_MINUTES = _float("NLU_TRIAGE_AFTER_MINUTES", 30)
    # The learning loop: retrain once this many new corrections exist (nightly, 03:30), score
    # the candidate and the serving model on NLU_EVAL_FILES ("name=path,…"; default: the
    # held-out split nlu/heldout/*.jsonl and ../shared/nlu/dev.jsonl when present; files named
    # heldout_… are also scored together as the split as a whole) and promote it only if, on
    # that split and on the other sets, macro-F1 does not drop and the share routed to a wrong
    # category does not rise by more than the tolerance, and triage stays within the budget.
    NLU_RETRAIN_MIN_EXAMPLES = int(_env("NLU_RETRAIN_MIN_EXAMPLES", "20"))
    NLU_EVAL_FILES = _env("NLU_EVAL_FILES", "")
    NLU_PROMOTION_TOLERANCE = _float("NLU_PROMOTION_TOLERANCE", 0.0)
    # Rasa replicas told to load a promoted model (comma-separated; default RASA_URL).
    NLU_RELOAD_URLS = _env("NLU_RELOAD_URLS", "")

    # Deadlines and delivery
    REMINDER_AT_FRACTION = _float("REMINDER_AT_FRACTION", 0.75)
    OUTBOX_MAX_ATTEMPTS = int(_env("OUTBOX_MAX_ATTEMPTS", "8"))
    OUTBOX_BACKOFF_SECONDS = _float("OUTBOX_BACKOFF_SECONDS", 30)
    SWEEP_BATCH = int(_env("SWEEP_BATCH", "500"))
    # The beat sends the sweep this often; however many beats send it, it runs at most once
    # in SWEEP_MIN_INTERVAL_SECONDS.
    SWEEP_SECONDS = _float("SWEEP_SECONDS", 60)
    SWEEP_MIN_INTERVAL_SECONDS = _float("SWEEP_MIN_INTERVAL_SECONDS", 50)
    # Liveness: workers write a heartbeat this often; a beat holds the scheduler's lease for
    # this long (a standby takes over within it); /healthz calls the beat late after
    # BEAT_LATE_SECONDS without a sweep, and a worker gone after WORKER_GONE_SECONDS.
    HEARTBEAT_SECONDS = _float("HEARTBEAT_SECONDS", 30)
    BEAT_LEASE_SECONDS = _float("BEAT_LEASE_SECONDS", 30)
    BEAT_LATE_SECONDS = _float("BEAT_LATE_SECONDS", 120)
    WORKER_GONE_SECONDS = _float("WORKER_GONE_SECONDS", 90)
    # /healthz: the outbox is "degraded" with this many messages due and undelivered.
    OUTBOX_BACKLOG_LIMIT = int(_env("OUTBOX_BACKLOG_LIMIT", "200"))
    # /healthz and /metrics reuse one check for this long: however often they are asked, the
    # database, broker and NLU see at most one probe per process per interval.
    HEALTH_CACHE_SECONDS = _float("HEALTH_CACHE_SECONDS", 5)
    # /metrics (Prometheus): with a token, only `Authorization: Bearer <token>`; without one,
    # only clients on this machine (a Prometheus agent beside each web process).
    METRICS_TOKEN = _env("METRICS_TOKEN", "")
    # "json": one JSON object per log line, with the request id (production's default);
    # "text": for a terminal.
    LOG_FORMAT = _env("LOG_FORMAT", "text")
    # Sentry (or a compatible service such as GlitchTip): unhandled errors are sent there.
    # Residents' words and contacts are not: no request bodies, cookies or local variables.
    SENTRY_DSN = _env("SENTRY_DSN", "")
    SENTRY_ENVIRONMENT = _env("SENTRY_ENVIRONMENT", "production")
    SENTRY_TRACES_SAMPLE_RATE = _float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
    # In-memory caches (the ward index) check their version in the database this often.
    CACHE_CHECK_SECONDS = _float("CACHE_CHECK_SECONDS", 5)
    SMTP_HOST = _env("SMTP_HOST", "")  # empty: e-mails stay in the outbox as failed
    SMTP_PORT = int(_env("SMTP_PORT", "25"))
    SMTP_USER = _env("SMTP_USER", "")
    SMTP_PASSWORD = _env("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
    MAIL_FROM = _env("MAIL_FROM", "phananh@localhost")
    # The weekly summary workbook goes to these addresses (comma-separated) every Monday 07:00.
    LEADERSHIP_EMAILS = _env("LEADERSHIP_EMAILS", "")
    # Export files (empty: instance/exports); lists longer than this are made in the background.
    EXPORT_DIR = _env("EXPORT_DIR", "")
    EXPORT_BACKGROUND_ROWS = int(_env("EXPORT_BACKGROUND_ROWS", "5000"))
    # Background export files are deleted this many days after they were made.
    EXPORT_KEEP_DAYS = int(_env("EXPORT_KEEP_DAYS", "7"))
    # The public open dataset (/du-lieu-mo) holds the reports of this many last days.
    OPEN_DATA_DAYS = int(_env("OPEN_DATA_DAYS", "365"))
    IOC_EMAIL = _env("IOC_EMAIL", "")

    # Messenger bots (bot/ and webapp/services/messaging/channels/).
    TELEGRAM_BOT_TOKEN = _env("TELEGRAM_BOT_TOKEN", "")
    # python-telegram-bot's base_url (a local fake in tests).
    TELEGRAM_API_BASE_URL = _env("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot")
    # Its base_file_url; empty: the same host under /file/bot, as Telegram does.
    TELEGRAM_FILE_BASE_URL = _env("TELEGRAM_FILE_BASE_URL", "")
    # Webhook mode: Telegram sends it back in X-Telegram-Bot-Api-Secret-Token (empty: refuse all).
    TELEGRAM_WEBHOOK_SECRET = _env("TELEGRAM_WEBHOOK_SECRET", "")
    ZALO_APP_ID = _env("ZALO_APP_ID", "")
    ZALO_APP_SECRET = _env("ZALO_APP_SECRET", "")  # the app's secret key, for token refresh
    ZALO_OA_SECRET_KEY = _env("ZALO_OA_SECRET_KEY", "")  # signs webhook events (empty: refuse all)
    ZALO_API_BASE_URL = _env("ZALO_API_BASE_URL", "https://openapi.zalo.me")
    ZALO_OAUTH_BASE_URL = _env("ZALO_OAUTH_BASE_URL", "https://oauth.zaloapp.com")
    # First tokens only: after the first refresh the database holds the current pair.
    ZALO_ACCESS_TOKEN = _env("ZALO_ACCESS_TOKEN", "")
    ZALO_REFRESH_TOKEN = _env("ZALO_REFRESH_TOKEN", "")
    # Zalo's free reply window: consultation messages within this many hours of the
    # resident's last message, at most this many, each quoting that message's id.
    ZALO_WINDOW_HOURS = _float("ZALO_WINDOW_HOURS", 48.0)
    ZALO_WINDOW_MESSAGES = int(_env("ZALO_WINDOW_MESSAGES", "8"))
    # The OA may send transaction (template) messages (a verified OA with quota).
    ZALO_TRANSACTION_ENABLED = _bool("ZALO_TRANSACTION_ENABLED", False)
    # ZNS: template messages to a resident's verified phone, through the OA's access token.
    ZNS_API_BASE_URL = _env("ZNS_API_BASE_URL", "https://business.openapi.zalo.me")
    # Template id per kind of update: "received=…,assigned=…,resolved=…,rejected=…,reply=…,
    # code=…" (code: the phone verification code); a kind without a template is not sent by ZNS.
    ZNS_TEMPLATES = _env("ZNS_TEMPLATES", "")
    # SMS brandname gateway through one HTTP adapter (see messaging/channels/sms.py).
    SMS_URL = _env("SMS_URL", "")
    SMS_AUTH_HEADER = _env("SMS_AUTH_HEADER", "")  # e.g. "Authorization: Basic …"
    SMS_BRANDNAME = _env("SMS_BRANDNAME", "")
    # The JSON body, with {phone} {text} {brandname} {id} {dlr_url} filled in (JSON-escaped).
    SMS_BODY_TEMPLATE = _env(
        "SMS_BODY_TEMPLATE",
        '{"to": "{phone}", "from": "{brandname}", "text": "{text}", "ref": "{id}",'
        ' "callback": "{dlr_url}"}',
    )
    # Accepted when the answer's field (dotted path) has this value (empty: any 2xx answer).
    SMS_SUCCESS_FIELD = _env("SMS_SUCCESS_FIELD", "")
    SMS_SUCCESS_VALUE = _env("SMS_SUCCESS_VALUE", "")
    # Shared secret the gateway's delivery reports carry (?token=); empty: reports refused.
    SMS_DLR_TOKEN = _env("SMS_DLR_TOKEN", "")
    # When a resident's messenger cannot be reached for free, try these, in order.
    RESIDENT_FALLBACK = _env("RESIDENT_FALLBACK", "zalo_transaction,zns,sms")
    # Messages a month each paid channel may send ("zns=3000,sms=2000,zalo_transaction=5000");
    # a channel without a figure is not limited.
    MESSAGE_BUDGETS = _env("MESSAGE_BUDGETS", "")
    MESSENGER_TIMEOUT = _float("MESSENGER_TIMEOUT", 10.0)
    BOT_NEARBY_METERS = _float("BOT_NEARBY_METERS", 150.0)
    # A report left half-written this long is forgotten at the resident's next message.
    BOT_DRAFT_TTL_HOURS = _float("BOT_DRAFT_TTL_HOURS", 24.0)

    # Limits on what one client can cost (Flask-Limiter syntax, ";" between limits). A
    # resident rarely files more than a few reports an hour; a carrier's address is shared.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # memory:// in the embedded default; redis://… to share counts between processes.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_INTAKE_ADDRESS = _env(
        "RATELIMIT_INTAKE_ADDRESS", "5 per minute;30 per hour;100 per day"
    )
    RATELIMIT_INTAKE_IDENTITY = _env(
        "RATELIMIT_INTAKE_IDENTITY", "3 per minute;6 per hour;20 per day"
    )
    RATELIMIT_LOOKUP = _env("RATELIMIT_LOOKUP", "30 per minute;300 per hour")
    RATELIMIT_PUBLIC_JSON = _env("RATELIMIT_PUBLIC_JSON", "60 per minute;1000 per hour")
    RATELIMIT_PHOTOS = _env("RATELIMIT_PHOTOS", "300 per minute")
    RATELIMIT_LOGIN_ADDRESS = _env("RATELIMIT_LOGIN_ADDRESS", "10 per minute;100 per hour")
    RATELIMIT_CONFIRM_EMAIL = _env("RATELIMIT_CONFIRM_EMAIL", "3 per day")
    # Failed sign-ins per typed e-mail: from one address (growing windows), from all devices
    # that never signed in on it, and from one device that did (webapp/services/staff/accounts.py).
    LOGIN_FAILURES_PER_ADDRESS = _env(
        "LOGIN_FAILURES_PER_ADDRESS", "3 per minute;10 per hour;30 per day"
    )
    LOGIN_FAILURES_NEW_DEVICES = _env("LOGIN_FAILURES_NEW_DEVICES", "20 per hour;100 per day")
    LOGIN_FAILURES_PER_DEVICE = _env("LOGIN_FAILURES_PER_DEVICE", "5 per minute;20 per hour")
    # Redirect http:// to https:// in the app (usually the reverse proxy does it).
    FORCE_HTTPS = _bool("FORCE_HTTPS", False)
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is read.
    TRUSTED_PROXIES = _env("TRUSTED_PROXIES", "")
    # A moderator's lock on the address an abusive report came from lasts this long.
    LOCK_ADDRESS_HOURS = _float("LOCK_ADDRESS_HOURS", 24)
    # Days a resident has to follow the link that confirms their e-mail.
    CONFIRM_EMAIL_DAYS = _float("CONFIRM_EMAIL_DAYS", 7)
    # One-time codes that verify a phone (by SMS or ZNS) or an e-mail: minutes one is valid,
    # wrong guesses before it is void, and codes one phone or e-mail may be sent.
    CONTACT_CODE_MINUTES = _float("CONTACT_CODE_MINUTES", 10)
    CONTACT_CODE_ATTEMPTS = int(_env("CONTACT_CODE_ATTEMPTS", "5"))
    RATELIMIT_CONTACT_CODE = _env("RATELIMIT_CONTACT_CODE", "3 per hour;5 per day")
    # Codes sent from one report's public page to people who follow it (per report).
    RATELIMIT_FOLLOW_CODE = _env("RATELIMIT_FOLLOW_CODE", "10 per hour;30 per day")
    # Requests one partner key may make (Open311 and the API with a key).
    RATELIMIT_PARTNER = _env("RATELIMIT_PARTNER", "120 per minute;5000 per hour")
    RATELIMIT_RESIDENT_ACTION = _env("RATELIMIT_RESIDENT_ACTION", "10 per minute;60 per hour")

    # Personal data (Law on Personal Data Protection 2025, Decree 13/2023): the notice's
    # version recorded with each consent, who is responsible, and how long data is kept:
    # identity and contact removed this many months after a report is closed, original
    # photos deleted this many months after it is closed (the public record stays).
    PRIVACY_NOTICE_VERSION = _env("PRIVACY_NOTICE_VERSION", "2026-01")
    PRIVACY_CONTROLLER = _env(
        "PRIVACY_CONTROLLER", "Trung tâm Giám sát, điều hành đô thị thông minh"
    )
    PRIVACY_CONTACT = _env("PRIVACY_CONTACT", "dulieucanhan@ioc.example.gov.vn")
    RETENTION_IDENTITY_MONTHS = int(_env("RETENTION_IDENTITY_MONTHS", "24"))
    RETENTION_PHOTO_MONTHS = int(_env("RETENTION_PHOTO_MONTHS", "12"))

    # Staff sessions (webapp/services/staff/sessions.py): where they live (empty: the database;
    # redis://…), and how long one lasts without activity and at most after sign-in.
    SESSION_STORE_URL = _env("SESSION_STORE_URL", "")
    SESSION_IDLE_MINUTES = _float("SESSION_IDLE_MINUTES", 60)
    SESSION_ABSOLUTE_HOURS = _float("SESSION_ABSOLUTE_HOURS", 12)
    # Passwords: minimum length and zxcvbn score (0-4); common ones are always refused.
    PASSWORD_MIN_LENGTH = int(_env("PASSWORD_MIN_LENGTH", "12"))
    PASSWORD_MIN_SCORE = int(_env("PASSWORD_MIN_SCORE", "3"))
    # Second factor: roles that must use it (comma-separated; production: admin, ioc_operator),
    # and the Fernet keys that encrypt TOTP secrets (comma-separated, the first encrypts; empty
    # outside production: derived from SECRET_KEY).
    TOTP_REQUIRED_ROLES = _env("TOTP_REQUIRED_ROLES", "")
    TOTP_ENCRYPTION_KEYS = _env("TOTP_ENCRYPTION_KEYS", "")
    TOTP_ISSUER = _env("TOTP_ISSUER", "Phản ánh hiện trường")

    # Compressed answers (Flask-Compress): pages, scripts, styles, JSON; not photos (JPEG is).
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/geo+json",
        "application/manifest+json",
        "image/svg+xml",
    ]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_ALGORITHM_STREAMING = ["br", "deflate"]

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ("vi", "en")
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")


class DevelopmentConfig(Config):
    """`make run` on a laptop or a bare machine."""


class TestingConfig(Config):
    """The test suite: real PostgreSQL and Redis unless DATABASE_URL says otherwise."""

    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = _env("SECRET_KEY", "testing-only-" + "0" * 32)
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    CELERY_BROKER_URL = _env("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    # Tests of limits switch them on (tests/support/limits.py); the rest post freely.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", False)
    # Each test sees the health of the moment it asks (tests/infra/test_liveness.py sets it).
    HEALTH_CACHE_SECONDS = _float("HEALTH_CACHE_SECONDS", 0)


class ProductionConfig(Config):
    """A province's deployment: secrets must be given, cookies are secure."""

    APP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    TOTP_REQUIRED_ROLES = _env("TOTP_REQUIRED_ROLES", "admin,ioc_operator")
    LOG_FORMAT = _env("LOG_FORMAT", "json")

    @classmethod
    def validate(cls) -> None:
        """Fail fast on a missing secret."""
        required = ("SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "TOTP_ENCRYPTION_KEYS")
        missing = [k for k in required if not _env(k)]
        if _env("ZALO_APP_ID"):  # a Zalo OA is connected: its webhook and refresh need both
            missing += [k for k in ("ZALO_OA_SECRET_KEY", "ZALO_APP_SECRET") if not _env(k)]
        if missing:
            raise RuntimeError(f"Missing required settings for production: {', '.join(missing)}")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """The settings class for APP_ENV (or the given name)."""
    name = name or _env("APP_ENV", "development") or "development"
    cls = CONFIGS[name]
    if cls is ProductionConfig:
        ProductionConfig.validate()
    return cls
