/**
 * The web game's page script: the generated TypeScript client of the example
 * protocol (native wire) plays in the game served on the page's own address, and
 * draws what its mirror holds.
 *
 * - The canvas shows every player as a dot with its name; yours has a ring.
 * - Arrow keys move you: a tap nudges, a held key glides. Your dot moves at once
 *   (the server only clamps to the map, which this page does too) and the
 *   position goes out as `move` events, at most one per tick while gliding.
 * - The side panel lists the players with their positions and holds the chat.
 * - The lobby under the map lists the server's public matches (tables), makes a
 *   new one, public or private, and joins one by its code. The page plays in one
 *   match, named in its address: `?match=K7MQ4P` joins that one, `?create=title`
 *   (and `&private=1`) makes one and then names it, and without either the page
 *   joins the server's default match. Moving to another match loads the page
 *   again with its address.
 *
 * Bundled with the client into `game.js` by `npm run bundle:web` in
 * `clients/typescript`; the Rust server embeds that file.
 */

import { type Avatar, Client, type MatchMetadata } from "../../clients/typescript/examples/game/generated/protocol.js";
import { type MatchListing, type NodelinkError, type PlayerId, RefusedError } from "nodelink-client";

/** Glide speed, in map units per second. */
const SPEED = 240;
/** How far one tap moves. */
const NUDGE = 10;
/** The least time between two `move` events while gliding: the server's tick. */
const SEND_INTERVAL_MS = 50;
const DOT_RADIUS = 10;
/** The most chat lines kept on the page. */
const CHAT_LINES = 100;
/** How often the lobby asks the server for its matches. */
const LIST_INTERVAL_MS = 3_000;

const DIRECTIONS: Readonly<Record<string, readonly [number, number]>> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no #${id}`);
  return found;
}

const field = element("field", HTMLCanvasElement);
const statusLine = element("status", HTMLElement);
const playerList = element("players", HTMLUListElement);
const chatLog = element("chat-log", HTMLOListElement);
const chatForm = element("chat-form", HTMLFormElement);
const chatInput = element("chat-input", HTMLInputElement);
const matchLine = element("match-line", HTMLElement);
const matchList = element("matches", HTMLUListElement);
const refreshButton = element("refresh", HTMLButtonElement);
const createForm = element("create-form", HTMLFormElement);
const createTitle = element("create-title", HTMLInputElement);
const createPrivate = element("create-private", HTMLInputElement);
const joinForm = element("join-form", HTMLFormElement);
const joinCode = element("join-code", HTMLInputElement);

// The canvas's size in the page is the map's (the server keeps the same bounds);
// its pixels follow the screen's density.
const MAP_WIDTH = field.width;
const MAP_HEIGHT = field.height;
const density = window.devicePixelRatio || 1;
field.width = MAP_WIDTH * density;
field.height = MAP_HEIGHT * density;
const pen = field.getContext("2d")!;

/**
 * What the page's address asks for: a name, and a match to join by code, one to
 * create (with a title, perhaps private), or neither (the server's default match).
 */
const asked = new URLSearchParams(location.search);
const requestedName = asked.get("name");
const scheme = location.protocol === "https:" ? "wss" : "ws";
const query = requestedName ? `?name=${encodeURIComponent(requestedName)}` : "";
/** The game's address: the server reads the name from it. */
const gameUrl = `${scheme}://${location.host}/${query}`;
const askedCode = asked.get("match");
const askedTitle = asked.get("create");
const client =
  askedCode !== null
    ? Client.join(gameUrl, askedCode, { reconnect: true })
    : askedTitle !== null
      ? asked.get("private") === "1"
        ? Client.createPrivate(gameUrl, { title: askedTitle }, { reconnect: true })
        : Client.create(gameUrl, { title: askedTitle }, { reconnect: true })
      : new Client(gameUrl, { reconnect: true });

/** The page's address for `params` besides the name: what a lobby button loads. */
function pageFor(params: Record<string, string>): string {
  const next = new URLSearchParams();
  if (requestedName) next.set("name", requestedName);
  for (const [key, value] of Object.entries(params)) next.set(key, value);
  return `${location.pathname}?${next}`;
}

interface Point {
  x: number;
  y: number;
}

