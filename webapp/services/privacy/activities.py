"""The register of personal-data processing activities (Decree 13/2023/NĐ-CP, Law on Personal
Data Protection 2025): what is collected about residents, why, on which legal basis, who sees
it, where it is kept and for how long, which processors handle it, and the residents' rights.

Built per request so that the texts follow the visitor's language and the figures follow the
settings (PRIVACY_*, RETENTION_*).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

# Names of providers, the same in every language.
TELEGRAM = "Telegram"
ZALO = "Zalo/ZNS"


@dataclass(frozen=True)
class Activity:
    """One processing activity of the register."""

    key: str
    name: str
    data: list[str]
    purpose: str
    legal_basis: list[str]
    recipients: list[str]
    storage: str
    retention: str
    processors: list[str]


@dataclass(frozen=True)
class Processor:
    """A third party that carries residents' data for us, and what it receives."""

    key: str
    name: str
    receives: str
    host: str | None  # where it is reached (host only); None: not configured


@dataclass(frozen=True)
class Right:
    """A resident's right and how to exercise it."""

    key: str
    name: str
    how: str


@dataclass(frozen=True)
class Register:
    """The whole page: the controller, the notice, retention figures, activities."""

    controller: str
    contact: str
    notice_version: str
    identity_months: int
    photo_months: int
    activities: list[Activity]
    processors: list[Processor]
    rights: list[Right]


def _host(url: str) -> str | None:
    """The host of a configured endpoint, never its path, query or credentials."""
    if not url:
        return None
    return urlsplit(url if "://" in url else f"//{url}").hostname or None


def _photo_store() -> str:
    storage = current_app.config.get("STORAGE_URL") or ""
    if storage:
        bucket = urlsplit(storage).hostname or ""
        return _("kho đối tượng tương thích S3 (bucket %(bucket)s)", bucket=bucket)
    return _("thư mục tải lên trên máy chủ của hệ thống")


def processors() -> list[Processor]:
    """The messaging providers and the e-mail server that carry messages to residents."""
    config = current_app.config
    return [
        Processor(
            "telegram",
            _("Telegram (bot Telegram)"),
            _("Mã người dùng Telegram, tin nhắn, ảnh và vị trí người dân gửi cho bot"),
            _host(config.get("TELEGRAM_API_BASE_URL", "")),
        ),
        Processor(
            "zalo",
            _("Zalo (Official Account và ZNS)"),
            _(
                "Mã người dùng Zalo, tin nhắn, ảnh và vị trí gửi cho OA; số điện thoại đã xác "
                "minh cho tin ZNS"
            ),
            _host(config.get("ZALO_API_BASE_URL", "")),
        ),
        Processor(
            "sms",
            _("Nhà cung cấp SMS brandname"),
            _("Số điện thoại đã xác minh và nội dung tin nhắn"),
            _host(config.get("SMS_URL", "")),
        ),
        Processor(
            "email",
            _("Máy chủ gửi e-mail (SMTP)"),
            _("Địa chỉ e-mail và nội dung thư"),
            _host(config.get("SMTP_HOST", "")),
        ),
    ]


def rights() -> list[Right]:
    """What a resident may ask, and where."""
    contact = current_app.config["PRIVACY_CONTACT"]
    return [
        Right(
            "access",
            _("Xem và tải về dữ liệu của mình"),
            _(
                "Lệnh /dulieu trong bot Telegram hoặc Zalo; hoặc trên trang theo dõi riêng của "
                "phản ánh sau khi xác minh số điện thoại hoặc e-mail bằng mã một lần."
            ),
        ),
        Right(
            "erasure",
            _("Xóa dữ liệu, rút lại sự đồng ý"),
            _(
                "Lệnh /xoadulieu trong bot Telegram hoặc Zalo; hoặc trên trang theo dõi riêng "
                "sau khi xác minh số điện thoại hoặc e-mail. Danh tính, thông tin liên lạc và "
                "ảnh gốc bị xóa; hồ sơ công khai (đã lược bỏ thông tin cá nhân) được giữ lại."
            ),
        ),
        Right(
            "contact",
            _("Hỏi đáp, khiếu nại về dữ liệu cá nhân"),
            _("Liên hệ bên kiểm soát dữ liệu: %(contact)s", contact=contact),
        ),
    ]


