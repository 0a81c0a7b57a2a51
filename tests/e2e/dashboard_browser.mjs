// The dashboard in a real browser (Playwright driving Debian's Chromium, headless), as a user
// would use it: run by tests/e2e/dashboard_test.cpp, which makes the server, its pipeline and
// its keys, and passes them in the environment. Each step prints a line; the first failure
// saves a screenshot (failure.png) beside the others and exits 1.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { strict as assert } from "node:assert";
import path from "node:path";

const env = process.env;
const require = createRequire(path.join(env.BROWSER_TOOLS, "package.json"));
const { chromium } = require("playwright-core");
const { AxeBuilder } = require("@axe-core/playwright");

const BASE = env.BASE; // http://127.0.0.1:PORT, the API and the dashboard
const ARTIFACTS = env.ARTIFACTS;
const since = Date.now();
let page; // the page a failure's screenshot shows

function log(text) {
  console.log(`[${((Date.now() - since) / 1000).toFixed(1)}s] ${text}`);
}

async function step(name, body) {
  log(name);
  await body();
}

// The Platform API with a token, as the heroku CLI would call it.
async function apiAs(token, method, pathname, body) {
  const response = await fetch(BASE + pathname, {
    method,
    headers: {
      Accept: "application/vnd.heroku+json; version=3",
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

async function liveRelease(app) {
  const { status, json } = await apiAs(env.ALICE, "GET", `/apps/${app}/releases`);
  assert.equal(status, 200);
  return json.find((release) => release.current);
}

function git(...args) {
  return execFileSync("git", ["-c", "user.name=Dashboard Test", "-c", "user.email=t@example.com", ...args], {
    cwd: env.WORK,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function curlApp(host) {
  return execFileSync("curl", ["-s", "--max-time", "10", "-H", `Host: ${host}`, `http://127.0.0.1:${env.HTTP_PORT}/`], {
    encoding: "utf8",
  });
}

async function signIn(context, token) {
  const signing = await context.newPage();
  await signing.goto(BASE + "/");
  assert.match(signing.url(), /\/signin$/, "an unsigned visitor is sent to the sign-in page");
  await signing.getByLabel("API token").fill(token);
  await signing.getByRole("button", { name: "Sign in" }).click();
  await signing.waitForURL(BASE + "/");
  await signing.locator("body[data-ready=true]").waitFor();
  return signing;
}

// No serious or critical violation of axe-core's rules on the page as it is now.
async function accessible(what) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const violation of bad) {
    log(`axe: ${violation.id} (${violation.impact}): ${violation.help}: ${violation.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }
  assert.equal(bad.length, 0, `${what} has serious accessibility violations`);
  log(`axe: ${what}: ${results.violations.length} violations, none serious; ${results.passes.length} rules pass`);
}

function card(app) {
  return page.locator(`article[data-app="${app}"]`);
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const alice = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await step("alice signs in with her token and sees the pipeline's board", async () => {
    page = await signIn(alice, env.ALICE);
    const cookies = await alice.cookies();
    const session = cookies.find((c) => c.name === "slipway_session");
    assert.ok(session, "a session cookie is set");
    assert.ok(session.httpOnly, "the cookie is HttpOnly");
    assert.equal(session.sameSite, "Strict");
    assert.ok(session.expires > Date.now() / 1000, "the cookie expires");
    assert.notEqual(session.value, env.ALICE, "the cookie is not the token");
    const shop = page.locator('[data-pipeline="shop"]');
    await shop.waitFor();
    for (const stage of ["review", "development", "staging", "production"]) {
      await shop.locator(`[data-stage="${stage}"]`).waitFor();
    }
    await shop.locator('[data-stage="staging"] article[data-app="shop-staging"]').waitFor();
    await shop.locator('[data-stage="production"] article[data-app="shop-prod"]').waitFor();
    const paint = await page.evaluate(() => performance.getEntriesByName("board-rendered")[0].startTime);
    log(`first paint of the board (${await page.locator("article[data-app]").count()} apps): ${paint.toFixed(0)} ms`);
  });

  await step("a git push to staging shows on the open board within 1 s, without a reload", async () => {
    const before = await liveRelease("shop-staging");
    await page.evaluate(() => {
      window.notReloaded = true;
    });
    execFileSync("sh", ["-c", "echo v1 > version.txt"], { cwd: env.WORK });
    // A hostile subject: it must show as text, never run.
    git("commit", "-qam", '<img src=x onerror="window.injected=1"> ship v1');
    git("push", "-q", env.REPO, "main");
    const pushed = Date.now();
    const expected = `v${before.version + 1}`;
    await card("shop-staging").locator("strong", { hasText: expected }).waitFor({ timeout: 10000 });
    const delay = Date.now() - pushed;
    log(`the board showed ${expected} ${delay} ms after the push returned`);
    assert.ok(delay <= 1000, `the push showed after ${delay} ms`);
    assert.ok(await page.evaluate(() => window.notReloaded === true), "the page was not reloaded");
    assert.ok((await card("shop-staging").innerText()).includes('<img src=x onerror="window.injected=1"> ship v1'));
    assert.equal(await page.evaluate(() => window.injected), undefined, "a commit subject ran as HTML");
  });

  await step("Promote to production promotes, as the API and production's URL say", async () => {
    const staging = await liveRelease("shop-staging");
    const summary = card("shop-staging").locator("summary");
    assert.match(await summary.innerText(), /\d+ commits? to promote/);
    await summary.click();
    await card("shop-staging").getByText("ship v1").first().waitFor();
    await card("shop-staging").getByRole("button", { name: "Promote to shop-prod" }).click();
    await card("shop-staging").getByText("Promoted shop-staging to shop-prod").waitFor({ timeout: 60000 });
    const prod = await liveRelease("shop-prod");
    assert.match(prod.description, /Promote shop-staging v\d+/i);
    assert.equal(curlApp("shop-prod.localhost").trim(), "v1 production");
    await card("shop-prod").locator("strong", { hasText: `v${prod.version}` }).waitFor({ timeout: 5000 });
    await card("shop-staging").getByText("shop-prod is up to date").waitFor({ timeout: 5000 });
    log(`production runs v${prod.version}, promoted from staging's v${staging.version}`);
  });

  await step("a crashing process shows on the open board as a red badge, without a reload", async () => {
    const scaled = await apiAs(env.ALICE, "PATCH", "/apps/shop-staging/formation/worker", { quantity: 1 });
    assert.equal(scaled.status, 200);
    const badge = card("shop-staging").locator(".badge.bad", { hasText: "crashed" });
    await badge.waitFor({ timeout: 20000 });
    assert.ok(await card("shop-staging").evaluate((node) => node.classList.contains("failing")));
    assert.ok(await page.evaluate(() => window.notReloaded === true), "the page was not reloaded");
  });

  await step("screenshot and accessibility of the board", async () => {
    await page.screenshot({ path: path.join(ARTIFACTS, "board.png"), fullPage: true });
    await accessible("the board");
  });

  await step("a review app appears with its branch and disappears when the branch goes", async () => {
    git("checkout", "-q", "-b", "feature-x");
    execFileSync("sh", ["-c", "echo feature > feature.txt"], { cwd: env.WORK });
    git("add", "feature.txt");
    git("commit", "-qm", "a feature");
    git("push", "-q", env.REPO, "feature-x");
    const review = page.locator('[data-stage="review"] article[data-app="shop-feature-x"]');
    await review.waitFor({ timeout: 60000 });
    await review.getByText("feature-x", { exact: true }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "board-review-app.png"), fullPage: true });
    git("checkout", "-q", "main");
    git("push", "-q", env.REPO, ":feature-x");
    await review.waitFor({ state: "detached", timeout: 60000 });
  });

  await step("the app page scales, restarts and rolls back, and shows config names with values hidden", async () => {
    await page.getByRole("link", { name: "shop-staging", exact: true }).click();
    await page.waitForURL(BASE + "/app/shop-staging");
    await page.locator("body[data-ready=true]").waitFor();
    // The crashing worker is there; scaling it to 0 from the page stops it.
    const processes = page.locator("#processes-section");
    await processes.locator(".state.crashed", { hasText: "worker.1" }).waitFor({ timeout: 20000 });
    await processes.getByLabel("worker processes").fill("0");
    await processes.getByRole("button", { name: "Scale worker" }).click();
    await processes.getByText("Scaled worker to 0.").waitFor({ timeout: 20000 });
    await processes.locator(".state", { hasText: "worker.1" }).waitFor({ state: "detached", timeout: 20000 });
    const formation = (await apiAs(env.ALICE, "GET", "/apps/shop-staging/formation/worker")).json;
    assert.equal(formation.quantity, 0);
    const web = await processes.locator(".state", { hasText: "web.1" }).innerText();
    await processes.getByRole("button", { name: "Restart all" }).click();
    await processes.getByText("Restarting every process.").waitFor({ timeout: 20000 });
    log(`restarted: ${web}`);
    const live = await liveRelease("shop-staging");
    const releases = (await apiAs(env.ALICE, "GET", "/apps/shop-staging/releases")).json;
    const target = releases.filter((r) => !r.current && r.eligible_for_rollback).pop();
    assert.ok(target, "an earlier release to roll back to");
    await page.getByRole("button", { name: `Roll back to v${target.version}` }).click();
    await page.getByText(`Rolled back to v${target.version}: v${live.version + 1} is live.`).waitFor({ timeout: 60000 });
    const after = await liveRelease("shop-staging");
    assert.equal(after.version, live.version + 1);
    assert.match(after.description, new RegExp(`Rollback to v${target.version}`, "i"));
    assert.equal(curlApp("shop-staging.localhost").trim(), "v0 staging");
    await page.locator('#releases-section tr[data-version="' + after.version + '"]').getByText("live").waitFor({ timeout: 5000 });
    const config = page.locator("#config-section");
    await config.getByText("STAGE_NAME").waitFor();
    assert.ok(!(await config.innerText()).includes("staging"), "a value shows before it is revealed");
    await config.getByRole("button", { name: "Reveal STAGE_NAME" }).click();
    await config.getByText("staging", { exact: true }).waitFor();
    await page.locator("#build-section pre.log").getByText("Launching").first().waitFor({ timeout: 10000 });
    await page.locator("#activity-section li").first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "app.png"), fullPage: true });
    await accessible("the app page");
  });

  await step("a write without the CSRF token is refused", async () => {
    const status = await page.evaluate(async () => {
      const response = await fetch("/apps", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/vnd.heroku+json; version=3" },
        body: JSON.stringify({ name: "csrf-probe" }),
      });
      return response.status;
    });
    assert.equal(status, 403);
    assert.equal((await apiAs(env.ALICE, "GET", "/apps/csrf-probe")).status, 404, "the app was not made");
  });

  await step("a collaborator sees only its apps, and not another app's page by URL", async () => {
    const bobContext = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await signIn(bobContext, env.BOB);
    await card("bob-app").waitFor();
    assert.equal(await page.locator("article[data-app]").count(), 1, "bob sees one app");
    assert.equal(await page.locator('[data-pipeline="shop"]').count(), 0);
    const response = await page.goto(BASE + "/app/shop-staging");
    assert.equal(response.status(), 404);
    await page.getByRole("heading", { name: "No such app" }).waitFor();
    assert.ok(!(await page.content()).includes("STAGE_NAME"));
    const apiStatus = await page.evaluate(() => fetch("/apps/shop-staging/config-vars").then((r) => r.status));
    assert.equal(apiStatus, 403);
    await page.goto(BASE + "/");
    await page.locator("body[data-ready=true]").waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/signin$/);
    assert.equal(await page.evaluate(() => fetch("/dashboard/session").then((r) => r.status)), 401);
  });
  log("all steps passed");
} catch (error) {
  console.error(error);
  if (page) await page.screenshot({ path: path.join(ARTIFACTS, "failure.png"), fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