/** Your position as you move it; `null` until the server has placed you. */
let me: Point | null = null;
let lastSent: Point | null = null;
let lastSentAt = 0;
/** Arrow keys held down, and when the glide was last advanced. */
const held = new Set<string>();
let advancedAt = performance.now();
/** Where each dot is drawn: it slides toward the player's mirrored position. */
const drawn = new Map<PlayerId, Point>();
/** Names of everyone seen, kept after they leave for the chat's sake. */
const names = new Map<PlayerId, string>();
/**
 * Players announced by `joined`, not yet by name. The server sends a newcomer its
 * snapshot before its `connect` handler names and places it, then `joined`, and the
 * next sync carries the name and the place: to the others, to the newcomer itself.
 */
const arriving = new Set<PlayerId>();
/** Whether this page awaits the sync that places its player (after its own `joined`). */
let placing = false;
/** Why the server refused this page's match, for the status line; `null` while it has not. */
let refusal: string | null = null;
/** The server's public matches, from the last listing, by code. */
let listings: MatchListing<MatchMetadata>[] = [];
/** Why the last listing failed; `null` when it did not. */
let listingError: string | null = null;

const clamp = (value: number, max: number): number => Math.min(Math.max(value, 0), max);
const nameOf = (id: PlayerId): string => client.players.get(id)?.name || names.get(id) || id;
/** The players the server has named: a newcomer has no name for its first tick. */
const named = (): [PlayerId, Readonly<Avatar>][] => [...client.players].filter(([, player]) => player.name !== "");

/** Your colour, the page's accent; the others take the first free one of the palette. */
const MY_COLOUR = "#ffd166";
const PALETTE = ["#58a6ff", "#f778ba", "#3fb950", "#f0883e", "#bc8cff", "#39d0d8", "#ff7b72", "#a5d65a"];
const colours = new Map<PlayerId, number>();

function colourOf(id: PlayerId): string {
  if (id === client.id) return MY_COLOUR;
  let index = colours.get(id);
  if (index === undefined) {
    const taken = new Set(colours.values());
    index = PALETTE.findIndex((_, i) => !taken.has(i));
    if (index < 0) index = colours.size % PALETTE.length;
    colours.set(id, index);
  }
  return PALETTE[index]!;
}

// ---------------------------------------------------------------------------
// Moving

/** Moves you along the held arrows for the time since the last call. */
function advance(now: number): void {
  const seconds = Math.min((now - advancedAt) / 1000, 0.25);
  advancedAt = now;
  if (me === null || held.size === 0) return;
  let dx = 0;
  let dy = 0;
  for (const key of held) {
    const [x, y] = DIRECTIONS[key] ?? [0, 0];
    dx += x;
    dy += y;
  }
  const length = Math.hypot(dx, dy);
  if (length === 0) return;
  me = {
    x: clamp(me.x + (dx / length) * SPEED * seconds, MAP_WIDTH),
    y: clamp(me.y + (dy / length) * SPEED * seconds, MAP_HEIGHT),
  };
}

/** Sends your position if it changed; while gliding, at most once per tick. */
function sendPosition(now: number, force: boolean): void {
  if (me === null || client.status !== "open") return;
  if (lastSent !== null && lastSent.x === me.x && lastSent.y === me.y) return;
  if (!force && now - lastSentAt < SEND_INTERVAL_MS) return;
  client.sendMove({ x: me.x, y: me.y });
  lastSent = me;
  lastSentAt = now;
}

window.addEventListener("keydown", (event) => {
  // Keys typed into the chat box or the lobby's forms are theirs.
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLButtonElement) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (event.key === "Enter") {
    event.preventDefault();
    chatInput.focus();
    return;
  }
  const direction = DIRECTIONS[event.key];
  if (direction === undefined) return;
  event.preventDefault();
  if (event.repeat || held.has(event.key)) return;
  if (me === null && !placing) adoptPosition();
  const now = performance.now();
  advance(now);
  held.add(event.key);
  if (me !== null) {
    me = { x: clamp(me.x + direction[0] * NUDGE, MAP_WIDTH), y: clamp(me.y + direction[1] * NUDGE, MAP_HEIGHT) };
    sendPosition(now, true);
    renderPlayers();
  }
});

function release(key: string | null): void {
  const now = performance.now();
  advance(now);
  if (key === null) held.clear();
  else held.delete(key);
  sendPosition(now, true);
  renderPlayers();
}