def activities() -> list[Activity]:
    """The processing activities about residents, in the visitor's language."""
    config = current_app.config
    identity_months = int(config["RETENTION_IDENTITY_MONTHS"])
    photo_months = int(config["RETENTION_PHOTO_MONTHS"])
    consent = _(
        "Sự đồng ý của người phản ánh, ghi lại cùng phiên bản thông báo %(version)s",
        version=config["PRIVACY_NOTICE_VERSION"],
    )
    public_task = _(
        "Thực hiện nhiệm vụ của cơ quan nhà nước theo quy định của pháp luật "
        "(tiếp nhận, xử lý phản ánh, kiến nghị)"
    )
    identity_viewers = _(
        "Danh tính: chỉ cán bộ IOC (điều phối, giám sát) và quản trị viên; mỗi lần xem đều "
        "được ghi nhật ký"
    )
    database = _("Cơ sở dữ liệu PostgreSQL của hệ thống")
    keep_identity = _("Xóa %(n)s tháng sau khi phản ánh được đóng", n=identity_months)
    lock_hours = f"{float(config['LOCK_ADDRESS_HOURS']):g}"
    messengers = [TELEGRAM, ZALO, _("nhà cung cấp SMS"), _("e-mail (SMTP)")]
    return [
        Activity(
            key="reports",
            name=_("Tiếp nhận và xử lý phản ánh hiện trường"),
            data=[
                _("Nội dung phản ánh (mô tả sự việc)"),
                _("Ảnh kèm thông tin EXIF (thời điểm chụp, tọa độ GPS)"),
                _("Vị trí sự việc"),
            ],
            purpose=_(
                "Xác định sự việc, chuyển cơ quan có thẩm quyền xử lý, theo dõi thời hạn và "
                "công khai kết quả"
            ),
            legal_basis=[public_task, consent],
            recipients=[
                _("Cơ quan xử lý: nội dung, ảnh và vị trí, không kèm danh tính người phản ánh"),
                _("Cán bộ IOC và quản trị viên"),
                _(
                    "Công khai: nội dung đã lược bỏ thông tin cá nhân, vị trí làm tròn, bản sao "
                    "ảnh không còn EXIF"
                ),
            ],
            storage=_("%(database)s; ảnh trong %(store)s", database=database, store=_photo_store()),
            retention=_(
                "Ảnh gốc xóa %(n)s tháng sau khi phản ánh được đóng; hồ sơ công khai được giữ lại",
                n=photo_months,
            ),
            processors=[TELEGRAM, ZALO],
        ),
        Activity(
            key="identity",
            name=_("Danh tính và liên lạc với người phản ánh"),
            data=[
                _("Họ tên"),
                _("Số điện thoại"),
                _("E-mail"),
                _("Mã người dùng Telegram hoặc Zalo"),
            ],
            purpose=_(
                "Báo kết quả xử lý cho người phản ánh, gọi lại khi cần làm rõ, xác minh liên "
                "lạc và đáp ứng yêu cầu về dữ liệu của họ"
            ),
            legal_basis=[consent],
            recipients=[
                identity_viewers,
                _("Cơ quan xử lý không thấy danh tính"),
                _("Không công khai"),
            ],
            storage=database,
            retention=keep_identity,
            processors=messengers,
        ),
        Activity(
            key="messages",
            name=_("Gửi thông báo tiến độ và kết quả cho người phản ánh"),
            data=[
                _("Mã người dùng Telegram hoặc Zalo"),
                _("Số điện thoại"),
                _("E-mail"),
                _("Nội dung thông báo"),
            ],
            purpose=_(
                "Mọi người phản ánh đều được biết kết quả, qua kênh đã dùng hoặc kênh dự phòng "
                "(tin giao dịch Zalo, ZNS, SMS)"
            ),
            legal_basis=[consent, public_task],
            recipients=[identity_viewers],
            storage=database,
            retention=keep_identity,
            processors=messengers,
        ),
        Activity(
            key="abuse",
            name=_("Chống lạm dụng kênh tiếp nhận"),
            data=[_("Địa chỉ mạng (IP) của máy gửi, chỉ lưu dưới dạng mã băm có khóa")],
            purpose=_("Giới hạn tần suất gửi và khóa nguồn gửi lạm dụng"),
            legal_basis=[public_task],
            recipients=[_("Không ai xem được địa chỉ gốc; chỉ hệ thống so khớp mã băm")],
            storage=_(
                "%(database)s (mã băm); bộ đếm tần suất tạm thời trong Redis", database=database
            ),
            retention=_(
                "Mã băm gắn với phản ánh xóa cùng danh tính; khóa theo địa chỉ hết hạn sau "
                "%(hours)s giờ; bộ đếm tần suất hết hạn theo cửa sổ giới hạn",
                hours=lock_hours,
            ),
            processors=[],
        ),
    ]


def register() -> Register:
    """The register of processing activities, with the controller and the retention figures."""
    config = current_app.config
    return Register(
        controller=config["PRIVACY_CONTROLLER"],
        contact=config["PRIVACY_CONTACT"],
        notice_version=config["PRIVACY_NOTICE_VERSION"],
        identity_months=int(config["RETENTION_IDENTITY_MONTHS"]),
        photo_months=int(config["RETENTION_PHOTO_MONTHS"]),
        activities=activities(),
        processors=processors(),
        rights=rights(),
    )
