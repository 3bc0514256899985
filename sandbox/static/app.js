// The sandbox page: polls /api/state, sends what the person does to /api/action.
// All Block Kit rendering happens on the server (bot/sandbox/render.py).
"use strict";

const ui = {
  person: new URLSearchParams(location.search).get("as") || "U0ALICE",
  pane: "channel:C0REVIEWS",
  paneHtml: null,
  modalHtml: null,
  threads: new Set(),
  seenDms: {},
  jump: null,
  // What the person typed in the open modal and the page has not sent yet ("view|block|action"
  // -> value). Slack's client keeps such input when the app redraws the view (views.update
  // with the same block_id and action_id), so a redraw here must not wipe it either.
  typed: new Map(),
};
const $ = (id) => document.getElementById(id);

async function refresh() {
  const query = new URLSearchParams({ person: ui.person, pane: ui.pane });
  let state;
  try {
    const res = await fetch(`/api/state?${query}`);
    state = await res.json();
    if (!res.ok) return toast(state.problems.join("; "), true);
  } catch (err) {
    return;  // the sandbox is restarting or stopped; the next poll tries again
  }
  if (state.person !== ui.person || state.pane !== ui.pane) return;
  drawSidebar(state);
  if (state.html !== ui.paneHtml) drawPane(state.html);
  drawModal(state.modal);
}

function drawSidebar(state) {
  const people = $("people");
  if (!people.childElementCount) {
    for (const p of state.people) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = p.name; b.dataset.person = p.id; b.title = p.full;
      people.appendChild(b);
    }
    const channels = $("channels");
    for (const c of state.channels) {
      const a = document.createElement("a");
      a.href = "#"; a.className = "nav-item"; a.dataset.pane = `channel:${c.id}`;
      a.textContent = `# ${c.name}`;
      channels.appendChild(a);
    }
    $("clock").hidden = state.clock.length === 0;
    $("clock-label").textContent = `Run as of (${state.tz} time)`;
    ui.sandboxTz = state.tz;
    ui.people = state.people;
    drawLocalTimes();
    for (const job of state.clock) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = job.label; b.dataset.clock = job.id;
      $("clock-jobs").appendChild(b);
    }
  }
  for (const b of people.children) b.setAttribute("aria-pressed", b.dataset.person === ui.person);
  for (const a of document.querySelectorAll(".nav-item")) {
    a.classList.toggle("active", a.dataset.pane === ui.pane);
  }
  if (ui.pane === "dm") ui.seenDms[ui.person] = state.dms;
  const unseen = state.dms - (ui.seenDms[ui.person] || 0);
  $("dm-badge").hidden = unseen <= 0;
  $("dm-badge").textContent = unseen;
  const title = ui.pane === "dm" ? "Postmortem Bot" : ui.pane === "home" ? "Postmortem Bot: Home"
    : `# ${(state.channels.find((c) => `channel:${c.id}` === ui.pane) || {}).name || ""}`;
  $("pane-title").textContent = title;
  $("composer").hidden = ui.pane === "home";
}

// The instant a wall-clock time in `tz` stands for ("2026-12-09T09:05" in Australia/Sydney).
function instantIn(local, tz) {
  const [d, t] = local.split("T");
  const [y, mo, da] = d.split("-").map(Number);
  const [h, mi] = t.split(":").map(Number);
  const wall = Date.UTC(y, mo - 1, da, h, mi);
  const offsetAt = (ms) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-AU", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric" }).formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]));
    return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute) - ms;
  };
  let ms = wall - offsetAt(wall);
  ms = wall - offsetAt(ms);  // again, in case the guess fell on the other side of a DST change
  return new Date(ms);
}

// Next to the clock: the chosen moment in each person's own timezone, where their reminders
// run at 09:00 (Bob in Perth is three hours behind a Sydney clock in summer).
function drawLocalTimes() {
  const list = $("clock-local");
  const local = $("clock-at").value;
  if (!ui.people || !local) { list.replaceChildren(); return; }
  const at = instantIn(local, ui.sandboxTz);
  list.replaceChildren(...ui.people.map((p) => {
    const li = document.createElement("li");
    const time = new Intl.DateTimeFormat("en-AU", {
      timeZone: p.tz, weekday: "short", day: "numeric", month: "short", hour: "2-digit",
      minute: "2-digit", hourCycle: "h23" }).format(at);
    li.textContent = `${p.name}: ${time} (${p.tz.split("/").pop().replace("_", " ")})`;
    return li;
  }));
}

