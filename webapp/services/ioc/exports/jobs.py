"""Background exports: a list longer than EXPORT_BACKGROUND_ROWS becomes an ExportJob that the
Celery task `workers.export_tasks.run_export` writes under the exports directory, downloaded
when done by the user who asked or by the IOC; files past EXPORT_KEEP_DAYS are purged.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.errors import DomainError, NotFound
from webapp.extensions import db
from webapp.infra import queue, storage, task_names
from webapp.models import ExportJob, ExportStatus, User
from webapp.models.types import utcnow
from webapp.services.ioc.exports.lists import (
    count_reports,
    list_at_once,
    list_file_name,
    write_list,
)
from webapp.services.ioc.exports.weekly import WEEKLY_DIR
from webapp.services.ioc.exports.writers import MIMETYPES, Export, check_format
from webapp.services.ioc.queries import ReportFilter

log = logging.getLogger(__name__)


class NotReady(DomainError):
    """A background export that is not finished (or failed)."""

    status_code = 409
    code = "not_ready"


def background_threshold() -> int:
    """Lists with more rows than this are exported in the background."""
    return int(current_app.config["EXPORT_BACKGROUND_ROWS"])


def list_export(user: User, f: ReportFilter, fmt: str, locale: str = "vi") -> Export | ExportJob:
    """A list export: the file at once when small, else a background job (committed, queued)."""
    fmt = check_format(fmt)
    if count_reports(user, f) > background_threshold():
        return start_job(user, "reports", fmt, {"filter": f.to_args(), "locale": locale})
    return list_at_once(user, f, fmt, locale)


def start_job(user: User, kind: str, fmt: str, params: dict[str, Any]) -> ExportJob:
    """Record a background export and queue it (after the commit)."""
    job = ExportJob(user_id=user.id, kind=kind, fmt=check_format(fmt), params=params)
    db.session.add(job)
    db.session.commit()
    if not queue.enqueue(task_names.RUN_EXPORT, job.id):
        job.status = ExportStatus.FAILED
        job.error = "Không gửi được yêu cầu tới hàng đợi xử lý; vui lòng thử lại sau."
        job.finished_at = utcnow()
        db.session.commit()
    return job


def job_file(job: ExportJob) -> str:
    """The name of a job's file among the exports."""
    return f"{job.id}-{job.file_name}"


def run_job(job_id: int) -> str:
    """Write a background export's file; safe to run twice (a done job is left alone)."""
    job = db.session.get(ExportJob, job_id)
    if job is None:
        return "missing"
    files = storage.export_objects()
    if job.status == ExportStatus.DONE and job.file_name and files.exists(job_file(job)):
        return "done"
    user = db.session.get(User, job.user_id)
    params = job.params or {}
    locale = params.get("locale", "vi")
    job.status, job.error = ExportStatus.RUNNING, None
    job.file_name = list_file_name(job.fmt)
    db.session.commit()
    # Written to a private local file first (a list can be large), then put among the exports.
    partial = Path(tempfile.mkdtemp(prefix="export-")) / job_file(job)
    try:
        if job.kind != "reports" or user is None:
            raise ValueError(f"cannot run export {job.kind!r} for user {job.user_id}")
        f = ReportFilter.from_args(params.get("filter") or {})
        count = write_list(user, f, job.fmt, locale, partial)
        files.put_file(job_file(job), partial, private=True, content_type=MIMETYPES[job.fmt])
    except Exception as error:
        db.session.rollback()
        log.exception("export %s failed", job_id)
        failed = db.session.get(ExportJob, job_id)
        if failed is None:  # the job was deleted meanwhile: nothing to mark
            return "missing"
        failed.status, failed.error = ExportStatus.FAILED, str(error)[:500]
        failed.finished_at = utcnow()
        db.session.commit()
        return "failed"
    finally:
        shutil.rmtree(partial.parent, ignore_errors=True)
    job.status, job.row_count, job.finished_at = ExportStatus.DONE, count, utcnow()
    db.session.commit()
    return "done"


def can_download(user: User, job: ExportJob) -> bool:
    """Only the user who asked, or the IOC, may fetch a background export."""
    if not user.is_authenticated or not user.active:
        return False
    return job.user_id == user.id or user.role_enum.is_ioc


def job_for(user: User, job_id: int) -> ExportJob:
    """A job the user may see; NotFound otherwise (no guessing of other users' jobs)."""
    job = db.session.get(ExportJob, job_id)
    if job is None or not can_download(user, job):
        raise NotFound(_l("Không tìm thấy tệp xuất dữ liệu."))
    return job


def download(user: User, job_id: int) -> tuple[ExportJob, bytes]:
    """The finished file of a job the user may fetch."""
    job = job_for(user, job_id)
    try:
        if job.status != ExportStatus.DONE or not job.file_name:
            raise storage.MissingObject(job_id)
        return job, storage.export_objects().get(job_file(job))
    except storage.MissingObject:
        raise NotReady(_l("Tệp chưa sẵn sàng.")) from None


def withdraw_since(since: datetime) -> int:
    """Delete the files of finished list exports written after `since` (a resident's data was
    erased and such a file may hold their words); their jobs become `expired`."""
    files = storage.export_objects()
    jobs = db.session.scalars(
        select(ExportJob).where(
            ExportJob.status == ExportStatus.DONE, ExportJob.finished_at >= since
        )
    )
    withdrawn = 0
    for job in jobs:
        if job.file_name and files.exists(job_file(job)):
            files.delete(job_file(job))
        job.status, job.error = ExportStatus.EXPIRED, "withdrawn: a resident's data was erased"
        withdrawn += 1
    return withdrawn


def purge_old_files(now: datetime | None = None) -> int:
    """Delete export files older than EXPORT_KEEP_DAYS; their jobs become `expired`."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
    removed = 0
    jobs = db.session.scalars(
        select(ExportJob).where(
            ExportJob.status.in_((ExportStatus.DONE, ExportStatus.FAILED)),
            ExportJob.finished_at < cutoff,
        )
    )
    files = storage.export_objects()
    for job in jobs:
        if job.file_name and files.exists(job_file(job)):
            files.delete(job_file(job))
            removed += 1
        if job.status == ExportStatus.DONE:
            job.status = ExportStatus.EXPIRED
    db.session.commit()
    # Weekly workbooks are not tracked by a job row: by age.
    for name, written in list(files.entries(f"{WEEKLY_DIR}/")):
        if written < cutoff:
            files.delete(name)
            removed += 1
    return removed
