"""The name of every Celery task, in one place that imports nothing.

Services enqueue by these names (`webapp.infra.queue.enqueue`), the task modules register
under them (`workers/`, `bot/tasks.py`) and the beat schedule refers to them; a test checks
that each name here is registered by the worker and each registered task is named here.

Each task belongs to one kind of work, and each kind has its own queue
(`queue_name`), so a slow export or a messenger outage never delays
classification: workers can be given kinds (`WORKER_QUEUES`).
"""

CLASSIFY_REPORT = "workers.tasks.classify_report"
DELIVER_MESSAGE = "workers.tasks.deliver_message"
DELIVER_MESSAGES = "workers.tasks.deliver_messages"
SWEEP = "workers.tasks.sweep"
RUN_EXPORT = "workers.export_tasks.run_export"
WEEKLY_SUMMARY = "workers.export_tasks.weekly_summary"
PURGE_EXPORTS = "workers.export_tasks.purge_exports"
PRIVACY_RETENTION = "workers.export_tasks.privacy_retention"
BUILD_OPEN_DATA = "workers.export_tasks.build_open_data"
NLU_RETRAIN = "workers.export_tasks.nlu_retrain"
AGENCY_SYNC = "workers.tasks.agency_sync"
HANDLE_ZALO_EVENT = "bot.tasks.handle_zalo_event"
HANDLE_TELEGRAM_UPDATE = "bot.tasks.handle_telegram_update"
BOT_SWEEP = "bot.tasks.sweep"

ALL = frozenset(
    {
        CLASSIFY_REPORT,
        DELIVER_MESSAGE,
        DELIVER_MESSAGES,
        SWEEP,
        RUN_EXPORT,
        WEEKLY_SUMMARY,
        PURGE_EXPORTS,
        PRIVACY_RETENTION,
        BUILD_OPEN_DATA,
        NLU_RETRAIN,
        AGENCY_SYNC,
        HANDLE_ZALO_EVENT,
        HANDLE_TELEGRAM_UPDATE,
        BOT_SWEEP,
    }
)

# Kinds of work, one broker queue each.
INTAKE = "intake"  # classification and routing of new reports
OUTBOX = "outbox"  # delivery of messages to residents, agencies and the IOC
EXPORTS = "exports"  # files, the weekly summary, cleanup, retention, open data, retraining
BOT = "bot"  # Telegram updates and Zalo events, the bots' housekeeping
SWEEP_KIND = "sweep"  # deadlines: reminders, escalations, retries (never behind a backlog)

KINDS = (INTAKE, OUTBOX, EXPORTS, BOT, SWEEP_KIND)

KIND_OF = {
    CLASSIFY_REPORT: INTAKE,
    DELIVER_MESSAGE: OUTBOX,
    DELIVER_MESSAGES: OUTBOX,
    SWEEP: SWEEP_KIND,
    RUN_EXPORT: EXPORTS,
    WEEKLY_SUMMARY: EXPORTS,
    PURGE_EXPORTS: EXPORTS,
    PRIVACY_RETENTION: EXPORTS,
    BUILD_OPEN_DATA: EXPORTS,
    NLU_RETRAIN: EXPORTS,
    AGENCY_SYNC: OUTBOX,
    HANDLE_ZALO_EVENT: BOT,
    HANDLE_TELEGRAM_UPDATE: BOT,
    BOT_SWEEP: BOT,
}


def queue_name(prefix: str, kind: str) -> str:
    """The broker queue of one kind of work (prefix: the CELERY_QUEUE setting)."""
    return f"{prefix}.{kind}"
