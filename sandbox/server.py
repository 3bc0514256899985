"""The sandbox page's server: static files, `GET /api/state` and `POST /api/action`.

Every action is done through FakeSlack's user side (slash_command, click, fill, submit, close,
open_home), so what the page does reaches the bot signed and in Slack's payload shapes. The
state comes back as HTML rendered by `sandbox.render`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import mimetypes
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.action_items import nudges
from bot.digest import service as digest
from bot.digest import views as digest_views
from bot.surveys import service as surveys
from sandbox import render
from sandbox.fake_slack import ApiError, FakeSlack, StateError
from sandbox.fake_slack.state import iter_elements
from sandbox.harness import Bot, start_bot

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
CHANNEL = "C0REVIEWS"
PEOPLE = (("U0ALICE", "Alice"), ("U0BOB", "Bob"), ("U0ADMIN", "Carol (admin)"))
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


class ActionError(ValueError):
    """Something the page asked for that Slack's client could not have done."""


@dataclass
class Clock:
    """An optional scheduled job the page's clock control can run "as of" a time."""

    label: str
    run: Callable[[Any, datetime], object]


def post_digest(rt: Any, now: datetime) -> str:
    """The clock's digest job, told as a sentence (not "already: posted")."""
    result = digest.post(rt, rt.team_id(), now=now, by="sandbox")
    meeting = (
        f" for the meeting on {digest_views.when(result.meeting.starts_at)}"
        if result.meeting
        else ""
    )
    return {
        "posted": f"posted the digest{meeting}",
        "already": f"the digest{meeting} was already posted (once per meeting), nothing sent",
        "no_channel": "no digest channel is set: choose one with /postmortem digest",
        "no_meeting": "no meeting is scheduled in the next year",
    }.get(result.status, f"Slack refused the digest ({result.detail}); it will be retried")


def clock_jobs() -> dict[str, Clock]:
    """The jobs the page's clock control runs "as of" a chosen time."""
    return {
        "sweep": Clock("Run reminder sweep", nudges.sweep),
        "digest": Clock("Post the meeting digest", post_digest),
        "survey": Clock("Send survey reminders", surveys.sweep),
    }


