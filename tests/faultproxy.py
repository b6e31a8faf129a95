"""A fault-injecting HTTP proxy for tests (stdlib only, threaded, loopback only).

Put it in front of a real server and tell it which requests to break::

    with FaultProxy(label_studio.url) as proxy:
        proxy.add(Fault("status", status=502, when="after", method="POST", path="/import",
                        nth={1, 3}))
        ...  # point the client at proxy.url

A :class:`Fault` matches requests by method and a substring of the path, and fires on the
``nth`` matching requests (1-based; ``None`` = every one, ``times`` = the first N). Kinds:

- ``status``: answer ``status`` (502/503/504 ...) ``before`` forwarding (the server never sees
  the request) or ``after`` (the server did the work, the client hears an error);
- ``reset``: drop the connection with a TCP reset, before or after forwarding;
- ``delay``: wait ``seconds`` before forwarding (the server gets the request late) or after
  (the server answered; the answer reaches the client late). Set the client timeout below it;
- ``truncate``: forward, then send the headers and only the first half of the body and close
  the connection; ``keep_length`` keeps the real Content-Length (the client can tell the body
  is short) or drops it (HTTP/1.0-style "until close" framing: only the content shows it).

Every request is recorded in ``proxy.log`` (method, path, what happened); ``proxy.injected``
counts the faults fired. Each upstream request has a timeout, every delay is bounded by the
fault, and :meth:`close` stops the server, so nothing runs on after a test.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "server",
    "date",
}


@dataclass
class Fault:
    """One rule: what to break (kind), when (before/after forwarding) and on which requests."""

    kind: str  # status | reset | delay | truncate
    when: str = "before"  # before | after (forwarding to the server)
    method: str | None = None  # e.g. "POST"; None = any
    path: str | None = None  # substring of the request path (query string included); None = any
    nth: set[int] | None = None  # 1-based indices among matching requests; None = every one
    times: int | None = None  # fire on the first N matching requests only
    every: int | None = None  # fire on every k-th matching request
    status: int = 502
    seconds: float = 0.0
    keep_length: bool = True
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in ("status", "reset", "delay", "truncate"):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', not {self.when!r}")
        if self.kind == "truncate" and self.when != "after":
            raise ValueError("a truncated answer needs an answer: use when='after'")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path in path
        )

    def fires(self) -> bool:
        """Count a matching request; True when this one is to be broken."""
        self.seen += 1
        n = self.seen
        if self.nth is not None:
            hit = n in self.nth
        elif self.times is not None:
            hit = n <= self.times
        elif self.every is not None:
            hit = n % self.every == 0
        else:
            hit = True
        if hit:
            self.fired += 1
        return hit


class _Drop(Exception):
    """The connection to the client is to be closed (reset or truncation done)."""


class FaultProxy:
    """A reverse proxy on 127.0.0.1 (random port) in front of ``upstream``."""

    def __init__(self, upstream: str, upstream_timeout: float = 120.0) -> None:
        parts = urllib.parse.urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy only forwards to loopback")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._inflight = 0
        self._idle = threading.Condition(self._lock)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # quiet

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # -- configuration --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, *faults: Fault) -> FaultProxy:
        with self._lock:
            self.faults.extend(faults)
        return self

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    @property
    def injected(self) -> int:
        return sum(f.fired for f in self.faults)

    def requests(self, method: str | None = None, path: str | None = None) -> list[tuple]:
        with self._lock:
            return [
                r
                for r in self.log
                if (method is None or r[0] == method) and (path is None or path in r[1])
            ]

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is being handled (delayed forwards included)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- handling ---------------------------------------------------------------------------

    def _pick(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path) and fault.fires():
                    return fault
        return None

    def _record(self, method: str, path: str, what: str) -> None:
        with self._lock:
            self.log.append((method, path, what))

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._inflight += 1
        try:
            self._serve(h)
        except _Drop:
            h.close_connection = True
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            h.close_connection = True  # the client gave up (e.g. after its timeout)
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        method, path = h.command, h.path
        body = self._read_body(h)
        fault = self._pick(method, path)
        what = "ok" if fault is None else f"{fault.kind}:{fault.when}"
        if fault is not None and fault.when == "before":
            if fault.kind == "status":
                self._record(method, path, f"{what}:{fault.status}")
                return self._send(h, fault.status, [], _error_page(fault.status), True)
            if fault.kind == "reset":
                self._record(method, path, what)
                return self._reset(h)
            if fault.kind == "delay":
                time.sleep(fault.seconds)
        status, headers, payload = self._forward(h, method, path, body)
        self._record(method, path, f"{what}:{status}")
        if fault is not None and fault.when == "after":
            if fault.kind == "status":
                return self._send(h, fault.status, [], _error_page(fault.status), True)
            if fault.kind == "reset":
                return self._reset(h)
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            if fault.kind == "truncate":
                return self._truncated(h, status, headers, payload, fault.keep_length)
        self._send(h, status, headers, payload, False)

    @staticmethod
    def _read_body(h: BaseHTTPRequestHandler) -> bytes:
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            return b"".join(chunks)
        length = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(length) if length else b""

    def _forward(
        self, h: BaseHTTPRequestHandler, method: str, path: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=self.upstream_timeout
        )
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Connection"] = "close"
            conn.request(method, path, body=body if body or method != "GET" else None,
                         headers=headers)  # fmt: skip
            response = conn.getresponse()
            payload = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, payload
        except OSError as exc:
            return 502, [], _error_page(502, f"upstream: {exc}")
        finally:
            conn.close()

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        status: int,
        headers: list[tuple[str, str]],
        payload: bytes,
        close: bool,
    ) -> None:
        h.send_response(status)
        for key, value in headers:
            h.send_header(key, value)
        if not any(k.lower() == "content-type" for k, _ in headers):
            h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(payload)))
        if close:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(payload)
        h.wfile.flush()

    @staticmethod
    def _reset(h: BaseHTTPRequestHandler) -> None:
        sock = h.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        raise _Drop

    @staticmethod
    def _truncated(
        h: BaseHTTPRequestHandler,
        status: int,
        headers: list[tuple[str, str]],
        payload: bytes,
        keep_length: bool,
    ) -> None:
        h.send_response(status)
        for key, value in headers:
            h.send_header(key, value)
        if keep_length:
            h.send_header("Content-Length", str(len(payload)))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(payload[: len(payload) // 2])
        h.wfile.flush()
        h.connection.shutdown(socket.SHUT_RDWR)
        raise _Drop


def _error_page(status: int, detail: str = "") -> bytes:
    reason = http.client.responses.get(status, "Error")
    return (
        f"<html><head><title>{status} {reason}</title></head><body><center><h1>{status} "
        f"{reason}</h1></center><hr><center>faultproxy {detail}</center></body></html>\n"
    ).encode()