window.addEventListener("keyup", (event) => {
  if (held.has(event.key)) release(event.key);
});
// Keys released while the page is not focused never send their keyup.
window.addEventListener("blur", () => release(null));
chatInput.addEventListener("focus", () => release(null));

// ---------------------------------------------------------------------------
// Chat

chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = chatInput.value.trim();
  if (text !== "") client.sendChat({ msg: text });
  chatInput.value = "";
  // Back to the game: the arrow keys move again.
  chatInput.blur();
});

function logLine(parts: readonly (readonly [string, string])[], className = ""): void {
  const line = document.createElement("li");
  if (className !== "") line.className = className;
  for (const [cls, text] of parts) {
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    line.append(span);
  }
  const atBottom = chatLog.scrollTop + chatLog.clientHeight >= chatLog.scrollHeight - 4;
  chatLog.append(line);
  while (chatLog.children.length > CHAT_LINES) chatLog.firstElementChild?.remove();
  if (atBottom) chatLog.scrollTop = chatLog.scrollHeight;
}

function logSystem(text: string): void {
  logLine([["text", text]], "system");
}

client.onChat(({ from, msg }) => {
  logLine(
    [
      ["who", `${nameOf(from)}:`],
      ["msg", ` ${msg}`],
    ],
    from === client.id ? "mine" : "",
  );
  const colour = colourOf(from);
  const who = chatLog.lastElementChild?.querySelector<HTMLElement>(".who");
  if (who) who.style.color = colour;
});

client.onJoined(({ id }) => {
  arriving.add(id);
  if (id === client.id) placing = true;
});

client.onLeft(({ id }) => {
  arriving.delete(id);
  logSystem(`${nameOf(id)} left`);
});

/** Announces the players who joined once their names are known (the sync after `joined`). */
function announceArrivals(): void {
  for (const id of arriving) {
    const player = client.players.get(id);
    if (player === undefined || player.name === "") continue;
    arriving.delete(id);
    logSystem(id === client.id ? `you joined as ${player.name}` : `${player.name} joined`);
  }
}

// ---------------------------------------------------------------------------
// What the mirror holds: the player list and the status line

let shownPlayers = "";

