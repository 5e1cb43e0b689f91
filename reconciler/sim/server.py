"""The simulator's HTTP server: a threaded loopback server around :class:`~reconciler.sim.app.SimApp`.

Start it in a background thread for tests (``with SimServer(data) as sim: ... sim.url``) or in
the foreground for the CLI (:meth:`SimServer.serve_forever`). HTTP/1.1 keep-alive is on, so a
client's pooled connections are reused.

Request log: one JSON object per line, flushed as it is written, with ``ts`` (epoch seconds when
the request arrived), ``method``, ``path``, ``query`` (a dict; never any credential), ``status``
(null when no response was sent: ``reset``, ``timeout``), ``fault`` (kind or null), ``bytes``
(body bytes sent), ``ms`` (handling time) and ``remaining`` (quota left, null when unlimited).
Each line is written before the response goes out (a ``timeout`` line when the hang begins), so
a client holding a response can already read its line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from reconciler.sim.app import Reply, SimApp
from reconciler.sim.data import ApiData

__all__ = ["DEFAULT_HANG_SECONDS", "SimServer", "SimStats"]

logger = logging.getLogger(__name__)

DEFAULT_HANG_SECONDS = 65.0
"""Longer than the default 60 s client timeout (config ``api.timeout_seconds``)."""

_SECRET_PARAMS = frozenset({"authorization", "access_token", "accesstoken", "api_key", "apikey", "key", "token"})


@dataclass(frozen=True, slots=True)
class SimStats:
    """Counts of the requests served so far.

    Attributes:
        total: Every request received.
        by_status: HTTP status → count (requests that got no response are not here).
        by_fault: Fault kind → count.
    """

    total: int
    by_status: dict[int, int]
    by_fault: dict[str, int]


# Linux's SO_TIMESTAMP (not exported by the socket module): the kernel stamps each segment received.
_SO_TIMESTAMP: int | None = 29 if sys.platform.startswith("linux") else None
_TIMEVAL = struct.Struct("@ll")


def _arrival(conn: socket.socket) -> float | None:
    """When the next request's first bytes reached this machine, by the kernel's stamp (None: unknown).

    Waits for them without consuming them (``MSG_PEEK``). The stamp does not depend on when a
    thread of this process gets a CPU or the GIL: a simulator busy generating another response
    logs the request when it arrived, as a server on its own machine would, not when it was read.

    Raises:
        TimeoutError: If nothing arrives within the connection's idle timeout.
    """
    if _SO_TIMESTAMP is None:
        return None
    try:
        data, ancillary, _flags, _addr = conn.recvmsg(1, socket.CMSG_SPACE(_TIMEVAL.size), socket.MSG_PEEK)
    except TimeoutError:
        raise
    except OSError:
        return None
    if not data:
        return None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMP and len(payload) >= _TIMEVAL.size:
            sec, usec = _TIMEVAL.unpack_from(payload)
            return float(sec) + float(usec) / 1e6
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cbbd-sim"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are dropped after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    # Unbuffered reads: the next request stays in the kernel until read, so its arrival stamp can be peeked.
    rbufsize = 0
    server: _HttpServer
    arrived: float | None = None

    def setup(self) -> None:
        super().setup()  # the connection has SO_TIMESTAMP from the listening socket (_HttpServer.server_bind)
        self.server.owner._track(self.connection, add=True)

    def handle_one_request(self) -> None:
        try:
            self.arrived = _arrival(self.connection)
        except TimeoutError:
            self.close_connection = True  # an idle keep-alive connection, as the base class handles it
            return
        super().handle_one_request()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.owner._handle(self, "GET")

    def do_POST(self) -> None:
        self.server.owner._handle(self, "POST")

    def do_PUT(self) -> None:
        self.server.owner._handle(self, "PUT")

    def do_DELETE(self) -> None:
        self.server.owner._handle(self, "DELETE")

    def do_PATCH(self) -> None:
        self.server.owner._handle(self, "PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sim: " + format, *args)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: SimServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # Set on the listening socket, the stamps are on from the first segment of each connection
        # (accepted sockets inherit it; set after accept, a request sent at once would have none).
        if _SO_TIMESTAMP is not None:
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMP, 1)
        super().server_bind()


class SimServer:
    """The CBBD API simulator on loopback."""

    def __init__(
        self,
        data: ApiData,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        quota: int | None = None,
        fault_rates: Mapping[str, float] | None = None,
        latency_ms: float = 0,
        request_log: str | Path | None = None,
        seed: int = 0,
        hang_seconds: float = DEFAULT_HANG_SECONDS,
        hold: threading.Event | None = None,
    ) -> None:
        """Index the data and prepare the server (nothing is bound until start).

        Args:
            data: The records to serve.
            host: Interface to bind (loopback by default).
            port: Port to bind; 0 picks a free one.
            api_key: The only accepted bearer token; any token is accepted when None.
            quota: Monthly calls available; None for unlimited (then no X-CallLimit-Remaining).
            fault_rates: Fault kind → probability (see :mod:`reconciler.sim.faults`).
            latency_ms: Delay added to every response.
            request_log: JSON Lines file to append one line per request to.
            seed: Seed of the fault RNG.
            hang_seconds: How long a ``timeout`` fault stalls (cut short by :meth:`stop`).
            hold: When given, every response waits until this event is set (or the server stops):
                a test keeps a client mid-fetch for as long as it needs, without guessing a latency.

        Raises:
            ValueError: On bad fault rates, a negative quota, latency or hang.
        """
        if latency_ms < 0 or hang_seconds < 0:
            raise ValueError("latency_ms and hang_seconds must be non-negative")
        self.app = SimApp(data, api_key=api_key, quota=quota, fault_rates=fault_rates, seed=seed)
        self._address = (host, port)
        self._latency = latency_ms / 1000.0
        self._hang = hang_seconds
        self._hold = hold
        self._log_path = Path(request_log) if request_log is not None else None
        self._log: IO[str] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._serving = threading.Event()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._total = 0
        self._by_status: Counter[int] = Counter()
        self._by_fault: Counter[str] = Counter()

    # -- lifecycle ---------------------------------------------------------------------------

    def _bind(self) -> _HttpServer:
        if self._httpd is None:
            self._httpd = _HttpServer(self._address, self)
            if self._log_path is not None:
                self._log = self._log_path.open("a", encoding="utf-8")
            logger.info("CBBD simulator listening on %s (%d games)", self.url, len(self.app.store.index))
        return self._httpd

    def start(self) -> SimServer:
        """Bind and serve in a background thread.

        Returns:
            self, so that ``sim = SimServer(data).start()`` reads well.
        """
        httpd = self._bind()
        if self._thread is None:
            self._serving.set()
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="cbbd-sim", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind and serve in this thread until :meth:`stop` is called from another one."""
        httpd = self._bind()
        self._serving.set()
        try:
            httpd.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving: cut hangs short, drop open connections, close the socket and the log."""
        self._stopping.set()
        httpd = self._httpd
        if httpd is None:
            return
        if self._serving.is_set():
            # Safe even if serve_forever has not begun its loop yet: it then returns at once.
            httpd.shutdown()
            self._serving.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._close()

    def _close(self) -> None:
        with self._lock:
            httpd, self._httpd = self._httpd, None
            log, self._log = self._log, None
        if httpd is not None:
            httpd.server_close()
        if log is not None:
            log.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- introspection -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8787`` (after :meth:`start`)."""
        if self._httpd is None:
            raise RuntimeError("the simulator is not bound yet: call start()")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def quota_remaining(self) -> int | None:
        """Calls left in the quota, or None when unlimited."""
        return self.app.quota.remaining

    @property
    def requests(self) -> SimStats:
        """A snapshot of request counts."""
        with self._lock:
            return SimStats(self._total, dict(self._by_status), dict(self._by_fault))

    # -- request handling --------------------------------------------------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _handle(self, handler: _Handler, method: str) -> None:
        arrived = handler.arrived if handler.arrived is not None else time.time()
        began = time.monotonic()
        url = urlsplit(handler.path)
        raw_query = parse_qs(url.query, keep_blank_values=True)
        query = {k: v[0] for k, v in raw_query.items()}
        try:
            reply = self.app.respond(method, url.path, query, handler.headers.get("Authorization"))
        except Exception:
            # A provider bug answers like Express's error handler, instead of killing the thread.
            logger.exception("sim: %s %s failed", method, url.path)
            reply = Reply(500, b'{"message":"Internal Server Error"}')
        entry: dict[str, Any] = {
            "ts": arrived,
            "method": method,
            "path": url.path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in raw_query.items() if k.lower() not in _SECRET_PARAMS},
            "status": reply.status,
            "fault": reply.fault,
            "bytes": len(reply.body),
        }
        if reply.action == "hang":
            self._record(entry, began)
            self._stopping.wait(self._hang)
            handler.close_connection = True
            return
        if self._hold is not None:
            while not self._hold.wait(0.05) and not self._stopping.is_set():
                pass
        if self._latency:
            self._stopping.wait(self._latency)
        # Logged before sending, so a client that has its response can already read the line.
        self._record(entry, began)
        if reply.action == "reset":
            self._reset(handler)
        else:
            self._send(handler, reply)

    @staticmethod
    def _send(handler: _Handler, reply: Reply) -> None:
        assert reply.status is not None
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(reply.body)
        except OSError:
            handler.close_connection = True  # the client went away

    @staticmethod
    def _reset(handler: _Handler) -> None:
        conn = handler.connection
        try:
            # SO_LINGER on with a zero timeout makes close() send RST instead of FIN.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        except OSError:
            pass
        handler.close_connection = True

    def _record(self, entry: dict[str, Any], began: float) -> None:
        entry["ms"] = round((time.monotonic() - began) * 1000, 1)
        entry["remaining"] = self.app.quota.remaining
        line = json.dumps(entry, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            self._total += 1
            if entry["status"] is not None:
                self._by_status[entry["status"]] += 1
            if entry["fault"] is not None:
                self._by_fault[entry["fault"]] += 1
            if self._log is not None:
                self._log.write(line)
                self._log.flush()
