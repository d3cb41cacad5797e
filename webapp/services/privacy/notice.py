"""The short privacy notice shown at every intake point, and the consent it asks for.

The same words on the web form, in the bots' first message and in the hotline desk's script;
the version (PRIVACY_NOTICE_VERSION) is stored with every report whose author accepted it.
Change the version whenever the words or the retention periods change.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

CONSENT_LABEL = _l("Tôi đã đọc thông báo trên và đồng ý cho xử lý dữ liệu của mình.")
CONSENT_MISSING = _l("Vui lòng đồng ý với thông báo xử lý dữ liệu cá nhân để gửi phản ánh.")
HOTLINE_CONSENT_LABEL = _l("Đã đọc thông báo cho người dân và người dân đồng ý.")


def version() -> str:
    """The notice's current version."""
    return str(current_app.config["PRIVACY_NOTICE_VERSION"])


def text() -> str:
    """The notice in the current locale: purpose, who sees what, retention, rights."""
    cfg = current_app.config
    return _(
        "Nội dung, ảnh, vị trí và thông tin liên hệ bạn gửi chỉ dùng để xử lý phản ánh và "
        "trả lời bạn. Cơ quan xử lý thấy nội dung nhưng không thấy danh tính của bạn; chỉ "
        "Trung tâm IOC thấy thông tin liên hệ để gọi lại khi cần. Trang công khai đã che thông "
        "tin cá nhân. Danh tính và liên hệ được xoá %(months)d tháng sau khi phản ánh kết thúc, "
        "ảnh gốc sau %(photo_months)d tháng. Bạn có thể tải về hoặc xoá dữ liệu của mình từ "
        "trang theo dõi phản ánh, hoặc bằng lệnh /dulieu và /xoadulieu trong bot. Đơn vị chịu "
        "trách nhiệm: %(controller)s (%(contact)s).",
        months=int(cfg["RETENTION_IDENTITY_MONTHS"]),
        photo_months=int(cfg["RETENTION_PHOTO_MONTHS"]),
        controller=cfg["PRIVACY_CONTROLLER"],
        contact=cfg["PRIVACY_CONTACT"],
    )


def bot_text() -> str:
    """The notice as the bots say it before the first report: sending means agreeing."""
    return _(
        "Thông báo xử lý dữ liệu cá nhân (phiên bản %(version)s): %(notice)s "
        "Khi gửi phản ánh, bạn đồng ý với thông báo này.",
        version=version(),
        notice=text(),
    )
