// One headless Chromium (the system's: playwright-core never downloads a browser) driven by JSON lines on
// stdin, one answer line per request on stdout: tests/browser/ starts it once per test module
// (docs/console.md, "Browser tests"). Usage: node driver.mjs <chromium executable>
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const browser = await chromium.launch({ executablePath: process.argv[2], headless: true, args: ["--no-sandbox"] });
const pages = new Map(); // id -> { context, page, logs, streams, blocked }
let nextPage = 1;

function held(id) {
  const found = pages.get(id);
  if (!found) throw new Error(`no page ${id}`);
  return found;
}

async function timed(work) {
  const started = performance.now();
  await work();
  return Math.round(performance.now() - started);
}

const operations = {
  async open({ url, viewport = { width: 1280, height: 800 } }) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const entry = { context, page, logs: [], streams: [] };
    page.on("console", (message) => entry.logs.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => entry.logs.push(`pageerror: ${error.message}`));
    // What each live-feed request carried: a resumed one sends Last-Event-ID.
    page.on("request", (request) => {
      if (request.url().includes("/stream?")) entry.streams.push(request);
    });
    const id = nextPage++;
    pages.set(id, entry);
    await page.goto(url);
    return id;
  },
  fill: ({ page, selector, value }) => held(page).page.fill(selector, value),
  click: ({ page, selector }) => held(page).page.click(selector),
  select: ({ page, selector, value }) => held(page).page.selectOption(selector, value),
  // Milliseconds until the selector reached the state; a timeout is an error naming the selector.
  wait: ({ page, selector, state = "visible", timeout = 5000 }) => timed(() => held(page).page.waitForSelector(selector, { state, timeout })),
  text: ({ page, selector }) => held(page).page.textContent(selector),
  attribute: ({ page, selector, name }) => held(page).page.getAttribute(selector, name),
  count: ({ page, selector }) => held(page).page.locator(selector).count(),
  screenshot: async ({ page, path }) => {
    await held(page).page.screenshot({ path, fullPage: true });
    return path;
  },
  // Live-feed requests fail as a dropped network would (EventSource retries them, keeping its Last-Event-ID) until unblocked.
  block_streams: ({ page }) => held(page).page.route("**/stream?*", (route) => route.abort("connectionfailed")),
  unblock_streams: ({ page }) => held(page).page.unroute("**/stream?*"),
  streams: ({ page }) =>
    Promise.all(
      held(page).streams.map(async (request) => ({
        url: request.url().replace(/access_token=[^&]+/, "access_token=…"),
        lastEventId: (await request.allHeaders())["last-event-id"] ?? null,
      })),
    ),
  logs: ({ page }) => held(page).logs,
  close: async ({ page }) => {
    await held(page).context.close();
    pages.delete(page);
  },
};

const lines = createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ ready: browser.version() }) + "\n");
for await (const line of lines) {
  const { id, op, ...args } = JSON.parse(line);
  let answer;
  try {
    answer = { id, ok: true, value: (await operations[op](args)) ?? null };
  } catch (error) {
    answer = { id, ok: false, error: `${op}: ${error.message}` };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await browser.close();
