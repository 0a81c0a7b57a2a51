// slipway's dashboard: the pipeline board (board.js) and the app pages (app.js), drawn from the
// Platform API with the session cookie (every write carries the session's CSRF token), and
// kept live by the event stream (/dashboard/events, server-sent events). Text from the server
// is only ever set as text, never parsed as HTML: a commit subject or a branch name is
// whatever a pusher wrote. This file: what both pages use, signing in and out, and the start
// (once every script has run: they are loaded deferred, in order).
"use strict";

// `notes`: what each control's last action said, by the control's key, so that a page drawn
// again (after an event) still shows it.
const state = { session: null, events: null, refresh: null, page: null, notes: new Map() };

// ---- small helpers --------------------------------------------------------------------------

// An element: h("a", {href: "/"}, "text", child...). Attributes are set as attributes (or,
// for on*, as listeners); children are nodes or text.
function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.id = body && body.id;
  }
}

// A Platform API call with the session cookie; a write sends the CSRF token.
async function api(method, path, body, headers) {
  const init = {
    method,
    credentials: "same-origin",
    headers: Object.assign({ Accept: "application/vnd.heroku+json; version=3" }, headers || {}),
  };
  if (method !== "GET") init.headers["X-CSRF-Token"] = state.session ? state.session.csrf : "";
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (_) {
    json = null;
  }
  if (response.status === 401 && !path.startsWith("/dashboard/session")) {
    location.assign("/signin?next=" + encodeURIComponent(location.pathname));
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

const enc = encodeURIComponent;

function age(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return "just now";
  const units = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${name}${n === 1 ? "" : "s"} ago`;
    }
  }
  return "";
}

function when(iso) {
  return iso ? h("time", { datetime: iso, title: iso }, age(iso)) : "";
}

function short(commit) {
  return commit ? commit.slice(0, 7) : "";
}

function ciBadge(status, run) {
  if (!status) return null;
  const kind = status === "succeeded" ? "ok" : status === "failed" || status === "errored" ? "bad" : "warn";
  return h("span", { class: `badge ${kind}`, title: run ? `test run #${run}` : null }, `CI ${status}`);
}

// The line where the control `key` says what its action did (kept across redraws).
function statusLine(key) {
  const note = state.notes.get(key);
  return h("p", { class: `status-line${note && note.error ? " error" : ""}`, role: "status", dataset: { note: key } }, note ? note.text : "");
}

// Runs `action` for a button, with the button disabled meanwhile and the outcome in the status
// line of `key` (found again when it ends: the page may have been drawn again meanwhile).
async function act(button, key, action) {
  const show = (text, error) => {
    state.notes.set(key, { text, error });
    for (const line of document.querySelectorAll("[data-note]")) {
      if (line.dataset.note !== key) continue;
      line.textContent = text;
      line.classList.toggle("error", error);
    }
  };
  button.disabled = true;
  show("Working…", false);
  try {
    const message = (await action()) || "Done.";
    show(message, false);
  } catch (error) {
    show(error.message, true);
  } finally {
    button.disabled = false;
  }
}

// A button that runs `action` (act's), its outcome in the status line of `key`.
function actionButton(label, key, action, props) {
  const button = h("button", Object.assign({ type: "button", class: "secondary", onclick: () => act(button, key, action) }, props), label);
  return button;
}

// Re-renders after an event, at most every 150 ms however many come.
function scheduleRefresh(reason) {
  if (state.refresh) return;
  state.refresh = setTimeout(async () => {
    state.refresh = null;
    if (state.page && state.page.refresh) await state.page.refresh(reason);
  }, 150);
}

// ---- the event stream -----------------------------------------------------------------------

function listen(onEvent) {
  const indicator = document.getElementById("connection");
  const source = new EventSource("/dashboard/events");
  source.onopen = () => {
    if (indicator) indicator.textContent = "live";
  };
  source.onerror = () => {
    if (indicator) indicator.textContent = "reconnecting…";
  };
  source.onmessage = (message) => {
    let event = null;
    try {
      event = JSON.parse(message.data);
    } catch (_) {
      return;
    }
    onEvent(event);
  };
  state.events = source;
}

function replaceMain(nodes) {
  const main = document.getElementById("main");
  const open = new Set([...main.querySelectorAll("details[open]")].map(keyOf));
  const focused = document.activeElement && main.contains(document.activeElement) ? keyOf(document.activeElement) : null;
  main.replaceChildren(...nodes);
  for (const details of main.querySelectorAll("details")) if (open.has(keyOf(details))) details.open = true;
  if (focused) {
    const again = [...main.querySelectorAll("button, a, summary, input")].find((n) => keyOf(n) === focused);
    if (again) again.focus();
  }
}

function keyOf(node) {
  const card = node.closest("[data-app]");
  return `${card ? card.dataset.app : ""}/${node.tagName}/${node.dataset.promote || node.textContent.slice(0, 60)}`;
}

// ---- signing in and out ---------------------------------------------------------------------

function signInPage() {
  const form = document.getElementById("signin-form");
  const error = document.getElementById("signin-error");
  const input = document.getElementById("token");
  input.focus();
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    error.textContent = "";
    try {
      await api("POST", "/dashboard/session", { token: input.value.trim() });
      const next = new URLSearchParams(location.search).get("next");
      location.assign(next && /^\/app\/[a-z0-9-]+$/.test(next) ? next : "/");
    } catch (failure) {
      error.textContent = failure.message;
      input.focus();
    }
  });
}

async function start() {
  if (location.pathname === "/signin") {
    signInPage();
    return;
  }
  try {
    state.session = await api("GET", "/dashboard/session");
  } catch (_) {
    location.assign("/signin");
    return;
  }
  document.getElementById("who").textContent = `${state.session.user}${state.session.admin ? " (admin)" : ""}`;
  const signOut = document.getElementById("sign-out");
  signOut.addEventListener("click", async () => {
    signOut.disabled = true;
    try {
      await api("DELETE", "/dashboard/session");
    } finally {
      location.assign("/signin");
    }
  });
  const match = location.pathname.match(/^\/app\/([^/]+)$/);
  try {
    if (match) await appPage(decodeURIComponent(match[1]));
    else await boardPage();
  } catch (error) {
    replaceMain([h("h1", {}, "Something went wrong"), h("p", { class: "error" }, error.message)]);
  }
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
