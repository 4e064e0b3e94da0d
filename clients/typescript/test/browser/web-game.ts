/**
 * Plays the web game (examples/web) in headless Chromium for tests/web_game.rs:
 * opens pages, presses keys, types into the chat and the lobby's forms and clicks
 * as a person would, and reports what each page shows, read from its DOM (the
 * player list, the chat log, the status line, the lobby), each time that changes.
 *
 * Usage: node dist/test/browser/web-game.js <chromium-executable>
 *
 * Commands, one JSON object per line on stdin, run in order:
 *   {"cmd": "open", "page": name, "url": url}
 *   {"cmd": "press", "page": name, "key": "ArrowRight", "times": n}
 *   {"cmd": "chat", "page": name, "text": text}   (Enter, the text, Enter)
 *   {"cmd": "fill", "page": name, "selector": css, "text": text}   (types into a field)
 *   {"cmd": "click", "page": name, "selector": css}
 *   {"cmd": "screenshot", "page": name, "path": file, "full": bool}   (full: the whole page)
 *   {"cmd": "close", "page": name}
 *   {"cmd": "exit"}   (or the end of stdin)
 * Reports, one JSON object per line on stdout, each with `kind`:
 *   ready (the browser runs), done (a command finished, with `cmd` and `page`),
 *   view (`page` and `view`: {status, players: [{name, x, y, me}], chat: [line],
 *   match: {code, line}, lobby: [{code, title, count, here, button}], url}),
 *   page_error (an exception in a page), failed (a command threw, with `message`).
 */

import { createInterface } from "node:readline";

import { type Browser, chromium, type Page } from "playwright-core";

function report(kind: string, details: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ kind, ...details })}\n`);
}

/**
 * Runs in each page before its scripts: watches the DOM and passes what the page
 * shows to `reportView` whenever that changes. Plain JavaScript: this program is
 * compiled without the DOM's types.
 */
const WATCH_VIEW = `
(() => {
  let last = "";
  const read = () => ({
    status: document.getElementById("status")?.textContent ?? "",
    players: [...document.querySelectorAll("#players li")].map((item) => {
      const [x, y] = (item.querySelector(".pos")?.textContent ?? "").split(",").map(Number);
      return { name: item.querySelector(".name")?.textContent ?? "", x, y, me: item.classList.contains("me") };
    }),
    chat: [...document.querySelectorAll("#chat-log li")].map((line) => line.textContent),
    match: {
      code: document.getElementById("match-line")?.dataset.code ?? "",
      line: document.getElementById("match-line")?.textContent ?? "",
    },
    lobby: [...document.querySelectorAll("#matches li[data-code]")].map((item) => ({
      code: item.dataset.code,
      title: item.querySelector(".title")?.textContent ?? "",
      count: item.querySelector(".count")?.textContent ?? "",
      here: item.classList.contains("here"),
      button: item.querySelector("button")?.textContent ?? null,
    })),
    url: location.pathname + location.search,
  });
  const check = () => {
    const view = read();
    const text = JSON.stringify(view);
    if (text !== last) {
      last = text;
      window.reportView(view);
    }
  };
  const start = () => {
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    check();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
`;

interface Command {
  cmd: string;
  page?: string;
  url?: string;
  key?: string;
  times?: number;
  text?: string;
  path?: string;
  selector?: string;
  full?: boolean;
}

const executablePath = process.argv[2];
if (executablePath === undefined) {
  process.stderr.write("usage: web-game.js <chromium-executable>\n");
  process.exit(2);
}

const browser: Browser = await chromium.launch({ executablePath });
const pages = new Map<string, Page>();

function pageNamed(name: string | undefined): Page {
  const page = name === undefined ? undefined : pages.get(name);
  if (page === undefined) throw new Error(`no page named ${JSON.stringify(name)}`);
  return page;
}

async function run(command: Command): Promise<void> {
  switch (command.cmd) {
    case "open": {
      const name = command.page ?? "";
      // A context per page: two people, two browsers' worth of state.
      const context = await browser.newContext({ viewport: { width: 1180, height: 615 } });
      const page = await context.newPage();
      page.on("pageerror", (error) => report("page_error", { page: name, message: error.message }));
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") {
          process.stderr.write(`[${name}] ${message.type()}: ${message.text()}\n`);
        }
      });
      await page.exposeFunction("reportView", (view: unknown) => report("view", { page: name, view }));
      await page.addInitScript({ content: WATCH_VIEW });
      pages.set(name, page);
      await page.goto(command.url ?? "");
      return;
    }
    case "press": {
      const page = pageNamed(command.page);
      for (let i = 0; i < (command.times ?? 1); i++) await page.keyboard.press(command.key ?? "");
      return;
    }
    case "chat": {
      // As a person does: Enter opens the chat box, then type, then Enter sends.
      const page = pageNamed(command.page);
      await page.keyboard.press("Enter");
      await page.keyboard.type(command.text ?? "");
      await page.keyboard.press("Enter");
      return;
    }
    case "fill":
      await pageNamed(command.page).fill(command.selector ?? "", command.text ?? "");
      return;
    case "click":
      await pageNamed(command.page).click(command.selector ?? "");
      return;
    case "screenshot":
      await pageNamed(command.page).screenshot({ path: command.path ?? "screenshot.png", fullPage: command.full === true });
      return;
    case "close":
      // As a person closing a tab: the page's `pagehide` runs first.
      await pageNamed(command.page).close({ runBeforeUnload: true });
      await pageNamed(command.page).context().close();
      pages.delete(command.page ?? "");
      return;
    default:
      throw new Error(`unknown command ${JSON.stringify(command.cmd)}`);
  }
}

report("ready", { version: browser.version() });
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue;
  const command = JSON.parse(line) as Command;
  if (command.cmd === "exit") break;
  try {
    await run(command);
    report("done", { cmd: command.cmd, page: command.page ?? null });
  } catch (error) {
    report("failed", { cmd: command.cmd, page: command.page ?? null, message: error instanceof Error ? error.message : String(error) });
  }
}
await browser.close();
// stdin, still open on an "exit" command, would keep the process alive.
process.exit(0);