function renderPlayers(): void {
  const rows = named()
    .map(([id, player]) => {
      const position = id === client.id && me !== null ? me : player;
      return { id, name: player.name, x: Math.round(position.x), y: Math.round(position.y), mine: id === client.id };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  // Rebuilt only when something shown changed.
  const shown = JSON.stringify(rows);
  if (shown === shownPlayers) return;
  shownPlayers = shown;
  playerList.replaceChildren(
    ...rows.map((row) => {
      const item = document.createElement("li");
      item.dataset.id = row.id;
      if (row.mine) item.className = "me";
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.style.background = colourOf(row.id);
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = row.name;
      item.append(dot, name);
      if (row.mine) {
        const you = document.createElement("span");
        you.className = "you";
        you.textContent = "you";
        item.append(you);
      }
      const position = document.createElement("span");
      position.className = "pos";
      position.textContent = `${row.x}, ${row.y}`;
      item.append(position);
      return item;
    }),
  );
}

function renderStatus(): void {
  let text: string;
  switch (client.status) {
    case "open": {
      const latency = client.latencyMs === null ? "" : ` · ${Math.round(client.latencyMs)} ms`;
      const who = client.id === null ? "" : ` · you are ${nameOf(client.id)}`;
      text = `${client.online} online${latency}${who}`;
      break;
    }
    case "reconnecting":
      text = "connection lost: reconnecting…";
      break;
    case "disconnected":
    case "closed":
      text = refusal ?? "disconnected: reload the page to play again";
      break;
    default:
      text = refusal ?? "connecting…";
  }
  if (statusLine.textContent !== text) statusLine.textContent = text;
  statusLine.classList.toggle("offline", client.status !== "open");
}

/** Takes your position from the mirror: where the server placed you. */
function adoptPosition(): void {
  const placed = client.id === null ? undefined : client.players.get(client.id);
  if (placed !== undefined) me = { x: placed.x, y: placed.y };
}

client.onConnect(() => {
  // A new connection is a new player, placed anew by the server.
  me = null;
  lastSent = null;
  refusal = null;
  const code = client.matchCode;
  if (code !== null && askedCode !== code) {
    // A made match is named in the address from now on: reloading joins it
    // rather than making another.
    history.replaceState(null, "", pageFor({ match: code }));
  }
  renderMatch();
  // The listing counts this player now.
  void refreshLobby();
  renderStatus();
});

client.onStateSync(() => {
  for (const [id, player] of named()) names.set(id, player.name);
  // Colours of players who left are free again.
  for (const id of colours.keys()) if (!client.players.has(id)) colours.delete(id);
  if (placing) {
    placing = false;
    adoptPosition();
  }
  announceArrivals();
  renderPlayers();
  renderStatus();
});

client.onLatency(renderStatus);
client.onDisconnect((info) => {
  me = null;
  if (info.kind === "closed" && info.closeReason?.name === "MatchEnded") refusal = "the match ended: pick another below";
  renderPlayers();
  renderStatus();
});
client.onReconnecting(renderStatus);
client.onError((error) => {
  const why = refusalText(error);
  if (why !== null) {
    refusal = why;
    renderStatus();
  }
  console.warn(`nodelink: ${error.message}`);
});

// ---------------------------------------------------------------------------
// The lobby: the matches, and the forms that make or join one


/** What a refusal of the page's match means to a player; `null` for other errors. */
function refusalText(error: NodelinkError): string | null {
  if (!(error instanceof RefusedError)) return null;
  const code = askedCode?.trim().toUpperCase() ?? "";
  switch (error.refusal) {
    case "UnknownMatch":
      return `no match has the code ${code}: pick another below`;
    case "MatchFull":
      return `match ${code} is full: waiting for a place…`;
    case "MatchLocked":
      return `match ${code} takes no new players: pick another below`;
    default:
      return `refused: ${error.reason || error.message}`;
  }
}

/** The title a listing shows for the page's own match, once listed. */
function titleOf(code: string | null): string | null {
  return listings.find((listing) => listing.code === code)?.metadata.title ?? null;
}

/** The line that says where this page plays, and how others join it. */
function renderMatch(): void {
  const code = client.matchCode;
  let text: string;
  if (code === null) {
    text = askedCode !== null ? `joining match ${askedCode.trim().toUpperCase()}…` : "joining…";
  } else {
    const title = titleOf(code) ?? (askedTitle !== null ? askedTitle.trim() || "open table" : null);
    const hidden = askedTitle !== null && asked.get("private") === "1";
    text = `${title === null ? "match" : `“${title}”`} · code ${code}${hidden ? " · private: share the code" : ""}`;
  }
  if (matchLine.textContent !== text) matchLine.textContent = text;
  matchLine.dataset.code = code ?? "";
}

let shownLobby = "";

function renderLobby(): void {
  const here = client.matchCode;
  const shown = JSON.stringify([here, listingError, listings]);
  if (shown === shownLobby) return;
  shownLobby = shown;
  if (listingError !== null && listings.length === 0) {
    const item = document.createElement("li");
    item.className = "empty";
    item.textContent = `cannot list the matches: ${listingError}`;
    matchList.replaceChildren(item);
    return;
  }
  if (listings.length === 0) {
    const item = document.createElement("li");
    item.className = "empty";
    item.textContent = "no public match yet: create one";
    matchList.replaceChildren(item);
    return;
  }
  matchList.replaceChildren(
    ...listings.map((listing) => {
      const item = document.createElement("li");
      item.dataset.code = listing.code;
      const full = listing.players >= listing.maxPlayers;
      if (listing.code === here) item.className = "here";
      const title = document.createElement("span");
      title.className = "title";
      title.textContent = listing.metadata.title;
      const code = document.createElement("code");
      code.className = "code";
      code.textContent = listing.code;
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = `${listing.players}/${listing.maxPlayers}`;
      item.append(title, code, count);
      if (listing.code === here) {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = "you are here";
        item.append(tag);
      } else {
        const join = document.createElement("button");
        join.type = "button";
        join.textContent = listing.locked ? "locked" : full ? "full" : "Join";
        join.disabled = listing.locked || full;
        join.addEventListener("click", () => location.assign(pageFor({ match: listing.code })));
        item.append(join);
      }
      return item;
    }),
  );
}

let listing = false;

/** Asks the server for its public matches (one short connection) and shows them. */
async function refreshLobby(): Promise<void> {
  if (listing) return;
  listing = true;
  try {
    listings = await Client.list(gameUrl);
    listingError = null;
  } catch (error) {
    listingError = error instanceof Error ? error.message : String(error);
  } finally {
    listing = false;
  }
  renderMatch();
  renderLobby();
}

refreshButton.addEventListener("click", () => void refreshLobby());
setInterval(() => {
  if (document.visibilityState === "visible") void refreshLobby();
}, LIST_INTERVAL_MS);

createForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const title = createTitle.value.trim() || `${requestedName || "my"}'s table`;
  location.assign(pageFor(createPrivate.checked ? { create: title, private: "1" } : { create: title }));
});

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const code = joinCode.value.trim().toUpperCase();
  if (code !== "") location.assign(pageFor({ match: code }));
});

