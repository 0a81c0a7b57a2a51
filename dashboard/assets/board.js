// The dashboard's board: each pipeline in Heroku's columns, a card per app (dashboard.js).
"use strict";

const STAGES = [
  ["review", "Review apps"],
  ["development", "Development"],
  ["staging", "Staging"],
  ["production", "Production"],
];



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

