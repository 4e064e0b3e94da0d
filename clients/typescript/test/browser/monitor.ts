/**
 * Opens the operator's monitor page (`nodelink::server::monitor`) in headless
 * Chromium for tests/monitor.rs, with the operator's cookie, and reports what
 * it shows; kicks a player with the page's own button.
 *
 * Usage: node dist/test/browser/monitor.js <chromium-executable> <page-url> <cookie name=value>
 *
 * Commands, one JSON object per line on stdin, run in order:
 *   {"cmd": "wait_players", "count": n}   until the page lists n players
 *   {"cmd": "kick", "player": id}         clicks that player's Kick button, then
 *                                         waits until its row is gone
 *   {"cmd": "screenshot", "path": p}
 *   {"cmd": "exit"}                       (or the end of stdin)
 * Reports, one JSON object per line on stdout, each with `kind`:
 *   shown (`players`: the listed ids, `matches`: the codes, `process`: the
 *   summary line, `rates`: each match's rates line); done (a command finished);
 *   page_error; failed (a command threw, with `message`).
 */

import { createInterface } from "node:readline";

import { chromium } from "playwright-core";

function report(kind: string, details: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ kind, ...details })}\n`);
}

interface Command {
  cmd: string;
  count?: number;
  player?: string;
  path?: string;
}

const [executablePath, url, cookie] = process.argv.slice(2);
if (executablePath === undefined || url === undefined || cookie === undefined) {
  process.stderr.write("usage: monitor.js <chromium-executable> <page-url> <cookie name=value>\n");
  process.exit(2);
}
const [cookieName, cookieValue] = cookie.split("=") as [string, string];

const browser = await chromium.launch({ executablePath });
const context = await browser.newContext({ viewport: { width: 1000, height: 240 } });
await context.addCookies([{ name: cookieName, value: cookieValue, url }]);
const page = await context.newPage();
page.on("pageerror", (error) => report("page_error", { message: error.message }));
await page.goto(url);

/**
 * What the page lists now. The page's code is written as strings: this program is
 * compiled without the DOM's types.
 */
async function shown(): Promise<Record<string, unknown>> {
  return (await page.evaluate(`({
    players: [...document.querySelectorAll("[data-player]")].map((row) => row.dataset.player),
    matches: [...document.querySelectorAll("[data-code]")].map((box) => box.dataset.code),
    process: document.getElementById("process").textContent,
    rates: [...document.querySelectorAll(".rates")].map((rates) => rates.textContent),
  })`)) as Record<string, unknown>;
}

async function run(command: Command): Promise<void> {
  switch (command.cmd) {
    case "wait_players":
      await page.waitForFunction(`document.querySelectorAll("[data-player]").length === ${Number(command.count)}`, undefined, { timeout: 15_000 });
      // Two refreshes apart, so the rates are worked out.
      await page.waitForFunction(`[...document.querySelectorAll(".rates")].every((rates) => !rates.textContent.includes("…"))`, undefined, { timeout: 15_000 });
      // And the pings measured, which the page shows.
      await page.waitForFunction(`[...document.querySelectorAll("[data-player] td:nth-child(4)")].every((ping) => ping.textContent !== "")`, undefined, { timeout: 15_000 });
      report("shown", await shown());
      break;
    case "kick":
      await page.locator(`[data-player="${command.player}"] button`).click();
      await page.waitForFunction(`document.querySelector('[data-player="${String(command.player)}"]') === null`, undefined, { timeout: 15_000 });
      report("shown", await shown());
      break;
    case "screenshot":
      await page.screenshot({ path: command.path ?? "monitor.png" });
      break;
    default:
      throw new Error(`unknown command ${command.cmd}`);
  }
  report("done", { cmd: command.cmd });
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === "") continue;
  const command = JSON.parse(line) as Command;
  if (command.cmd === "exit") break;
  try {
    await run(command);
  } catch (error) {
    report("failed", { message: error instanceof Error ? error.message : String(error) });
  }
}
await browser.close();
lines.close();
process.exit(0);