function drawPane(html) {
  const pane = $("pane");
  const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 60;
  pane.innerHTML = html;
  ui.paneHtml = html;
  for (const t of pane.querySelectorAll(".thread")) {
    t.classList.toggle("open", ui.threads.has(t.dataset.threadOf));
  }
  if (ui.jump) {
    const target = document.getElementById(ui.jump);
    ui.jump = null;
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.classList.add("highlight");
      return;
    }
  }
  if (atBottom && ui.pane !== "home") pane.scrollTop = pane.scrollHeight;
}

function drawModal(modal) {
  const overlay = $("overlay");
  const html = modal ? modal.html : null;
  if (html === ui.modalHtml) return;
  ui.modalHtml = html;
  const caret = focusedField(overlay.querySelector(".modal"));
  overlay.hidden = !modal;
  overlay.innerHTML = html || "";
  const drawn = overlay.querySelector(".modal");
  if (!drawn) return;
  for (const el of drawn.querySelectorAll(".bk-input-block [data-type]")) {
    const key = typedKey(drawn, el);
    if (ui.typed.has(key)) setValue(el, ui.typed.get(key));
    if (caret && key === caret.key) refocus(el, caret);
  }
}

// Slack's client leaves the caret where it was when the app redraws the view, so the person
// typing on loses nothing; replacing the HTML would drop the focus (and the keys after it).
function focusedField(modal) {
  const active = document.activeElement;
  if (!modal || !active || !modal.contains(active)) return null;
  const el = active.closest(".bk-input-block [data-type]");
  if (!el) return null;
  const caret = { key: typedKey(modal, el), start: null, end: null };
  if (el === active) {
    try { [caret.start, caret.end] = [el.selectionStart, el.selectionEnd]; } catch (err) { /* no caret */ }
  }
  return caret;
}

function refocus(el, caret) {
  el.focus();
  if (caret.start === null) return;
  try { el.setSelectionRange(caret.start, caret.end); } catch (err) { /* no caret here */ }
}

function typedKey(modal, el) {
  return `${modal.dataset.viewId}|${el.dataset.blockId}|${el.dataset.actionId}`;
}

function setValue(el, value) {
  const type = el.dataset.type;
  if (type === "checkboxes" || type === "radio_buttons") {
    const wanted = Array.isArray(value) ? value : [value];
    for (const input of el.querySelectorAll("input")) input.checked = wanted.includes(input.value);
  } else if (el.multiple) {
    for (const option of el.options) option.selected = (value || []).includes(option.value);
  } else {
    el.value = value === null ? "" : value;
  }
}

// Sent: "Slack" keeps it now (view.state), and draws it in the next HTML.
function sent(modal) {
  for (const key of [...ui.typed.keys()]) {
    if (key.startsWith(`${modal.dataset.viewId}|`)) ui.typed.delete(key);
  }
}

for (const kind of ["input", "change"]) {
  document.addEventListener(kind, (event) => {
    const modal = event.target.closest(".modal");
    const el = event.target.closest(".bk-input-block [data-type]");
    if (modal && el) ui.typed.set(typedKey(modal, el), valueOf(el));
  }, true);
}

function toast(text, bad) {
  const t = $("toast");
  t.textContent = text;
  t.classList.toggle("bad", Boolean(bad));
  t.hidden = !text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, bad ? 8000 : 4000);
}

async function act(action) {
  const res = await fetch("/api/action", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ person: ui.person, ...action }),
  });
  const answer = await res.json();
  if (answer.problems && answer.problems.length) toast(answer.problems.join("; "), true);
  else if (answer.notice) toast(answer.notice, false);
  await refresh();
  return answer;
}

function valueOf(el) {
  const type = el.dataset.type;
  if (type === "checkboxes") return [...el.querySelectorAll("input:checked")].map((i) => i.value);
  if (type === "radio_buttons") {
    const chosen = el.querySelector("input:checked");
    return chosen ? chosen.value : null;
  }
  if (el.multiple) return [...el.selectedOptions].map((o) => o.value);
  return el.value === "" ? null : el.value;
}

function collect(root) {
  const values = {};
  for (const el of root.querySelectorAll(".bk-input-block [data-type]")) {
    (values[el.dataset.blockId] ||= {})[el.dataset.actionId] = valueOf(el);
  }
  return values;
}

