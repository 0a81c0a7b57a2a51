// The dashboard's app page: releases, build log, processes, config, domains, activity, CI runs
// and webhooks, each a section drawn from the Platform API and drawn again on its events
// (dashboard.js).
"use strict";



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

