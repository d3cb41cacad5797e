"""A fake Telegram Bot API on 127.0.0.1, enough for python-telegram-bot and our sender.

It answers getMe, getUpdates (long polling on a queue the test fills, updates kept until
confirmed by a later offset, as Telegram does), sendMessage, sendPhoto, getFile and the
file download, and the housekeeping calls (deleteWebhook, setMyCommands, …); every call is
recorded. `LocalHttpServer` is also the base of the other fakes (Zalo, Rasa).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "123456:TEST-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Phản ánh hiện trường",
    "username": "phananh_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
JSON_FIELDS = {"reply_markup", "allowed_updates", "commands"}
NO_OP_METHODS = {
    "deleteWebhook",
    "setWebhook",
    "setMyCommands",
    "deleteMyCommands",
    "answerCallbackQuery",
    "close",
    "logOut",
}


class Request:
    """A parsed request: path, headers, query, form/JSON fields and uploaded files."""

    def __init__(self, handler: BaseHTTPRequestHandler):
        self.method = handler.command
        parsed = urllib.parse.urlsplit(handler.path)
        self.path = urllib.parse.unquote(parsed.path)
        self.query = dict(urllib.parse.parse_qsl(parsed.query))
        self.headers = handler.headers
        length = int(handler.headers.get("Content-Length") or 0)
        self.body = handler.rfile.read(length) if length else b""
        self.fields: dict[str, Any] = {}
        self.files: dict[str, tuple[str | None, bytes]] = {}
        ctype = handler.headers.get("Content-Type") or ""
        if ctype.startswith("application/json") and self.body:
            self.fields = json.loads(self.body)
        elif ctype.startswith("application/x-www-form-urlencoded"):
            self.fields = dict(urllib.parse.parse_qsl(self.body.decode()))
        elif ctype.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                if part.get_filename() is not None:
                    self.files[name] = (part.get_filename(), data)
                else:
                    self.fields[name] = data.decode()


class LocalHttpServer:
    """An HTTP server on a free port of 127.0.0.1, in a thread; subclasses implement `route`."""

    def __init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                status, headers, body = fake.route(Request(self))
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a long poll cut short when the bot stops)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: (status, headers, body)."""
        raise NotImplementedError

    @staticmethod
    def json(data: Any, status: int = 200) -> tuple[int, dict[str, str], bytes]:
        """A JSON response."""
        return status, {"Content-Type": "application/json"}, json.dumps(data).encode()

    def start(self) -> LocalHttpServer:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll until predicate() is truthy; its value, or AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


