"""What every fake tracker shares: a ThreadingHTTPServer on 127.0.0.1 and injected faults."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Fault:
    """The next `times` matching requests: answered with `status`, or (`drop`) handled and
    then left without an answer, as when a connection dies after the service did the work."""

    status: int = 0
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    method: str | None = None
    path: str | None = None  # a substring of the path
    contains: str | None = None  # a substring of the body (GraphQL: the operation)
    drop: bool = False
    stall: float = 0.0  # seconds to wait before answering (a slow tracker)

    def matches(self, method: str, path: str, raw: bytes) -> bool:
        return (
            self.times > 0
            and (self.method is None or self.method == method)
            and (self.path is None or self.path in path)
            and (self.contains is None or self.contains.encode() in raw)
        )


Answer = tuple[int, dict[str, str], Any]


class Refuse(Exception):  # noqa: N818 - raised by handlers to answer an error
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeTracker:
    """Subclasses implement `route(call) -> (status, headers, body)` and `authorised(call)`."""

    name = "tracker"
    CREATE: dict[str, str] = {}  # how to match the request that creates a task (for faults)

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ---

    def start(self) -> FakeTracker:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, daemon=True, name=f"fake-{self.name}"
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    # --- faults ---

    def fail(self, status: int, times: int = 1, **kwargs: Any) -> None:
        with self.lock:
            self.faults.append(Fault(status=status, times=times, **kwargs))

    def drop_answer(self, times: int = 1, **kwargs: Any) -> None:
        with self.lock:
            self.faults.append(Fault(times=times, drop=True, **kwargs))

    def stall(self, seconds: float, times: int = 1, **kwargs: Any) -> None:
        with self.lock:
            self.faults.append(Fault(times=times, stall=seconds, **kwargs))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _fault(self, method: str, path: str, raw: bytes) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path, raw):
                    fault.times -= 1
                    return fault
        return None

    # --- serving ---

    def authorised(self, call: Call) -> None:
        """Raise Refuse unless the call carries this tracker's credentials as documented."""
        raise NotImplementedError

    def route(self, call: Call) -> Answer:
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        call = Call(handler.command, parts.path, parse_qs(parts.query), headers, body)
        fault = self._fault(handler.command, parts.path, raw)
        if fault is not None and fault.stall:
            time.sleep(fault.stall)
            fault = None  # then answers as usual, too late for a client that gave up
        try:
            if fault is not None and not fault.drop:
                raise Refuse(fault.status, fault.body, fault.headers)
            if raw and "application/json" not in headers.get("content-type", ""):
                raise Refuse(*self.bad_content_type())
            if raw and not isinstance(body, dict | list):
                raise Refuse(*self.bad_json())
            self.authorised(call)
            with self.lock:
                status, extra, answer = self.route(call)
        except Refuse as refused:
            status, extra, answer = refused.status, refused.headers, refused.body
        call.status = status
        with self.lock:
            self.calls.append(call)
        if fault is not None and fault.drop:
            handler.close_connection = True
            return  # the work is done; the answer never leaves
        data = b"" if answer is None else json.dumps(answer).encode()
        handler.send_response(status)
        for key, value in extra.items():
            handler.send_header(key, value)
        if data:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def bad_content_type(self) -> tuple[int, Any]:
        return 415, {"error": "Content-Type must be application/json"}

    def bad_json(self) -> tuple[int, Any]:
        return 400, {"error": "the body is not JSON"}

    def requests(self, method: str | None = None, path: str | None = None) -> list[Call]:
        with self.lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method) and (path is None or path in c.path)
            ]