// ---------------------------------------------------------------------------
// Drawing

function drawField(): void {
  pen.setTransform(density, 0, 0, density, 0, 0);
  pen.clearRect(0, 0, MAP_WIDTH, MAP_HEIGHT);
  pen.strokeStyle = "rgba(139, 152, 165, 0.12)";
  pen.lineWidth = 1;
  pen.beginPath();
  for (let x = 50; x < MAP_WIDTH; x += 50) {
    pen.moveTo(x + 0.5, 0);
    pen.lineTo(x + 0.5, MAP_HEIGHT);
  }
  for (let y = 50; y < MAP_HEIGHT; y += 50) {
    pen.moveTo(0, y + 0.5);
    pen.lineTo(MAP_WIDTH, y + 0.5);
  }
  pen.stroke();
}

function drawPlayer(id: PlayerId, at: Point, name: string, mine: boolean): void {
  const colour = colourOf(id);
  if (mine) {
    pen.beginPath();
    pen.arc(at.x, at.y, DOT_RADIUS + 7, 0, 2 * Math.PI);
    pen.fillStyle = "rgba(255, 209, 102, 0.18)";
    pen.fill();
  }
  pen.beginPath();
  pen.arc(at.x, at.y, DOT_RADIUS, 0, 2 * Math.PI);
  pen.fillStyle = colour;
  pen.fill();
  pen.lineWidth = mine ? 3 : 1.5;
  pen.strokeStyle = mine ? "#fff3cf" : "rgba(15, 20, 25, 0.9)";
  pen.stroke();

  pen.font = `${mine ? "600 " : ""}13px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
  pen.textAlign = "center";
  pen.textBaseline = "bottom";
  const labelY = at.y - DOT_RADIUS - 6 < 14 ? at.y + DOT_RADIUS + 20 : at.y - DOT_RADIUS - 6;
  pen.lineWidth = 4;
  pen.strokeStyle = "rgba(15, 20, 25, 0.85)";
  pen.strokeText(name, at.x, labelY);
  pen.fillStyle = mine ? MY_COLOUR : "#e6edf3";
  pen.fillText(name, at.x, labelY);
}

let frameAt = performance.now();

function frame(now: number): void {
  const seconds = Math.min((now - frameAt) / 1000, 0.25);
  frameAt = now;
  advance(now);
  sendPosition(now, false);

  drawField();
  // Eases each dot toward its position: smooth at 20 ticks per second.
  const ease = 1 - Math.exp(-seconds * 18);
  for (const id of drawn.keys()) if (!client.players.has(id)) drawn.delete(id);
  const order: [PlayerId, Point, string, boolean][] = [];
  for (const [id, player] of named()) {
    const mine = id === client.id;
    const target = mine && me !== null ? me : player;
    let at = drawn.get(id);
    if (at === undefined || mine || Math.hypot(target.x - at.x, target.y - at.y) > 200) {
      at = { x: target.x, y: target.y };
    } else {
      at = { x: at.x + (target.x - at.x) * ease, y: at.y + (target.y - at.y) * ease };
    }
    drawn.set(id, at);
    order.push([id, at, player.name, mine]);
  }
  // Yours on top.
  order.sort((a, b) => Number(a[3]) - Number(b[3]));
  for (const [id, at, name, mine] of order) drawPlayer(id, at, name, mine);

  if (held.size > 0) renderPlayers();
  requestAnimationFrame(frame);
}

requestAnimationFrame(frame);
renderStatus();
renderMatch();
void refreshLobby();
// Leaving the page (closing the tab, following a lobby link) leaves the game at
// once, with a close frame: without one the server would hold the player for its
// session's grace period, in everyone's list.
window.addEventListener("pagehide", () => client.close());
client.connect().catch((error: unknown) => {
  logSystem(`could not join: ${error instanceof Error ? error.message : String(error)}`);
  renderStatus();
});
