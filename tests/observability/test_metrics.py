"""The labels the metrics use, and what Socket Mode serves on its port."""

from __future__ import annotations

import io
import json

from slack_sdk.http_retry.response import HttpResponse

from bot.observability.metrics import Metrics, call_outcome, method_of, request_kind
from bot.server import probes_app, webhook_outcome


def test_each_slack_answer_has_one_outcome() -> None:
    def answer(status: int, body: dict | None = None) -> HttpResponse:
        return HttpResponse(status_code=status, headers={}, body=body or {})

    assert call_outcome(answer(200, {"ok": True}), None) == "ok"
    assert call_outcome(answer(200, {"ok": False, "error": "channel_not_found"}), None) == (
        "channel_not_found"
    )
    assert call_outcome(answer(200, {"ok": False, "error": "<script>"}), None) == "unknown_error"
    assert call_outcome(answer(429), None) == "ratelimited"
    assert call_outcome(answer(503), None) == "5xx"
    assert call_outcome(answer(404), None) == "http_404"
    assert call_outcome(None, ConnectionResetError()) == "connection_error"
    assert method_of("https://slack.com/api/chat.postMessage?x=1") == "chat.postMessage"


def test_each_slack_request_has_one_kind() -> None:
    assert request_kind({"command": "/postmortem"}) == "command"
    assert request_kind({"type": "view_closed"}) == "view_closed"
    assert request_kind({"type": "event_callback"}) == "event"
    assert request_kind({"type": "block_suggestion"}) == "options"
    assert request_kind({"type": "message_action"}) == "shortcut"
    assert request_kind({"type": "url_verification"}) == "other"


def test_webhook_outcomes() -> None:
    assert webhook_outcome(200, json.dumps({"ok": True, "ticket": "T-1"}).encode()) == "accepted"
    assert webhook_outcome(200, json.dumps({"changes": 1, "applied": 0}).encode()) == "duplicate"
    assert webhook_outcome(401, b"{}") == "unauthorised"
    assert webhook_outcome(400, b"{}") == "invalid"
    assert webhook_outcome(404, b"{}") == "invalid"
    assert webhook_outcome(503, b"{}") == "error"


def test_socket_mode_port_serves_health_and_metrics_only(engine) -> None:
    class Rt:
        metrics = Metrics()

    rt = Rt()
    rt.engine = engine  # type: ignore[attr-defined]
    rt.metrics.nudges.labels("sent").inc(3)
    app = probes_app(rt)  # type: ignore[arg-type]

    def get(path: str) -> tuple[str, bytes]:
        seen: list[str] = []
        body = b"".join(
            app(
                {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()},
                lambda status, headers: seen.append(status),
            )
        )
        return seen[0], body

    assert get("/healthz") == ("200 OK", b"ok\n")
    status, body = get("/metrics")
    assert status == "200 OK" and b'postmortem_nudges_total{outcome="sent"} 3.0' in body
    assert get("/slack/events")[0] == "404 Not Found"
