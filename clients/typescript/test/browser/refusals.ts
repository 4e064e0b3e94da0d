/**
 * Connects from pages in headless Chromium for tests/browser_refusals.rs, to show
 * what a page learns when a server refuses it: each page loads the client (this
 * package bundled and minified, as a site ships it) from a site this program
 * serves on loopback, under the host name the command gives (`127.0.0.1` or
 * `localhost`: two origins), connects with reconnection on, and reports the typed
 * error its `connect()` rejects with, every reconnection attempt and error on the
 * way, and the client's status at the end.
 *
 * Usage: node dist/test/browser/refusals.js <chromium-executable>
 *
 * Commands, one JSON object per line on stdin, run in order:
 *   {"cmd": "connect", "host": "127.0.0.1", "url": ws-url,
 *    "schema": schema, "other_protocol": bool, "reconnect": {…}}
 *   {"cmd": "exit"}   (or the end of stdin)
 * Reports, one JSON object per line on stdout, each with `kind`:
 *   ready (with the site's `port`); reconnecting (`attempt`); error (`name`, `message`); outcome (`connected`
 *   with `id`, or `failed` with the error's `name`, `class` (the `instanceof` check
 *   that holds), `error` (its `kind`), `refusal`, `status`, `reason`, `client`,
 *   `server`, `message`; and the client's `client_status`); page_error; failed
 *   (a command threw, with `message`).
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { join } from "node:path";

import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";

import { packageRoot } from "../support.js";

function report(kind: string, details: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ kind, ...details })}\n`);
}

interface Command {
  cmd: string;
  host?: string;
  url?: string;
  schema?: unknown;
  other_protocol?: boolean;
  reconnect?: unknown;
}

/**
 * Runs in the page: connects and returns how it ended. Plain JavaScript: this
 * program is compiled without the DOM's types.
 */
const CONNECT = `
async ({ url, schema, otherProtocol, reconnect }) => {
  const nodelink = await import("/nodelink-client.js");
  let protocol = schema;
  if (otherProtocol) {
    const events = [...schema.to_server.events, { name: "extra", kind: "unit", fields: [] }];
    protocol = { ...schema, to_server: { ...schema.to_server, events } };
    protocol = { ...protocol, fingerprint: nodelink.fingerprintOf(protocol) };
  }
  const client = new nodelink.NodelinkClient(protocol, url, { reconnect });
  client.onReconnecting((attempt) => window.reportEvent({ kind: "reconnecting", attempt }));
  client.onError((error) => window.reportEvent({ kind: "error", name: error.name, message: error.message }));
  try {
    const info = await client.connect();
    return { outcome: "connected", id: info.id, client_status: client.status };
  } catch (error) {
    const classes = ["ProtocolMismatchError", "RefusedError", "ConnectError", "HandshakeError"];
    return {
      outcome: "failed",
      name: error.name,
      class: classes.find((name) => error instanceof nodelink[name]) ?? null,
      error: error.kind ?? null,
      refusal: error.refusal ?? null,
      status: error.status ?? null,
      reason: error.reason ?? null,
      client: error.client ?? null,
      server: error.server ?? null,
      message: error.message,
      client_status: client.status,
    };
  }
}
`;

const executablePath = process.argv[2];
if (executablePath === undefined) {
  process.stderr.write("usage: refusals.js <chromium-executable>\n");
  process.exit(2);
}

// The client as a site ships it: bundled for the browser and minified.
const bundled = await build({
  entryPoints: [join(packageRoot, "src/index.ts")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  write: false,
  logLevel: "silent",
});
const script = bundled.outputFiles[0]!.text;

// The site: a blank page and the client. On loopback, as the game server is: a page
// from a public site would need the person's leave to reach a local address.
const site = createServer((request, response) => {
  const isScript = request.url === "/nodelink-client.js";
  response.setHeader("content-type", isScript ? "text/javascript" : "text/html");
  response.end(isScript ? script : "<!doctype html><title>refusals</title>");
});
await new Promise<void>((listening) => site.listen(0, "127.0.0.1", listening));
const port = (site.address() as AddressInfo).port;

const browser: Browser = await chromium.launch({ executablePath });

async function connect(command: Command): Promise<void> {
  const origin = `http://${command.host ?? "127.0.0.1"}:${port}`;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on("pageerror", (error) => report("page_error", { message: error.message }));
    await page.exposeFunction("reportEvent", (event: Record<string, unknown>) => report(String(event.kind), event));
    await page.goto(`${origin}/`);
    const outcome = (await page.evaluate(`(${CONNECT})(${JSON.stringify({ url: command.url, schema: command.schema, otherProtocol: command.other_protocol === true, reconnect: command.reconnect ?? true })})`)) as Record<string, unknown>;
    report("outcome", outcome);
  } finally {
    await context.close();
  }
}

report("ready", { version: browser.version(), port });
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue;
  const command = JSON.parse(line) as Command;
  if (command.cmd === "exit") break;
  try {
    if (command.cmd !== "connect") throw new Error(`unknown command ${JSON.stringify(command.cmd)}`);
    await connect(command);
  } catch (error) {
    report("failed", { cmd: command.cmd, message: error instanceof Error ? error.message : String(error) });
  }
}
await browser.close();
site.close();
// stdin, still open on an "exit" command, would keep the process alive.
process.exit(0);
