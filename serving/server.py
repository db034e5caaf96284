"""Running the service under uvicorn with the limits and timeouts of :class:`~.settings.Settings`.

uvicorn bounds keep-alive (``timeout_keep_alive``), concurrency (``limit_concurrency``: over it a
request is answered 503 at once) and the listen backlog; it has no limit on the size of a request
head and no timeout for reading one, or a body. :class:`GuardedHttpToolsProtocol` adds them to
uvicorn's httptools protocol:

* a request's head (request line and headers) larger than ``max_header_bytes`` is answered 431 and
  the connection closed, as soon as that many bytes have arrived without the head ending;
* a connection that has not completed a request head within ``header_timeout`` seconds of its
  first byte (or of connecting) is answered 408 and closed (slowloris);
* a body that has not arrived whole within ``body_timeout`` seconds of its head is answered 408
  (when no response has started) and the connection closed;
* a connection over ``max_connections`` open at once is answered 503 and closed as soon as it is
  accepted. uvicorn's ``limit_concurrency`` only answers 503 once a request head has arrived, so idle
  connections used to pile up until the process ran out of file descriptors: with a 256-descriptor
  limit and 300 idle connections, ``accept()`` failed (EMFILE) and new clients got no answer at all.
  :func:`connection_cap` keeps ``max_connections`` below the descriptor limit (``RLIMIT_NOFILE``),
  leaving :data:`RESERVED_DESCRIPTORS` for the listening socket, the bundle, the feature log and the
  state store.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any, Optional

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["GuardedHttpToolsProtocol", "connection_cap", "run", "uvicorn_config"]

#: File descriptors a worker keeps for other things than client connections (see the module docstring).
RESERVED_DESCRIPTORS = 64

class _HeadTooLarge(Exception):
    """Raised in a parser callback to stop parsing a request head over the limit."""


_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}


def connection_cap(limit_concurrency: Optional[int]) -> Optional[int]:
    """Most connections a worker keeps open: ``limit_concurrency``, and below the descriptor limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limit_concurrency
    fd_cap = max(1, soft - RESERVED_DESCRIPTORS)
    return fd_cap if limit_concurrency is None else min(limit_concurrency, fd_cap)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head-size limit and head/body read timeouts (see the module)."""

    #: Set by :func:`uvicorn_config` (class attributes: uvicorn creates the protocol itself).
    max_header_bytes = 64 * 2 ** 10
    header_timeout = 10.0
    body_timeout = 30.0
    max_connections: Optional[int] = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = self._pending = 0
        self._in_head = True
        self._heads = 0  # request heads completed on this connection
        self._timer: asyncio.TimerHandle | None = None
        if self.max_connections is not None and len(self.connections) > self.max_connections:
            self._refuse(503, f"too many connections open at once (more than {self.max_connections:,}); "
                              "retry later")
            return
        self._arm(self.header_timeout)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: int, message: str) -> None:
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            body = message.encode("ascii")
            self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
                                 b"connection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), body))
        if self.cycle is not None:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()

    def _timed_out(self) -> None:
        self._timer = None
        if self._in_head:
            self._refuse(408, f"request head not received within {self.header_timeout:g} s")
        else:
            self._refuse(408, f"request body not received within {self.body_timeout:g} s")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head and self._timer is None:
            self._arm(self.header_timeout)  # the first byte of a new request on a kept-alive connection
        heads = self._heads
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._head_bytes > self.max_header_bytes:  # raised by our own callback
                self._refuse(431, f"request head over {self.max_header_bytes:,} bytes")
            else:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
            return
        # a head still incomplete after this chunk: its bytes count (httptools holds them until it ends)
        if self._in_head and heads == self._heads and not self.transport.is_closing():
            self._pending += len(data)
            if self._head_bytes + self._pending > self.max_header_bytes:
                self._refuse(431, f"request head over {self.max_header_bytes:,} bytes")

    def _count(self, n: int) -> None:
        self._head_bytes += n
        if self._head_bytes > self.max_header_bytes:
            raise _HeadTooLarge()  # stops the parser; data_received answers 431

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._heads += 1
        self._in_head = False
        self._head_bytes = self._pending = 0
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._heads += 1  # a chunk that ends a message holds body bytes, not head bytes
        self._in_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # the keep-alive timer of uvicorn now runs; ours starts again with the next request's first byte


def uvicorn_config(settings: Any, host: str, port: int, workers: int = 1, **extra: Any) -> Any:
    """The :class:`uvicorn.Config` of the service for ``settings``."""
    import uvicorn

    protocol = type("ConfiguredGuardedProtocol", (GuardedHttpToolsProtocol,), {
        "max_header_bytes": settings.max_header_bytes, "header_timeout": settings.header_timeout,
        "body_timeout": settings.body_timeout, "max_connections": connection_cap(settings.limit_concurrency)})
    return uvicorn.Config(
        "skewless.serving.app:app_from_env", factory=True, host=host, port=port, workers=workers, http=protocol,
        timeout_keep_alive=settings.timeout_keep_alive, limit_concurrency=settings.limit_concurrency,
        backlog=settings.backlog, **extra)


def run(settings: Any, args: Any) -> None:
    """Serve until stopped (SIGTERM/SIGINT run the lifespan shutdown).

    Worker processes import the protocol by name and read their limits from the same
    ``SKEWLESS_SERVE_*`` environment (see :func:`_configure_from_env`).
    """
    import uvicorn

    uvicorn.run("skewless.serving.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, http="skewless.serving.server:GuardedHttpToolsProtocol",
                timeout_keep_alive=settings.timeout_keep_alive, limit_concurrency=settings.limit_concurrency,
                backlog=settings.backlog)


def _configure_from_env() -> None:
    from pydantic import ValidationError

    from .settings import Settings

    try:
        settings = Settings()
    except ValidationError:  # reported by the command that starts the server
        return
    GuardedHttpToolsProtocol.max_header_bytes = settings.max_header_bytes
    GuardedHttpToolsProtocol.header_timeout = settings.header_timeout
    GuardedHttpToolsProtocol.body_timeout = settings.body_timeout
    GuardedHttpToolsProtocol.max_connections = connection_cap(settings.limit_concurrency)


_configure_from_env()
