"""The name of every Celery task, in one place that imports nothing.

Services enqueue by these names (`webapp.infra.queue.enqueue`), the task modules register
under them (`workers/`, `bot/tasks.py`) and the beat schedule refers to them; a test checks
that each name here is registered by the worker and each registered task is named here.
"""

CLASSIFY_REPORT = "workers.tasks.classify_report"
DELIVER_MESSAGE = "workers.tasks.deliver_message"
DELIVER_MESSAGES = "workers.tasks.deliver_messages"
SWEEP = "workers.tasks.sweep"
RUN_EXPORT = "workers.export_tasks.run_export"
WEEKLY_SUMMARY = "workers.export_tasks.weekly_summary"
PURGE_EXPORTS = "workers.export_tasks.purge_exports"
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
        HANDLE_ZALO_EVENT,
        HANDLE_TELEGRAM_UPDATE,
        BOT_SWEEP,
    }
)
