// bench/dashboard's browser: signs in with TOKEN at BASE, then loads the board LOADS times and
// the sign-in page LOADS times, and prints the timings' p50 and p90 in ms, one line each:
// "board P50 P90", "signin P50 P90", and "cards N".
import { createRequire } from "node:module";
import path from "node:path";

const env = process.env;
const require = createRequire(path.join(env.BROWSER_TOOLS, "package.json"));
const { chromium } = require("playwright-core");

const loads = Number(env.LOADS || 10);
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(0);
};

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.goto(env.BASE + "/signin");
  await page.getByLabel("API token").fill(env.TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(env.BASE + "/");
  await page.locator("body[data-ready=true]").waitFor();
  const board = [];
  for (let i = 0; i < loads; i++) {
    await page.goto(env.BASE + "/");
    await page.locator("body[data-ready=true]").waitFor();
    board.push(await page.evaluate(() => performance.getEntriesByName("board-rendered")[0].startTime));
  }
  const cards = await page.locator("article[data-app]").count();
  const signin = [];
  for (let i = 0; i < loads; i++) {
    await page.goto(env.BASE + "/signin");
    await page.waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length > 0);
    signin.push(await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0].startTime));
  }
  console.log(`board ${percentile(board, 0.5)} ${percentile(board, 0.9)}`);
  console.log(`signin ${percentile(signin, 0.5)} ${percentile(signin, 0.9)}`);
  console.log(`cards ${cards}`);
} finally {
  await browser.close();
}
