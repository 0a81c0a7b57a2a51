// slipway's dashboard: the pipeline board and the app pages, drawn from the Platform API with
// the session cookie (every write carries the session's CSRF token), and kept live by the
// event stream (/dashboard/events, server-sent events). Text from the server is only ever set
// as text, never parsed as HTML: a commit subject or a branch name is whatever a pusher wrote.
"use strict";

const STAGES = [
  ["review", "Review apps"],
  ["development", "Development"],
  ["staging", "Staging"],
  ["production", "Production"],
];

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

// ---- the board ------------------------------------------------------------------------------

function processList(card) {
  if (card.processes_problem) return h("p", { class: "muted" }, "processes: unknown");
  if (!card.processes.length) return h("p", { class: "muted" }, "no processes");
  return h(
    "ul",
    { class: "processes", "aria-label": `processes of ${card.app}` },
    card.processes.map((p) => h("li", { class: `state ${p.state}` }, `${p.name} ${p.state}`)),
  );
}

function promoteControls(card, pipeline) {
  if (!card.promote_to.length) return null;
  return h(
    "div",
    { class: "promote" },
    card.promote_to.map((target) => {
      const key = `promote ${card.app} ${target.app}`;
      const label = `Promote to ${target.app}`;
      const button = actionButton(
        label,
        key,
        async () => {
          const made = await api("POST", "/pipeline-promotions", {
            pipeline: { id: pipeline.id },
            source: { app: { id: card.id } },
            targets: [{ app: { name: target.app } }],
          });
          const result = await waitPromotion(made.id);
          return `Promoted ${card.app} to ${target.app}: ${result}`;
        },
        { dataset: { promote: `${card.app}>${target.app}` } },
      );
      let diff;
      if (target.problem) diff = h("p", { class: "muted" }, target.problem);
      else if (!target.count) diff = h("p", { class: "muted" }, `${target.app} is up to date`);
      else
        diff = h(
          "details",
          {},
          h("summary", {}, `${target.more ? "at least " : ""}${target.count} commit${target.count === 1 ? "" : "s"} to promote`),
          h(
            "ul",
            {},
            target.commits.map((c) => h("li", {}, h("code", {}, short(c.id)), " ", c.subject, h("span", { class: "muted" }, ` — ${c.author}`))),
          ),
        );
      return h("div", {}, button, diff, statusLine(key));
    }),
  );
}

async function waitPromotion(id) {
  for (let i = 0; i < 600; i++) {
    const promotion = await api("GET", `/pipeline-promotions/${enc(id)}`);
    if (promotion.status !== "pending") {
      const targets = await api("GET", `/pipeline-promotions/${enc(id)}/promotion-targets`);
      const failed = targets.find((t) => t.status === "failed");
      if (failed) throw new Error(failed.error_message || "the promotion failed");
      return promotion.status;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error("the promotion is still running; the board will show its end");
}

function cardView(card, pipeline) {
  const badges = [];
  if (card.last_build === "failed") badges.push(h("span", { class: "badge bad", title: card.last_build_reason || null }, "build failed"));
  if (card.processes.some((p) => p.state === "crashed")) badges.push(h("span", { class: "badge bad" }, "crashed"));
  if (card.maintenance) badges.push(h("span", { class: "badge warn" }, "maintenance"));
  const ci = ciBadge(card.ci, card.ci_run);
  if (ci) badges.push(ci);
  const release = card.live
    ? h(
        "p",
        {},
        h("strong", {}, `v${card.live}`),
        card.commit ? [" · ", h("code", { title: card.commit }, short(card.commit))] : "",
        card.subject ? [" · ", card.subject] : "",
      )
    : h("p", { class: "muted" }, "not deployed yet");
  const review = card.review
    ? h("p", {}, "branch ", h("code", {}, card.review.branch), card.review.pull_request ? ` (PR #${card.review.pull_request})` : "", card.review.status !== "created" ? ` — ${card.review.status}` : "")
    : null;
  return h(
    "li",
    {},
    h(
      "article",
      { class: `card${card.failing ? " failing" : ""}`, dataset: { app: card.app }, "aria-label": `app ${card.app}` },
      h("h4", {}, h("a", { href: `/app/${enc(card.app)}` }, card.app), badges),
      release,
      card.released_at ? h("p", { class: "muted" }, "released ", when(card.released_at)) : null,
      review,
      h("p", {}, h("a", { href: card.url, rel: "noopener noreferrer" }, card.url)),
      processList(card),
      pipeline ? promoteControls(card, pipeline) : null,
    ),
  );
}

function boardView(data) {
  const out = [h("h1", {}, "Pipelines")];
  if (!data.pipelines.length) out.push(h("p", { class: "empty" }, "No pipeline has an app of yours yet."));
  for (const pipeline of data.pipelines) {
    const id = `pipeline-${pipeline.name}`;
    out.push(
      h(
        "section",
        { "aria-labelledby": id, class: "pipeline", dataset: { pipeline: pipeline.name } },
        h("h2", { id }, pipeline.name),
        h(
          "div",
          { class: "board" },
          STAGES.map(([stage, title]) => {
            const cards = pipeline.cards.filter((c) => c.stage === stage);
            const heading = `${id}-${stage}`;
            return h(
              "section",
              { class: "column", "aria-labelledby": heading, dataset: { stage } },
              h("h3", { id: heading }, `${title} (${cards.length})`),
              cards.length
                ? h("ul", {}, cards.map((c) => cardView(c, pipeline)))
                : h("p", { class: "empty" }, stage === "review" && !pipeline.review_apps ? "Review apps are off." : "No apps."),
            );
          }),
        ),
      ),
    );
  }
  if (data.apps.length) {
    out.push(
      h(
        "section",
        { "aria-labelledby": "other-apps" },
        h("h2", { id: "other-apps" }, "Apps in no pipeline"),
        h("ul", { class: "cards board" }, data.apps.map((c) => cardView(c, null))),
      ),
    );
  }
  return out;
}

// Replaces the page's content, keeping which <details> were open and where the focus was.
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

async function boardPage() {
  document.title = "Pipelines · slipway";
  const draw = async () => {
    const data = await api("GET", "/dashboard/board");
    replaceMain(boardView(data));
    document.body.dataset.boardVersion = String(Number(document.body.dataset.boardVersion || 0) + 1);
  };
  await draw();
  performance.mark("board-rendered");
  state.page = { refresh: draw };
  listen(() => scheduleRefresh());
}

// ---- the app page ---------------------------------------------------------------------------

function section(title, id, ...children) {
  return h("section", { class: "section", "aria-labelledby": id, id: `${id}-section` }, h("h2", { id }, title), ...children);
}

function table(caption, headers, rows) {
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows),
  );
}