class Sandbox:
    """FakeSlack + the running bot, seen and used as one person at a time."""

    def __init__(self, slack: FakeSlack, bot: Bot) -> None:
        self.slack = slack
        self.bot = bot
        self.tz = ZoneInfo(bot.rt.settings.timezone)
        self.clock = clock_jobs()
        self._client_errors: dict[tuple[str, str], dict[str, str]] = {}
        self._suggested: dict[str, dict[str, list[dict]]] = {}  # view id -> block -> options

    # -- state ---------------------------------------------------------------------------
    def directory(self) -> render.Directory:
        with self.slack.lock:
            return render.Directory.of(self.slack.workspace, self.tz)

    def _channel_html(self, channel_id: str, person: str, d: render.Directory) -> str:
        ws = self.slack.workspace
        with self.slack.lock:
            top = self.slack.messages(channel_id)
            ephemerals = [
                m for m in self.slack.ephemerals(person) if m.get("channel") == channel_id
            ]
            threads = {m["ts"]: ws.thread(channel_id, m["ts"])[1:] for m in top}
        items = [
            (m["ts"], render.message(m, channel_id, d, replies=threads.get(m["ts"]))) for m in top
        ]
        items += [(m["ts"], render.message(m, channel_id, d, ephemeral=True)) for m in ephemerals]
        items.sort(key=lambda pair: float(pair[0]))
        if not items:
            return '<div class="empty">No messages yet.</div>'
        return "".join(markup for _, markup in items)

    def state(self, person: str, pane: str) -> dict[str, Any]:
        """What `person` sees: the pane (channel:<id>, dm or home), their modal, DM count."""
        d = self.directory()
        if person not in d.users:
            raise ActionError(f"no such person {person}")
        if pane == "home":
            body = render.home(self.slack.home(person), d)
        elif pane == "dm":
            body = self._channel_html("D" + person, person, d)
        else:
            body = self._channel_html(pane.removeprefix("channel:") or CHANNEL, person, d)
        stack = self.slack.open_views(person)
        modal = None
        if stack:
            view = stack[-1]
            errors = {
                **self._client_errors.get((view["id"], view["hash"]), {}),
                **self.slack.view_errors(view["id"]),
            }
            modal = {
                "id": view["id"],
                "html": render.modal(
                    self._with_suggestions(person, view),
                    d,
                    errors=errors,
                    depth=len(stack),
                    example=view.get("callback_id") == "stage",
                ),
            }
        return {
            "person": person,
            "people": [
                {"id": uid, "name": name, "full": d.users.get(uid, name), "tz": self._tz_of(uid)}
                for uid, name in PEOPLE
                if uid in d.users
            ],
            "channels": [{"id": cid, "name": name} for cid, name in d.channels.items()],
            "pane": pane,
            "html": body,
            "modal": modal,
            "dms": len(self.slack.dms(person)),
            "clock": [{"id": key, "label": job.label} for key, job in self.clock.items()],
            "tz": str(self.tz),
        }

    def _with_suggestions(self, person: str, view: dict[str, Any]) -> dict[str, Any]:
        """The view with its external selects' options, asked of the bot as Slack asks
        (block_suggestion), once per view: the page shows them as a select's choices."""
        external = [
            b["block_id"]
            for b in view.get("blocks") or []
            if (b.get("element") or {}).get("type") in ("external_select", "multi_external_select")
        ]
        if not external:
            return view
        if view["id"] not in self._suggested:
            self._suggested[view["id"]] = {
                block_id: self.slack.suggest(person, view["id"], block_id) for block_id in external
            }
        shown = copy.deepcopy(view)
        for block in shown["blocks"]:
            if block.get("block_id") in self._suggested[view["id"]]:
                block["element"]["options"] = self._suggested[view["id"]][block["block_id"]]
        return shown

    def _tz_of(self, user_id: str) -> str:
        """The person's Slack timezone: their reminders run at 09:00 there, not in the page's."""
        with self.slack.lock:
            user = self.slack.workspace.users.get(user_id) or {}
        return str(user.get("tz") or self.tz)

    def file(self, file_id: str) -> tuple[str, bytes] | None:
        """(name, content) of a completed upload, or None."""
        with self.slack.lock:
            info = self.slack.workspace.files.get(file_id)
            if info is None or not info.get("completed") or info.get("content") is None:
                return None
            return str(info["name"]), bytes(info["content"])

    # -- actions -------------------------------------------------------------------------
    def act(self, action: dict[str, Any]) -> dict[str, Any]:
        """Do one thing as a person; answers {"ok", "problems", "notice"}."""
        kind = action.get("kind")
        person = str(action.get("person") or "")
        handler = getattr(self, f"_do_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            raise ActionError(f"unknown action {kind!r}")
        with self.slack.lock:
            if person not in self.slack.workspace.users:
                raise ActionError(f"no such person {person!r}")
        try:
            return handler(person, action)
        except (LookupError, StateError, ApiError) as exc:
            raise ActionError(str(exc)) from exc

    @staticmethod
    def _answer(reply: Any, notice: str = "") -> dict[str, Any]:
        if reply is None:
            return {"ok": True, "problems": [], "notice": notice}
        problems = list(getattr(reply, "problems", []))
        if getattr(reply, "status", 200) not in (200, None):
            problems.append(f"the bot answered HTTP {reply.status}")
        return {"ok": not problems, "problems": problems, "notice": notice}

    def _do_command(self, person: str, action: dict[str, Any]) -> dict[str, Any]:
        text = str(action.get("text") or "").strip()
        channel = self._channel_of(person, str(action.get("pane") or ""))
        if not text:
            raise ActionError("type a message or a /command")
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            return self._answer(self.slack.slash_command(person, channel, command, rest.strip()))
        return self._answer(self.slack.user_message(person, channel, text))

    @staticmethod
    def _channel_of(person: str, pane: str) -> str:
        if pane == "dm":
            return "D" + person
        if pane.startswith("channel:"):
            return pane.removeprefix("channel:")
        raise ActionError("commands are typed in a channel or a DM")

    def _do_click(self, person: str, action: dict[str, Any]) -> dict[str, Any]:
        view_id = action.get("view_id")
        values = action.get("values")
        if view_id and isinstance(values, dict) and values:
            self._fill(person, view_id, values)
        where: dict[str, Any]
        if view_id:
            where = {"view_id": view_id}
        else:
            where = {"channel_id": action.get("channel"), "message_ts": action.get("ts")}
        reply = self.slack.click(
            person,
            str(action.get("action_id")),
            action.get("value"),
            block_id=action.get("block_id"),
            **where,
        )
        return self._answer(reply)

    def _fill(self, person: str, view_id: str, values: dict[str, Any]) -> None:
        """What the person typed so far, kept by 'Slack' (as in view.state)."""
        self.slack.fill(person, view_id, _typed(values))

    def _do_submit(self, person: str, action: dict[str, Any]) -> dict[str, Any]:
        view_id = str(action.get("view_id"))
        reply = self.slack.submit(person, view_id, _typed(action.get("values") or {}))
        view = self.slack.view(view_id) if view_id in self.slack.workspace.views else None
        if not reply.sent:
            if view is not None:
                self._client_errors[(view_id, view["hash"])] = reply.client_errors
            return {"ok": False, "problems": [], "notice": "", "errors": reply.client_errors}
        if view is not None:
            self._client_errors.pop((view_id, view["hash"]), None)
        answer = self._answer(reply)
        answer["errors"] = reply.errors
        return answer

    def _do_close(self, person: str, action: dict[str, Any]) -> dict[str, Any]:
        view_id = str(action.get("view_id"))
        values = action.get("values")
        if isinstance(values, dict) and values:
            self._fill(person, view_id, values)  # view_closed carries what was typed
        return self._answer(self.slack.close(person, view_id))

    def _do_home(self, person: str, action: dict[str, Any]) -> dict[str, Any]:
        return self._answer(self.slack.open_home(person))

    def _do_example(self, person: str, action: dict[str, Any]) -> dict[str, Any]:
        """Fill the open stage form with example answers that read like a real review (a
        sandbox shortcut); what is already there (typed, a draft, a suggested action item)
        stays."""
        from bot.reviews.service import workflow_of
        from bot.reviews.views.stage_modal import ADD_ROW, ModalMeta, entered_values
        from storage import reviews as store
        from storage.db import transaction
        from storage.types import utcnow
        from workflows.samples import example_answers

        view = self.slack.top_view(person)
        if view is None or view.get("callback_id") != "stage":
            raise ActionError("no stage form is open")
        typed = action.get("values")
        if isinstance(typed, dict) and typed:
            self._fill(person, view["id"], typed)
            view = self.slack.top_view(person) or view
        meta = ModalMeta.loads(view["private_metadata"])
        with transaction(self.bot.rt.sessions) as session:
            review = store.get_review(session, meta.review_id)
            if review is None:
                raise ActionError("that review no longer exists")
            workflow = workflow_of(review)
            stage = workflow.stage(meta.stage)
            earlier = store.latest_answers(session, review.id)
        today = utcnow().astimezone(self.tz).date()
        example_raw = example_answers(stage, workflow.key, today, person, earlier)
        kept: int | None = None
        for _ in range(20):
            view = self.slack.top_view(person) or view
            example = entered_values(stage, example_raw, ModalMeta.loads(view["private_metadata"]))
            state = (view.get("state") or {}).get("values") or {}
            filled = {
                (b.get("block_id"), e.get("action_id"))
                for b, e in iter_elements(view["blocks"])
                if render.has_value(e, state.get(b.get("block_id"), {}).get(e.get("action_id")))
            }
            kept = len(filled) if kept is None else kept
            present = {
                (b.get("block_id"), e.get("action_id")): b for b, e in iter_elements(view["blocks"])
            }
            todo = {
                bid: {
                    aid: v
                    for aid, v in actions.items()
                    if (bid, aid) in present and (bid, aid) not in filled and v
                }
                for bid, actions in example.items()
            }
            todo = {bid: actions for bid, actions in todo.items() if actions}
            # An answer other fields depend on is chosen as a person does: its input
            # dispatches and the bot draws the form again, with the fields it opens.
            chosen = next(
                (
                    (bid, aid, v)
                    for bid, actions in todo.items()
                    for aid, v in actions.items()
                    if present[(bid, aid)].get("dispatch_action")
                ),
                None,
            )
            later = self._more_rows(view, example, present)
            if chosen is None and later is None:
                self.slack.fill(person, view["id"], todo)
                break
            self.slack.fill(
                person,
                view["id"],
                {
                    bid: actions
                    for bid, actions in todo.items()
                    if chosen is None or bid != chosen[0]
                },
            )
            if chosen is not None:
                reply = self.slack.click(
                    person, chosen[1], chosen[2], block_id=chosen[0], view_id=view["id"]
                )
            else:
                reply = self.slack.click(person, ADD_ROW, later, view_id=view["id"])
            if not reply.ok:
                return self._answer(reply)
            self._wait_for_redraw(person, view["hash"])
        kept_note = f"; kept {kept} answer{'s' if kept != 1 else ''}" if kept else ""
        return {"ok": True, "problems": [], "notice": f"Filled with example answers{kept_note}"}

    def _wait_for_redraw(self, person: str, old_hash: str) -> None:
        """The bot acks a click, then draws the form again with views.update."""
        self.slack.wait_for(lambda: (self.slack.top_view(person) or {}).get("hash") != old_hash)

    @staticmethod
    def _more_rows(
        view: dict[str, Any], example: dict[str, Any], present: dict[tuple[Any, Any], Any]
    ) -> str | None:
        """A group the example has more rows for than the form shows: its "Add" button's
        value, to press it."""
        ids = {bid for bid, _ in present}
        for block in view["blocks"]:
            if block.get("type") != "actions" or not str(block.get("block_id")).startswith("add."):
                continue
            group = block["block_id"].removeprefix("add.")
            if any(bid.startswith(f"g.{group}.") and bid not in ids for bid in example):
                return group
        return None

    def _do_clock(self, person: str, action: dict[str, Any]) -> dict[str, Any]:
        job = self.clock.get(str(action.get("job")))
        if job is None:
            raise ActionError(f"no clock job {action.get('job')!r} in this build")
        try:
            at = datetime.fromisoformat(str(action.get("at")))
        except ValueError:
            raise ActionError(f"not a date and time: {action.get('at')!r}") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.tz)
        result = job.run(self.bot.rt, at)
        return {
            "ok": True,
            "problems": [],
            "notice": f"{job.label} as of {at:%a %-d %b %Y %H:%M %Z}: {result}",
        }


