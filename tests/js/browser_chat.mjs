// Open the chat demo in headless Chromium, wait for the WebSocket upgrade, send a
// message through the page's form and wait for it to come back from the server.
//
//   node tests/js/browser_chat.mjs <url> <screenshot.png>
//
// Prints one JSON line: {"ok": true, "transport": "websocket", "log": [...]}.
// Uses Debian's /usr/bin/chromium (CHROMIUM env var to override); every wait is bounded.
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const result = { ok: false };
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const consoleLines = [];
  result.console = consoleLines;
  page.on("console", (msg) => consoleLines.push(msg.text()));
  page.on("pageerror", (err) => consoleLines.push("pageerror: " + String(err)));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status").textContent === "connected");
  await page.waitForFunction(
    () => document.getElementById("transport").textContent === "(websocket)",
  );
  await page.fill("#text", "hello from chromium");
  await page.click("button");
  await page.waitForFunction(() =>
    [...document.querySelectorAll("#log p")].some((p) =>
      p.textContent.endsWith(": hello from chromium"),
    ),
  );
  result.transport = await page.evaluate(() => document.getElementById("transport").textContent);
  result.log = await page.evaluate(() =>
    [...document.querySelectorAll("#log p")].map((p) => p.textContent),
  );
  result.console = consoleLines;
  if (screenshot) await page.screenshot({ path: screenshot });
  result.ok = true;
} catch (error) {
  result.error = String(error);
  try {
    const page = browser.contexts()[0]?.pages()[0];
    if (page) {
      result.status = await page.evaluate(() => document.getElementById("status")?.textContent);
      result.transport = await page.evaluate(
        () => document.getElementById("transport")?.textContent,
      );
      result.log = await page.evaluate(() =>
        [...document.querySelectorAll("#log p")].map((p) => p.textContent),
      );
    }
  } catch {}
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
process.exit(result.ok ? 0 : 1);