async function releasesSection(app, slot) {
  const releases = await api("GET", `/apps/${enc(app)}/releases`, undefined, { Range: "version ..; order=desc, max=20" });
  const key = `releases ${app}`;
  const rows = releases.map((r) => {
    let action = "";
    if (r.current) action = h("span", { class: "badge ok" }, "live");
    else if (r.eligible_for_rollback) {
      action = actionButton(`Roll back to v${r.version}`, key, async () => {
        const made = await api("POST", `/apps/${enc(app)}/releases`, { release: r.id });
        return `Rolled back to v${r.version}: v${made.version} is live.`;
      });
    }
    return h("tr", { dataset: { version: r.version } }, h("td", {}, `v${r.version}`), h("td", {}, r.description), h("td", {}, r.user ? r.user.email : ""), h("td", {}, when(r.created_at)), h("td", {}, r.status === "succeeded" ? "" : r.status), h("td", {}, action));
  });
  slot.replaceChildren(
    section("Releases", "releases", rows.length ? table("Releases, newest first", ["Version", "Description", "By", "When", "Status", ""], rows) : h("p", { class: "empty" }, "No releases yet."), statusLine(key)),
  );
}

// Streams a text that grows (a build's output) into `pre`, until it ends or the page changes.
async function streamInto(url, pre, generation) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok || !response.body) {
    pre.textContent = `The log could not be read (${response.status}).`;
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  pre.textContent = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done || generation !== state.generation) break;
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(decoder.decode(value, { stream: true }));
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  }
}

async function buildSection(app, slot) {
  const builds = await api("GET", `/apps/${enc(app)}/builds`, undefined, { Range: "created_at ..; order=desc, max=1" });
  if (!builds.length) {
    slot.replaceChildren(section("Build log", "build", h("p", { class: "empty" }, "No builds yet.")));
    return;
  }
  const build = builds[0];
  const shown = slot.dataset.build;
  if (shown === `${build.number}/${build.status}` && build.status !== "pending") return;
  slot.dataset.build = `${build.number}/${build.status}`;
  const pre = h("pre", { class: "log", tabindex: "0", "aria-label": `output of build ${build.number}` });
  const kind = build.status === "succeeded" ? "ok" : build.status === "failed" ? "bad" : "warn";
  slot.replaceChildren(
    section(
      "Build log",
      "build",
      h("p", { class: "row" }, `Build ${build.number}`, h("span", { class: `badge ${kind}` }, build.status), build.source_blob.version ? h("code", {}, short(build.source_blob.version)) : "", when(build.created_at)),
      pre,
    ),
  );
  state.generation = (state.generation || 0) + 1;
  streamInto(build.output_stream_url, pre, state.generation).catch((error) => {
    pre.textContent = error.message;
  });
}