def _typed(values: Any) -> dict[str, dict[str, Any]]:
    """The page's `{block_id: {action_id: value}}`, an empty box sent as Slack does (null)."""
    if not isinstance(values, dict):
        raise ActionError("values must be {block_id: {action_id: value}}")
    return {
        bid: {aid: None if v == "" else v for aid, v in actions.items()}
        for bid, actions in values.items()
        if isinstance(actions, dict)
    }


# -- HTTP ------------------------------------------------------------------------------------
def _handler(sandbox: Sandbox, allowed_hosts: set[str]) -> type[BaseHTTPRequestHandler]:
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in TYPES}

    class Handler(BaseHTTPRequestHandler):
        server_version = "postmortem-sandbox"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data).encode(), "application/json")

        def _host_ok(self) -> bool:
            # A page on another site cannot drive the sandbox through a rebound DNS name.
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            if host in allowed_hosts:
                return True
            self._send(403, b"forbidden host\n", "text/plain")
            return False

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if not self._host_ok():
                return
            url = urlsplit(self.path)
            if url.path == "/api/state":
                query = parse_qs(url.query)
                person = query.get("person", ["U0ALICE"])[0]
                pane = query.get("pane", [f"channel:{CHANNEL}"])[0]
                try:
                    self._json(200, sandbox.state(person, pane))
                except ActionError as exc:
                    self._json(400, {"ok": False, "problems": [str(exc)]})
                return
            if url.path == "/api/file":
                self._file(parse_qs(url.query).get("id", [""])[0])
                return
            name = "index.html" if url.path == "/" else url.path.removeprefix("/static/")
            path = files.get(name)
            if path is None:
                self._send(404, b"not found\n", "text/plain")
                return
            self._send(200, path.read_bytes(), TYPES[path.suffix])

        def _file(self, file_id: str) -> None:
            """A file the bot uploaded (an export), downloaded as the person would from Slack."""
            found = sandbox.file(file_id)
            if found is None:
                self._send(404, b"no such file\n", "text/plain")
                return
            name, content = found
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self.send_response(200)
            self.send_header(
                "Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else "")
            )
            self.send_header("Content-Length", str(len(content)))
            safe = "".join(c for c in name if c.isalnum() or c in "._-") or "file"
            self.send_header("Content-Disposition", f'attachment; filename="{safe}"')
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(content)

        def do_POST(self) -> None:  # noqa: N802
            if not self._host_ok():
                return
            # JSON only: a cross-site form cannot send it without a preflight we never answer.
            if urlsplit(self.path).path != "/api/action" or not (
                self.headers.get("Content-Type") or ""
            ).startswith("application/json"):
                self._send(404, b"not found\n", "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                action = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(action, dict):
                    raise ActionError("an action is a JSON object")
                self._json(200, sandbox.act(action))
            except (ActionError, ValueError) as exc:
                self._json(400, {"ok": False, "problems": [str(exc)]})
            except Exception as exc:  # the page shows it; the terminal gets the traceback
                log.exception("sandbox action failed")
                self._json(500, {"ok": False, "problems": [f"{type(exc).__name__}: {exc}"]})

    return Handler


@dataclass
class Running:
    sandbox: Sandbox
    url: str


@contextlib.contextmanager
def running(
    engine: Engine, *, port: int = 0, host: str = "127.0.0.1", env: dict[str, str] | None = None
) -> Iterator[Running]:
    """FakeSlack, the real bot and the page, all on 127.0.0.1, until the block ends."""
    slack = FakeSlack().start()
    stop_bot: Callable[[], None] | None = None
    try:
        # A user group, for the start form's and the People form's "from user groups".
        slack.add_usergroup("S0TEAM", "team", "The whole team", [u for u, _ in PEOPLE])
        bot, stop_bot = start_bot(slack, engine, **(env or {}))
        sandbox = Sandbox(slack, bot)
        server = ThreadingHTTPServer(
            (host, port), _handler(sandbox, {"127.0.0.1", "localhost", host})
        )
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True, name="sandbox-page")
        thread.start()
        try:
            yield Running(sandbox, f"http://{host}:{server.server_port}/")
        finally:
            server.shutdown()
            server.server_close()
    finally:
        if stop_bot is not None:
            stop_bot()
        slack.stop()
