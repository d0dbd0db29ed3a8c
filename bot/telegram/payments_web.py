"""The gateways' callbacks on the Telegram webhook's own server, when the bot runs with
webhooks (one public port for both): `POST /payments/<gateway>` and `GET /healthz` added to
the tornado application PTB serves. A body announced over 64 KiB is refused before it is read;
the raw bytes of the rest go to the payments job, which checks the signature on them."""

from __future__ import annotations

import logging
from typing import Any

import tornado.web

from bot.core.payments import MAX_CALLBACK_BYTES
from bot.telegram.jobs.payments import PaymentsJob

log = logging.getLogger(__name__)


@tornado.web.stream_request_body
class CallbackHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, job: PaymentsJob) -> None:
        self._job = job
        self._chunks: list[bytes] = []
        self._size = 0

    def prepare(self) -> None:
        length = self.request.headers.get("Content-Length", "")
        if not (length.isascii() and length.isdigit()):
            self.set_status(411)
            self.finish("a Content-Length is required")
        elif int(length) > MAX_CALLBACK_BYTES:
            self.set_status(413)
            self.finish("too large")  # refused unread

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= MAX_CALLBACK_BYTES:
            self._chunks.append(chunk)

    async def post(self, name: str) -> None:
        if self._size > MAX_CALLBACK_BYTES:
            self.set_status(413)
            self.finish("too large")
            return
        headers = {key.lower(): value for key, value in self.request.headers.get_all()}
        answer = await self._job.callback(name, b"".join(self._chunks), headers)
        if answer is None:
            self.set_status(404)
            self.finish("not found")
            return
        status, body, kind = answer
        self.set_status(status)
        self.set_header("Content-Type", kind)
        self.finish(body)

    def log_exception(self, *args: Any) -> None:
        log.error("payments callback failed", exc_info=args if args[0] else None)


class HealthHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET",)  # type: ignore[assignment]

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.finish("ok")


def share(updater: Any, job: PaymentsJob) -> bool:
    """Add the payments' paths to the webhook server PTB started (its tornado application is
    PTB's own, reached through the updater); False, and the reason logged, when it cannot."""
    server = getattr(getattr(updater, "_httpd", None), "_http_server", None)
    application = getattr(server, "request_callback", None)
    if not isinstance(application, tornado.web.Application):
        log.error("the payments callbacks could not join the webhook server")
        return False
    application.add_handlers(
        r".*",
        [
            (r"/payments/([a-z]{1,20})", CallbackHandler, {"job": job}),
            (r"/healthz", HealthHandler),
        ],
    )
    log.info("payments callbacks served on the webhook's server")
    return True