async function configSection(app, slot) {
  const vars = await api("GET", `/apps/${enc(app)}/config-vars`);
  const names = Object.keys(vars).sort();
  const admin = state.session && state.session.admin;
  const rows = names.map((name) => {
    const value = h("td", { class: "mono" }, "••••••");
    let reveal = "";
    if (admin) {
      const button = h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Reveal ${name}`,
          onclick: async () => {
            const fresh = await api("GET", `/apps/${enc(app)}/config-vars`);
            value.textContent = fresh[name] === undefined ? "(removed)" : fresh[name];
            button.remove();
          },
        },
        "Reveal",
      );
      reveal = button;
    }
    return h("tr", {}, h("th", { scope: "row", class: "mono" }, name), value, h("td", {}, reveal));
  });
  slot.replaceChildren(section("Config vars", "config", rows.length ? table("Config vars", ["Name", "Value", ""], rows) : h("p", { class: "empty" }, "No config vars."), admin ? null : h("p", { class: "muted" }, "Values are shown to admins only.")));
}

async function processesSection(app, slot) {
  const [formation, dynos] = await Promise.all([api("GET", `/apps/${enc(app)}/formation`), api("GET", `/apps/${enc(app)}/dynos`).catch((error) => error)]);
  const key = `processes ${app}`;
  const scaleRows = formation.map((f) => {
    const input = h("input", { type: "number", min: "0", max: "100", value: f.quantity, id: `scale-${f.type}`, "aria-label": `${f.type} processes`, class: "quantity" });
    const button = actionButton(`Scale ${f.type}`, key, async () => {
      const quantity = Number(input.value);
      await api("PATCH", `/apps/${enc(app)}/formation/${enc(f.type)}`, { quantity });
      return `Scaled ${f.type} to ${quantity}.`;
    });
    return h("tr", {}, h("th", { scope: "row" }, f.type), h("td", { class: "mono" }, f.command), h("td", {}, h("div", { class: "row" }, input, button)));
  });
  const restart = actionButton("Restart all", key, async () => {
    await api("DELETE", `/apps/${enc(app)}/dynos`);
    return "Restarting every process.";
  });
  const running = Array.isArray(dynos)
    ? dynos.length
      ? h("ul", { class: "processes", "aria-label": "running processes" }, dynos.map((d) => h("li", { class: `state ${d.state}` }, `${d.name} ${d.state} (v${d.release.version})`)))
      : h("p", { class: "empty" }, "No processes running.")
    : h("p", { class: "muted" }, dynos.message);
  slot.replaceChildren(section("Processes", "processes", scaleRows.length ? table("Process types", ["Type", "Command", "Scale"], scaleRows) : h("p", { class: "empty" }, "No process types."), running, h("div", { class: "row" }, restart), statusLine(key)));
}

async function domainsSection(app, slot) {
  const domains = await api("GET", `/apps/${enc(app)}/domains`);
  slot.replaceChildren(section("Domains", "domains", h("ul", {}, domains.map((d) => h("li", {}, h("code", {}, d.hostname), d.kind === "heroku" ? h("span", { class: "muted" }, " (default)") : "")))));
}

async function ciSection(app, slot) {
  const coupling = await api("GET", `/apps/${enc(app)}/pipeline-couplings`).catch(() => null);
  if (!coupling) {
    slot.replaceChildren(section("CI runs", "ci", h("p", { class: "empty" }, "This app is in no pipeline, so it has no CI runs.")));
    return;
  }
  const runs = await api("GET", `/pipelines/${enc(coupling.pipeline.id)}/test-runs`, undefined, { Range: "number ..; order=desc, max=10" });
  const items = runs.map((run) => {
    const output = h("pre", { class: "log", tabindex: "0", "aria-label": `output of test run ${run.number}` }, "");
    const details = h(
      "details",
      {
        ontoggle: async () => {
          if (!details.open || output.textContent) return;
          output.textContent = "Loading…";
          const nodes = await api("GET", `/test-runs/${enc(run.id)}/test-nodes`);
          output.textContent = "";
          for (const node of nodes) {
            const response = await fetch(node.output_stream_url, { credentials: "same-origin" });
            output.append(await response.text());
          }
        },
      },
      h("summary", {}, `#${run.number} `, ciBadge(run.status), ` ${short(run.commit_sha)} on ${run.commit_branch || "?"} `, run.message ? `— ${run.message}` : ""),
      output,
    );
    return h("li", {}, details);
  });
  slot.replaceChildren(section("CI runs", "ci", items.length ? h("ul", { class: "feed", tabindex: "0", "aria-label": "test runs, newest first" }, items) : h("p", { class: "empty" }, "No test runs yet.")));
}