function where(el) {
  const modal = el.closest(".modal");
  if (modal) {
    const values = collect(modal);
    sent(modal);
    return { view_id: modal.dataset.viewId, values };
  }
  const surface = el.closest("[data-view-id]");
  if (surface) return { view_id: surface.dataset.viewId };
  const msg = el.closest(".msg");
  return { channel: msg.dataset.channel, ts: msg.dataset.ts };
}

function fire(el, value) {
  return act({ kind: "click", action_id: el.dataset.actionId, block_id: el.dataset.blockId,
               value, ...where(el) });
}

// A link to a message in the person's own DM with the bot (an action item's card) opens the DM.
function paneOf(channel) {
  return channel === `D${ui.person}` ? "dm" : `channel:${channel}`;
}

function show(pane) {
  ui.pane = pane;
  ui.paneHtml = null;
  if (pane === "home") act({ kind: "home" });  // Slack sends app_home_opened on every visit
  refresh();
}

document.addEventListener("click", async (event) => {
  const el = event.target.closest("button, a");
  if (!el) return;
  const modal = el.closest(".modal");
  if (el.dataset.person) {
    ui.person = el.dataset.person;
    ui.modalHtml = null;
    history.replaceState(null, "", `?as=${ui.person}`);
    show(ui.pane);
  } else if (el.dataset.pane) {
    event.preventDefault();
    show(el.dataset.pane);
  } else if (el.classList.contains("permalink")) {
    event.preventDefault();
    ui.jump = el.getAttribute("href").slice(1);
    show(paneOf(el.dataset.channel));
  } else if (el.classList.contains("thread-toggle")) {
    const ts = el.dataset.thread;
    if (ui.threads.has(ts)) ui.threads.delete(ts); else ui.threads.add(ts);
    ui.paneHtml = null;
    refresh();
  } else if (el.dataset.type === "button" || el.dataset.type === "workflow_button") {
    el.disabled = true;
    await fire(el, el.dataset.value);
    el.disabled = false;
    if (el.dataset.url && el.dataset.url.startsWith("#msg-")) {
      ui.jump = el.dataset.url.slice(1);
      show(paneOf(ui.jump.split("-")[1]));
    }
  } else if (modal && el.dataset.submit) {
    el.disabled = true;
    const values = collect(modal);
    sent(modal);
    await act({ kind: "submit", view_id: modal.dataset.viewId, values });
    el.disabled = false;
  } else if (modal && el.dataset.close) {
    const values = collect(modal);
    sent(modal);
    act({ kind: "close", view_id: modal.dataset.viewId, values });
  } else if (modal && el.dataset.example) {
    const values = collect(modal);
    sent(modal);
    act({ kind: "example", view_id: modal.dataset.viewId, values });
  } else if (el.dataset.clock) {
    const at = $("clock-at").value;
    if (!at) return toast("Pick a date and time first", true);
    act({ kind: "clock", job: el.dataset.clock, at });
  }
});

document.addEventListener("change", (event) => {
  const el = event.target.closest("[data-fires]");
  if (!el || el.dataset.type === "button") return;
  fire(el, valueOf(el));
  // A menu (an overflow, or the "More actions" select) goes back to its placeholder once used.
  if (el.dataset.type === "overflow" || el.dataset.actionId === "more_actions") el.value = "";
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  act({ kind: "command", text, pane: ui.pane });
});

// Without a colour emoji font the emoji are empty boxes: draw one on a canvas and, if no pixel
// has colour, show each emoji's text stand-in (data-text, rendered by the stylesheet) instead.
function hasColourEmoji() {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 24;
  const ctx = canvas.getContext("2d");
  if (!ctx) return true;
  ctx.textBaseline = "top";
  ctx.font = "20px sans-serif";
  ctx.fillText("\u2705", 0, 0);
  const px = ctx.getImageData(0, 0, 24, 24).data;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] && (px[i] !== px[i + 1] || px[i + 1] !== px[i + 2])) return true;
  }
  return false;
}
if (new URLSearchParams(location.search).get("emoji") === "text" || !hasColourEmoji()) {
  document.documentElement.classList.add("no-emoji");
}

$("clock-at").value = new Date(Date.now() - new Date().getTimezoneOffset() * 60000)
  .toISOString().slice(0, 16);
$("clock-at").addEventListener("input", drawLocalTimes);
refresh();
setInterval(refresh, 500);