class FakeTelegram(LocalHttpServer):
    """The Bot API of one bot (`TOKEN`); `base_url` is python-telegram-bot's base_url."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.base_url = f"{self.url}/bot"
        self.file_base_url = f"{self.url}/file/bot"
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []  # sendMessage / sendPhoto, in order
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id → (file_path, bytes)
        self.unknown_chats: set[str] = set()  # sending there fails: "chat not found"
        self._updates: list[dict[str, Any]] = []
        self.pushed: list[dict[str, Any]] = []  # every update ever queued
        self._cond = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)

    # -- what the test does -----------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self.pushed.append(update)
            self._cond.notify_all()
        return update

    @staticmethod
    def _user(user_id: int, name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "vi"}

    def _message(self, user_id: int, name: str, **content: Any) -> dict[str, Any]:
        return {
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": name},
                "from": self._user(user_id, name),
                **content,
            }
        }

    def send_text(self, user_id: int, text: str, name: str = "Lan") -> dict[str, Any]:
        """The resident sends a text (a /command gets its bot_command entity)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.push(self._message(user_id, name, **content))

    def add_file(self, data: bytes, folder: str = "photos", ext: str = "jpg") -> str:
        """Make bytes downloadable with getFile; the file_id."""
        n = next(self._file_ids)
        file_id = f"FILE{n:04d}"
        self.files[file_id] = (f"{folder}/file_{n}.{ext}", data)
        return file_id

    def send_photo(self, user_id: int, data: bytes, caption: str | None = None, name: str = "Lan"):
        """The resident sends a photo (Telegram's compressed kind)."""
        file_id = self.add_file(data)
        sizes = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800, "height": 600}]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.push(self._message(user_id, name, **content))

    def send_image_file(self, user_id: int, data: bytes, filename: str, name: str = "Lan"):
        """The resident sends an image as a file (EXIF and GPS kept)."""
        file_id = self.add_file(data, folder="documents")
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": filename,
            "mime_type": "image/jpeg",
            "file_size": len(data),
        }
        return self.push(self._message(user_id, name, document=document))

    def send_location(self, user_id: int, lat: float, lon: float, name: str = "Lan"):
        """The resident shares a location."""
        return self.push(self._message(user_id, name, location={"latitude": lat, "longitude": lon}))

    def press(self, user_id: int, data: str, name: str = "Lan") -> dict[str, Any]:
        """The resident presses an inline button with this callback data."""
        last = next((m for m in reversed(self.sent) if str(m["chat_id"]) == str(user_id)), None)
        message = {
            "message_id": last["message_id"] if last else 1,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": name},
            "from": BOT_USER,
            "text": (last or {}).get("text") or "…",
        }
        query = {
            "id": f"cbq{next(self._message_ids)}",
            "from": self._user(user_id, name),
            "chat_instance": f"ci{user_id}",
            "data": data,
            "message": message,
        }
        return self.push({"callback_query": query})

    def messages_to(self, chat_id: int | str) -> list[dict[str, Any]]:
        """Messages and photos the bot sent to a chat."""
        return [m for m in self.sent if str(m["chat_id"]) == str(chat_id)]

    def wait_for_text(self, chat_id: int | str, needle: str, timeout: float = 20.0) -> dict:
        """The first message to the chat containing `needle` (text or caption)."""
        return wait_until(
            lambda: next(
                (m for m in self.messages_to(chat_id) if needle in (m.get("text") or "")), None
            ),
            timeout,
            f"a message with {needle!r} to {chat_id}; got {[m.get('text') for m in self.sent]}",
        )

    def buttons(self, message: dict[str, Any]) -> dict[str, str]:
        """Label → callback data of a message's inline keyboard."""
        markup = message.get("reply_markup") or {}
        return {
            b["text"]: b.get("callback_data", "")
            for row in markup.get("inline_keyboard", [])
            for b in row
        }

    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot."""
        with self._cond:
            return len(self._updates)

    # -- the Bot API ------------------------------------------------------------------------

    def route(self, request: Request):
        """Dispatch /bot<token>/<method> and /file/bot<token>/<path>."""
        file_prefix = f"/file/bot{self.token}/"
        if request.path.startswith(file_prefix):
            path = request.path[len(file_prefix) :]
            for file_path, data in self.files.values():
                if file_path == path:
                    return 200, {"Content-Type": "application/octet-stream"}, data
            return self.json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        prefix = f"/bot{self.token}/"
        if not request.path.startswith(prefix):
            return self.json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.path[len(prefix) :]
        params = {
            k: json.loads(v) if k in JSON_FIELDS and isinstance(v, str) else v
            for k, v in {**request.query, **request.fields}.items()
        }
        self.calls.append((method, params))
        if method.startswith("send") and str(params.get("chat_id")) in self.unknown_chats:
            error = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            return self.json(error, 400)
        handler = getattr(self, f"api_{method}", None)
        if handler is not None:
            return self.json({"ok": True, "result": handler(params, request)})
        if method in NO_OP_METHODS:
            return self.json({"ok": True, "result": True})
        return self.json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    def api_getMe(self, params, request):
        return BOT_USER

    def api_getWebhookInfo(self, params, request):
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    def api_getUpdates(self, params, request):
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        with self._cond:
            # An offset confirms every update before it: those are gone for good.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return self._updates[:limit]

    def _record(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": BOT_USER,
        }
        sent = {"chat_id": str(chat_id), "message_id": message["message_id"], **content}
        self.sent.append(sent)
        return message

    def api_sendMessage(self, params, request):
        message = self._record(
            params["chat_id"], text=params["text"], reply_markup=params.get("reply_markup")
        )
        return {**message, "text": params["text"]}

    def api_sendPhoto(self, params, request):
        _name, data = request.files.get("photo", (None, b""))
        message = self._record(
            params["chat_id"],
            text=params.get("caption"),
            photo=data,
            reply_markup=params.get("reply_markup"),
        )
        file_id = self.add_file(data)
        size = {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 10, "height": 10}
        return {**message, "photo": [size], "caption": params.get("caption")}

    def api_getFile(self, params, request):
        file_path, data = self.files[params["file_id"]]
        return {
            "file_id": params["file_id"],
            "file_unique_id": f"u{params['file_id']}",
            "file_size": len(data),
            "file_path": file_path,
        }