async function webhooksSection(app, slot) {
  const [hooks, deliveries] = await Promise.all([api("GET", `/apps/${enc(app)}/webhooks`), api("GET", `/apps/${enc(app)}/webhook-deliveries`, undefined, { Range: "id ..; order=desc, max=20" }).catch(() => [])]);
  slot.replaceChildren(
    section(
      "Webhooks",
      "webhooks",
      hooks.length ? h("ul", {}, hooks.map((w) => h("li", {}, h("code", {}, w.url), ` — ${w.level}: ${w.include.join(", ")}`))) : h("p", { class: "empty" }, "No webhooks."),
      deliveries.length ? table("Deliveries, newest first", ["Event", "Status", "Attempts", "When"], deliveries.map((d) => h("tr", {}, h("td", {}, d.event.include), h("td", {}, d.status), h("td", {}, String(d.num_attempts)), h("td", {}, when(d.updated_at))))) : null,
    ),
  );
}

function describe(event) {
  const data = event.data || {};
  if (data.message) return data.message;
  return `${event.resource} ${event.action}${data.version ? ` v${data.version}` : ""}${data.dyno ? ` ${data.dyno}` : ""}`;
}

function activityItem(event) {
  return h("li", { dataset: { event: event.id } }, h("time", { datetime: event.time, class: "muted" }, event.time.replace("T", " ").replace("Z", "")), " ", h("strong", {}, event.actor), " ", describe(event));
}

async function appPage(app) {
  document.title = `${app} · slipway`;
  let summary;
  try {
    summary = await api("GET", `/apps/${enc(app)}`);
  } catch (error) {
    replaceMain([h("h1", {}, "No such app"), h("p", {}, error.status === 403 || error.status === 404 ? `There is no app called “${app}” that you may see.` : error.message), h("p", {}, h("a", { href: "/" }, "Back to the board"))]);
    return;
  }
  const slots = {};
  for (const name of ["releases", "build", "processes", "config", "domains", "activity", "ci", "webhooks"]) slots[name] = h("div", { class: ["releases", "build", "activity"].includes(name) ? "section-slot wide" : "section-slot" });
  const feed = h("ul", { class: "feed", tabindex: "0", "aria-label": "activity, newest first" });
  slots.activity.append(section("Activity", "activity", feed));
  replaceMain([
    h("p", {}, h("a", { href: "/" }, "← Pipelines")),
    h("h1", {}, app),
    h("p", { class: "row" }, h("a", { href: summary.web_url, rel: "noopener noreferrer" }, summary.web_url), summary.maintenance ? h("span", { class: "badge warn" }, "maintenance") : "", summary.released_at ? ["released ", when(summary.released_at)] : ""),
    h("div", { class: "sections" }, Object.values(slots)),
  ]);
  const loaders = {
    releases: () => releasesSection(app, slots.releases),
    build: () => buildSection(app, slots.build),
    processes: () => processesSection(app, slots.processes),
    config: () => configSection(app, slots.config),
    domains: () => domainsSection(app, slots.domains),
    ci: () => ciSection(app, slots.ci),
    webhooks: () => webhooksSection(app, slots.webhooks),
  };
  const load = (names) =>
    Promise.all(
      names.map((name) =>
        loaders[name]().catch((error) => {
          slots[name].replaceChildren(section(name, name, h("p", { class: "error" }, error.message)));
        }),
      ),
    );
  await load(Object.keys(loaders));
  const pending = new Set();
  state.page = {
    refresh: async () => {
      const names = [...pending];
      pending.clear();
      await load(names);
    },
  };
  // What each kind of event changes on the page.
  const sections = {
    release: ["releases", "processes"],
    build: ["build", "releases"],
    config: ["config", "releases"],
    formation: ["processes"],
    dyno: ["processes"],
    domain: ["domains"],
    "test-run": ["ci"],
    webhook: ["webhooks"],
    "webhook-delivery": ["webhooks"],
  };
  listen((event) => {
    if (event.app !== app) return;
    feed.prepend(activityItem(event));
    for (const name of sections[event.resource] || []) pending.add(name);
    if (pending.size) scheduleRefresh();
  });
  const recent = await api("GET", `/dashboard/activity?app=${enc(app)}`).catch(() => []);
  for (const event of recent) feed.append(activityItem(event));
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

start();
