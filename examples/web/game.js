// Built from examples/web/game.ts and clients/typescript by `npm run bundle:web` in
// clients/typescript: do not edit.

// clients/typescript/src/close.ts
var CloseCode = {
  /** The server removed the player (`kick`). The client does not reconnect. */
  Kicked: 4e3,
  /** The server is stopping. */
  ServerShutdown: 4001,
  /** The client's protocol or wire version differs. The client does not reconnect. */
  ProtocolMismatch: 4002,
  /** The client sent undecodable frames past the server's limit. */
  InvalidFrames: 4003,
  /** The client did not read its frames fast enough. */
  SlowConsumer: 4004,
  /** The client sent events faster than the server's rate limit. */
  RateLimited: 4005,
  /** Nothing was heard from the client in time. */
  IdleTimeout: 4006,
  /** The server holds its maximum number of players. */
  ServerFull: 4007,
  /** A resume named no session the server holds (unknown, used, or its grace period over). The client joins afresh. */
  SessionExpired: 4008,
  /** A resume would leave a gap: missed events are no longer held. The session is over; the client joins afresh. */
  MissedEvents: 4009,
  /** A newer connection resumed this connection's session. */
  Replaced: 4010,
  /**
   * The player's match ended: its game ended it, or it ended as the player joined.
   * The player is gone and its match with it: the client does not reconnect (it may
   * find or create another match).
   */
  MatchEnded: 4011,
  /** From a relay: the game ended, its host left for good. Its code is gone: the client does not reconnect. */
  HostGone: 4100,
  /** From a relay: the host's connection for this player was lost. The host holds the player: the client resumes. */
  HostConnectionLost: 4101,
  /** From a relay, to a host's connection: its player's connection was lost. */
  PlayerConnectionLost: 4102,
  /** From a relay: it is shutting down, and its games with it. The client does not reconnect. */
  RelayShutdown: 4103,
  /** From a relay, to a host's control link: a newer link reclaimed the game. */
  LinkReplaced: 4104,
  /**
   * From a gateway: its connection to the game process that held the player's match
   * was lost (the process was killed, or cut off). The match is gone with it, so the
   * session cannot be resumed: the client reconnects with its original request (a
   * new `create`, the same `find`, the default match, or its `join` by code, which
   * is refused with `UnknownMatch` if that match was on the lost process).
   */
  GameProcessLost: 4105
};
var DESCRIPTIONS = {
  Kicked: "kicked by the server",
  ServerShutdown: "server shutting down",
  ProtocolMismatch: "protocol mismatch",
  InvalidFrames: "too many invalid frames",
  SlowConsumer: "not reading fast enough",
  RateLimited: "sending too fast",
  IdleTimeout: "idle timeout",
  ServerFull: "server full",
  SessionExpired: "session expired",
  MissedEvents: "missed events no longer held",
  Replaced: "session resumed elsewhere",
  MatchEnded: "match ended",
  HostGone: "host gone",
  HostConnectionLost: "host connection lost",
  PlayerConnectionLost: "player connection lost",
  RelayShutdown: "relay shutting down",
  LinkReplaced: "replaced by a new link",
  GameProcessLost: "game process lost"
};
function closeReasonOf(code) {
  for (const [name, value] of Object.entries(CloseCode)) {
    if (value === code) return { name, code, description: DESCRIPTIONS[name] };
  }
  return null;
}
var REFUSALS_SUBPROTOCOL = "nodelink.refusals";
var RefusalCode = {
  /** Too many connections from the client's address (HTTP 429). Worth retrying later. */
  TooManyConnections: 4200,
  /** The page's origin is not on the server's allow-list (HTTP 403). */
  OriginNotAllowed: 4201,
  /** The client was built from another protocol: the reason names both fingerprints (HTTP 400). */
  ProtocolMismatch: 4202,
  /** The client speaks another wire version (HTTP 400). */
  WireVersion: 4203,
  /** The server does not serve this client's wire (configured native-only or JSON-only; HTTP 400). */
  WireNotServed: 4204,
  /** The server is full (HTTP 503). Worth retrying later. */
  ServerFull: 4205,
  /** The authentication hook did not know the client (HTTP 401). */
  Unauthorized: 4206,
  /** The authentication hook does not allow the client (HTTP 403). */
  Forbidden: 4207,
  /** The offer to resume a session was malformed (HTTP 400). */
  MalformedResume: 4208,
  /** The request's matchmaking parameters are malformed: an unknown `match`, a `create` without `kind`, options that are not base64url (HTTP 400). */
  BadMatchRequest: 4209,
  /** The server hosts no kind of match by the name asked for (HTTP 404). */
  UnknownKind: 4210,
  /** No live match has the code asked for: mistyped, or the match has ended (HTTP 404). */
  UnknownMatch: 4211,
  /** The match asked for holds its maximum of players (HTTP 409). Worth retrying later. */
  MatchFull: 4212,
  /** The match asked for takes no new players: its game locked it (HTTP 409). */
  MatchLocked: 4213,
  /** The options sent to create or find a match do not decode as the kind's options (HTTP 400); the reason says where. */
  BadOptions: 4214,
  /** The kind makes no new matches on request: it hosts its server's one match, and has no game factory (HTTP 403). */
  CannotCreate: 4215,
  /**
   * From a gateway: the service's directory, where it looks up which game process
   * takes the request, cannot be read now (HTTP 503). Worth retrying later; players
   * already connected are not affected.
   */
  DirectoryUnavailable: 4216,
  /**
   * From a gateway: the game process its directory names for the request does not
   * answer (it died within its lease, or did not answer in time) (HTTP 503). Worth
   * retrying later.
   */
  ProcessUnavailable: 4217
};
var REFUSAL_STATUS = {
  TooManyConnections: 429,
  OriginNotAllowed: 403,
  ProtocolMismatch: 400,
  WireVersion: 400,
  WireNotServed: 400,
  ServerFull: 503,
  Unauthorized: 401,
  Forbidden: 403,
  MalformedResume: 400,
  BadMatchRequest: 400,
  UnknownKind: 404,
  UnknownMatch: 404,
  MatchFull: 409,
  MatchLocked: 409,
  BadOptions: 400,
  CannotCreate: 403,
  DirectoryUnavailable: 503,
  ProcessUnavailable: 503
};
var RETRYABLE = /* @__PURE__ */ new Set(["TooManyConnections", "ServerFull", "MatchFull", "DirectoryUnavailable", "ProcessUnavailable"]);
function refusalOf(code) {
  for (const [name, value] of Object.entries(RefusalCode)) {
    if (value === code) return { name, code, status: REFUSAL_STATUS[name], retryable: RETRYABLE.has(name) };
  }
  return null;
}
var REFUSAL_HEADER = "x-nodelink-refusal";

// clients/typescript/src/errors.ts
var NodelinkError = class extends Error {
};
var SchemaError = class extends NodelinkError {
  constructor(path, reason) {
    super(`invalid schema at ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
  path;
  reason;
  name = "SchemaError";
  kind = "schema";
};
var EncodeError = class extends NodelinkError {
  constructor(where, reason) {
    super(`cannot encode ${where}: ${reason}`);
    this.where = where;
    this.reason = reason;
  }
  where;
  reason;
  name = "EncodeError";
  kind = "encode";
};
var DecodeError = class extends NodelinkError {
  constructor(where, reason) {
    super(`cannot decode ${where}: ${reason}`);
    this.where = where;
    this.reason = reason;
  }
  where;
  reason;
  name = "DecodeError";
  kind = "decode";
};
var UnknownNetIdError = class extends NodelinkError {
  constructor(netId) {
    super(`sync frame: changes for unknown net id ${netId}`);
    this.netId = netId;
  }
  netId;
  name = "UnknownNetIdError";
  kind = "unknown_net_id";
};
var UrlError = class extends NodelinkError {
  constructor(url, reason) {
    super(`invalid server url \`${url}\`: ${reason}`);
    this.url = url;
    this.reason = reason;
  }
  url;
  reason;
  name = "UrlError";
  kind = "url";
};
var ConnectError = class extends NodelinkError {
  constructor(url, reason) {
    super(`cannot connect to ${url}: ${reason}`);
    this.url = url;
    this.reason = reason;
  }
  url;
  reason;
  name = "ConnectError";
  kind = "connect";
};
var RefusedError = class extends NodelinkError {
  constructor(status, reason, refusal2 = null) {
    super(
      refusal2 === null ? `refused by the server: HTTP ${status}${reason ? `: ${reason}` : ""}` : `refused by the server (${refusal2}): ${reason}`
    );
    this.status = status;
    this.reason = reason;
    this.refusal = refusal2;
  }
  status;
  reason;
  refusal;
  name = "RefusedError";
  kind = "refused";
  /**
   * Whether the same request may be let in later: too many connections (429), a
   * full server (503), a full match (409 `MatchFull`) or a gateway whose directory
   * or game process is away (503 `DirectoryUnavailable`, `ProcessUnavailable`).
   * The client retries only these.
   */
  get retryable() {
    if (this.refusal !== null) return refusalOf(RefusalCode[this.refusal])?.retryable ?? false;
    return this.status === 429 || this.status === 503;
  }
};
var ProtocolMismatchError = class extends NodelinkError {
  constructor(client2, server, clientWireVersion, serverWireVersion = null) {
    super(
      serverWireVersion !== null && serverWireVersion !== clientWireVersion ? `protocol mismatch: this client speaks wire version ${clientWireVersion}, the server ${serverWireVersion}` : `protocol mismatch: this client's fingerprint is ${client2}, the server's is ${server ?? "unknown"}`
    );
    this.client = client2;
    this.server = server;
    this.clientWireVersion = clientWireVersion;
    this.serverWireVersion = serverWireVersion;
  }
  client;
  server;
  clientWireVersion;
  serverWireVersion;
  name = "ProtocolMismatchError";
  kind = "protocol_mismatch";
};
var HandshakeError = class extends NodelinkError {
  constructor(reason) {
    super(`handshake failed: ${reason}`);
    this.reason = reason;
  }
  reason;
  name = "HandshakeError";
  kind = "handshake";
};
var QueueFullError = class extends NodelinkError {
  constructor(capacity) {
    super(`send queue is full (${capacity} frames)`);
    this.capacity = capacity;
  }
  capacity;
  name = "QueueFullError";
  kind = "queue_full";
};
var StoppedError = class extends NodelinkError {
  name = "StoppedError";
  kind = "stopped";
  constructor() {
    super("the client has been closed");
  }
};
var HandlerError = class extends NodelinkError {
  constructor(handler, cause) {
    super(`${handler} handler threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.handler = handler;
    this.cause = cause;
  }
  handler;
  cause;
  name = "HandlerError";
  kind = "handler";
};

// clients/typescript/src/msgpack.ts
var utf8Encoder = new TextEncoder();
var utf8Decoder = new TextDecoder("utf-8", { fatal: true });
var MsgpackError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "MsgpackError";
  }
};
var TWO_32 = 4294967296;
var I64_MIN = -(2n ** 63n);
var U64_MAX = 2n ** 64n - 1n;
var Writer = class {
  buffer;
  view;
  length = 0;
  constructor(capacity = 64) {
    this.buffer = new Uint8Array(capacity);
    this.view = new DataView(this.buffer.buffer);
  }
  reserve(extra) {
    const at = this.length;
    const needed = at + extra;
    if (needed > this.buffer.length) {
      let capacity = this.buffer.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.buffer.subarray(0, at));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = needed;
    return at;
  }
  byte(value) {
    const at = this.reserve(1);
    this.buffer[at] = value;
  }
  /** The bytes written, as a fresh array. */
  finish() {
    return this.buffer.slice(0, this.length);
  }
  nil() {
    this.byte(192);
  }
  bool(value) {
    this.byte(value ? 195 : 194);
  }
  /** An unsigned integer (0 ≤ value < 2^64) in its most compact form. */
  uint(value) {
    if (typeof value === "bigint") {
      if (value < 0n || value > U64_MAX) throw new RangeError(`${value} is not a u64`);
      if (value >= BigInt(TWO_32)) {
        const at = this.reserve(9);
        this.buffer[at] = 207;
        this.view.setBigUint64(at + 1, value);
        return;
      }
      value = Number(value);
    }
    if (value < 128) {
      this.byte(value);
    } else if (value < 256) {
      const at = this.reserve(2);
      this.buffer[at] = 204;
      this.buffer[at + 1] = value;
    } else if (value < 65536) {
      const at = this.reserve(3);
      this.buffer[at] = 205;
      this.view.setUint16(at + 1, value);
    } else if (value < TWO_32) {
      const at = this.reserve(5);
      this.buffer[at] = 206;
      this.view.setUint32(at + 1, value);
    } else {
      this.uint(BigInt(value));
    }
  }
  /** A signed integer (-2^63 ≤ value < 2^64) in its most compact form: non-negative values as unsigned. */
  int(value) {
    if (value >= 0) {
      this.uint(value);
      return;
    }
    if (typeof value === "bigint") {
      if (value < I64_MIN) throw new RangeError(`${value} is not an i64`);
      if (value < -(2n ** 31n)) {
        const at = this.reserve(9);
        this.buffer[at] = 211;
        this.view.setBigInt64(at + 1, value);
        return;
      }
      value = Number(value);
    }
    if (value >= -32) {
      this.byte(value & 255);
    } else if (value >= -128) {
      const at = this.reserve(2);
      this.buffer[at] = 208;
      this.view.setInt8(at + 1, value);
    } else if (value >= -32768) {
      const at = this.reserve(3);
      this.buffer[at] = 209;
      this.view.setInt16(at + 1, value);
    } else if (value >= -2147483648) {
      const at = this.reserve(5);
      this.buffer[at] = 210;
      this.view.setInt32(at + 1, value);
    } else {
      this.int(BigInt(value));
    }
  }
  f32(value) {
    const at = this.reserve(5);
    this.buffer[at] = 202;
    this.view.setFloat32(at + 1, value);
  }
  f64(value) {
    const at = this.reserve(9);
    this.buffer[at] = 203;
    this.view.setFloat64(at + 1, value);
  }
  str(value) {
    const bytes = utf8Encoder.encode(value);
    const n = bytes.length;
    if (n < 32) {
      this.byte(160 | n);
    } else if (n < 256) {
      const at = this.reserve(2);
      this.buffer[at] = 217;
      this.buffer[at + 1] = n;
    } else if (n < 65536) {
      const at = this.reserve(3);
      this.buffer[at] = 218;
      this.view.setUint16(at + 1, n);
    } else {
      const at = this.reserve(5);
      this.buffer[at] = 219;
      this.view.setUint32(at + 1, n);
    }
    const start = this.reserve(n);
    this.buffer.set(bytes, start);
  }
  bin(bytes) {
    const n = bytes.length;
    if (n < 256) {
      const at = this.reserve(2);
      this.buffer[at] = 196;
      this.buffer[at + 1] = n;
    } else if (n < 65536) {
      const at = this.reserve(3);
      this.buffer[at] = 197;
      this.view.setUint16(at + 1, n);
    } else {
      const at = this.reserve(5);
      this.buffer[at] = 198;
      this.view.setUint32(at + 1, n);
    }
    const start = this.reserve(n);
    this.buffer.set(bytes, start);
  }
  ext(value) {
    const n = value.data.length;
    const fixed = { 1: 212, 2: 213, 4: 214, 8: 215, 16: 216 };
    const marker = fixed[n];
    if (marker !== void 0) {
      const at = this.reserve(2);
      this.buffer[at] = marker;
      this.view.setInt8(at + 1, value.extType);
    } else if (n < 256) {
      const at = this.reserve(3);
      this.buffer[at] = 199;
      this.buffer[at + 1] = n;
      this.view.setInt8(at + 2, value.extType);
    } else if (n < 65536) {
      const at = this.reserve(4);
      this.buffer[at] = 200;
      this.view.setUint16(at + 1, n);
      this.view.setInt8(at + 3, value.extType);
    } else {
      const at = this.reserve(6);
      this.buffer[at] = 201;
      this.view.setUint32(at + 1, n);
      this.view.setInt8(at + 5, value.extType);
    }
    const start = this.reserve(n);
    this.buffer.set(value.data, start);
  }
  arrayLen(n) {
    if (n < 16) {
      this.byte(144 | n);
    } else if (n < 65536) {
      const at = this.reserve(3);
      this.buffer[at] = 220;
      this.view.setUint16(at + 1, n);
    } else {
      const at = this.reserve(5);
      this.buffer[at] = 221;
      this.view.setUint32(at + 1, n);
    }
  }
  mapLen(n) {
    if (n < 16) {
      this.byte(128 | n);
    } else if (n < 65536) {
      const at = this.reserve(3);
      this.buffer[at] = 222;
      this.view.setUint16(at + 1, n);
    } else {
      const at = this.reserve(5);
      this.buffer[at] = 223;
      this.view.setUint32(at + 1, n);
    }
  }
  /**
   * Any value, by its JavaScript type (for values whose schema type is unknown):
   * integral numbers as integers, other numbers as float64, `Map`s and plain
   * objects as maps.
   */
  any(value) {
    if (value === null || value === void 0) this.nil();
    else if (typeof value === "boolean") this.bool(value);
    else if (typeof value === "bigint") this.int(value);
    else if (typeof value === "number") {
      if (Number.isSafeInteger(value)) this.int(value);
      else this.f64(value);
    } else if (typeof value === "string") this.str(value);
    else if (value instanceof Uint8Array) this.bin(value);
    else if (Array.isArray(value)) {
      this.arrayLen(value.length);
      for (const item of value) this.any(item);
    } else if (value instanceof Map) {
      this.mapLen(value.size);
      for (const [k, v] of value) {
        this.any(k);
        this.any(v);
      }
    } else if (typeof value === "object" && isExt(value)) {
      this.ext(value);
    } else if (typeof value === "object") {
      const entries = Object.entries(value);
      this.mapLen(entries.length);
      for (const [k, v] of entries) {
        this.str(k);
        this.any(v);
      }
    } else {
      throw new TypeError(`cannot encode a ${typeof value}`);
    }
  }
};
function isExt(value) {
  return "extType" in value && "data" in value && value.data instanceof Uint8Array;
}
function markerName(marker) {
  if (marker <= 127 || marker === 204 || marker === 205 || marker === 206 || marker === 207) return "an unsigned integer";
  if (marker >= 224 || marker >= 208 && marker <= 211) return "a signed integer";
  if ((marker & 240) === 128 || marker === 222 || marker === 223) return "a map";
  if ((marker & 240) === 144 || marker === 220 || marker === 221) return "an array";
  if ((marker & 224) === 160 || marker === 217 || marker === 218 || marker === 219) return "a string";
  if (marker === 192) return "nil";
  if (marker === 194 || marker === 195) return "a bool";
  if (marker === 202) return "a float32";
  if (marker === 203) return "a float64";
  if (marker >= 196 && marker <= 198) return "binary data";
  if (marker >= 199 && marker <= 201 || marker >= 212 && marker <= 216) return "an extension value";
  return `the reserved marker 0x${marker.toString(16)}`;
}
var Reader = class {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  bytes;
  view;
  pos = 0;
  /** Whether every byte has been read. */
  get done() {
    return this.pos >= this.bytes.length;
  }
  /** How many bytes are left. */
  get remaining() {
    return this.bytes.length - this.pos;
  }
  need(n) {
    const at = this.pos;
    if (at + n > this.bytes.length) throw new MsgpackError("the frame ends in the middle of a value");
    this.pos = at + n;
    return at;
  }
  /** The next marker byte, without consuming it. */
  peek() {
    if (this.pos >= this.bytes.length) throw new MsgpackError("the frame ends where a value was expected");
    return this.bytes[this.pos];
  }
  mismatch(expected2, marker) {
    return new MsgpackError(`expected ${expected2}, found ${markerName(marker)}`);
  }
  /** Consumes a nil if one is next. */
  nil() {
    if (this.peek() !== 192) return false;
    this.pos += 1;
    return true;
  }
  bool() {
    const marker = this.peek();
    if (marker === 194 || marker === 195) {
      this.pos += 1;
      return marker === 195;
    }
    throw this.mismatch("a bool", marker);
  }
  /** Whether the next element is an integer of any width. */
  isInt() {
    const marker = this.peek();
    return marker <= 127 || marker >= 224 || marker >= 204 && marker <= 207 || marker >= 208 && marker <= 211;
  }
  /** An integer of any width: a number when it is exact as one, else a bigint. */
  int() {
    const marker = this.peek();
    if (marker <= 127) {
      this.pos += 1;
      return marker;
    }
    if (marker >= 224) {
      this.pos += 1;
      return marker - 256;
    }
    switch (marker) {
      case 204:
        return this.view.getUint8(this.need(2) + 1);
      case 205:
        return this.view.getUint16(this.need(3) + 1);
      case 206:
        return this.view.getUint32(this.need(5) + 1);
      case 207:
        return exact(this.view.getBigUint64(this.need(9) + 1));
      case 208:
        return this.view.getInt8(this.need(2) + 1);
      case 209:
        return this.view.getInt16(this.need(3) + 1);
      case 210:
        return this.view.getInt32(this.need(5) + 1);
      case 211:
        return exact(this.view.getBigInt64(this.need(9) + 1));
      default:
        throw this.mismatch("an integer", marker);
    }
  }
  /** An integer as a number; one beyond 2^53 is an error. */
  safeInt(what) {
    const value = this.int();
    if (typeof value === "bigint") throw new MsgpackError(`${what} ${value} is too large`);
    return value;
  }
  /** An unsigned integer as a number (at most 2^53 - 1). */
  uint(what) {
    const value = this.safeInt(what);
    if (value < 0) throw new MsgpackError(`${what} is negative (${value})`);
    return value;
  }
  /** A number written as a float32, a float64 or an integer. */
  float() {
    const marker = this.peek();
    if (marker === 202) return this.view.getFloat32(this.need(5) + 1);
    if (marker === 203) return this.view.getFloat64(this.need(9) + 1);
    if (this.isInt()) return Number(this.int());
    throw this.mismatch("a number", marker);
  }
  str() {
    const marker = this.peek();
    let n;
    if ((marker & 224) === 160) {
      this.pos += 1;
      n = marker & 31;
    } else if (marker === 217) n = this.view.getUint8(this.need(2) + 1);
    else if (marker === 218) n = this.view.getUint16(this.need(3) + 1);
    else if (marker === 219) n = this.view.getUint32(this.need(5) + 1);
    else throw this.mismatch("a string", marker);
    const at = this.need(n);
    try {
      return utf8Decoder.decode(this.bytes.subarray(at, at + n));
    } catch {
      throw new MsgpackError("a string is not valid UTF-8");
    }
  }
  bin() {
    const marker = this.peek();
    let n;
    if (marker === 196) n = this.view.getUint8(this.need(2) + 1);
    else if (marker === 197) n = this.view.getUint16(this.need(3) + 1);
    else if (marker === 198) n = this.view.getUint32(this.need(5) + 1);
    else throw this.mismatch("binary data", marker);
    const at = this.need(n);
    return this.bytes.slice(at, at + n);
  }
  /** Whether the next element is an array. */
  isArray() {
    const marker = this.peek();
    return (marker & 240) === 144 || marker === 220 || marker === 221;
  }
  /** An array's header: its element count. */
  arrayLen() {
    const marker = this.peek();
    if ((marker & 240) === 144) {
      this.pos += 1;
      return marker & 15;
    }
    if (marker === 220) return this.view.getUint16(this.need(3) + 1);
    if (marker === 221) return this.view.getUint32(this.need(5) + 1);
    throw this.mismatch("an array", marker);
  }
  /** Whether the next element is a string. */
  isStr() {
    const marker = this.peek();
    return (marker & 224) === 160 || marker === 217 || marker === 218 || marker === 219;
  }
  /** Whether the next element is a map. */
  isMap() {
    const marker = this.peek();
    return (marker & 240) === 128 || marker === 222 || marker === 223;
  }
  /** A map's header: its entry count. */
  mapLen() {
    const marker = this.peek();
    if ((marker & 240) === 128) {
      this.pos += 1;
      return marker & 15;
    }
    if (marker === 222) return this.view.getUint16(this.need(3) + 1);
    if (marker === 223) return this.view.getUint32(this.need(5) + 1);
    throw this.mismatch("a map", marker);
  }
  /** Any element, as the JavaScript value closest to it (maps as `Map`). */
  any(depth = 0) {
    if (depth > 512) throw new MsgpackError("values nest too deeply");
    const marker = this.peek();
    if (marker === 192) {
      this.pos += 1;
      return null;
    }
    if (marker === 194 || marker === 195) return this.bool();
    if (this.isInt()) return this.int();
    if (marker === 202 || marker === 203) return this.float();
    if (this.isStr()) return this.str();
    if (marker >= 196 && marker <= 198) return this.bin();
    if (this.isArray()) {
      const n = this.arrayLen();
      this.plausible(n);
      const out = [];
      for (let i = 0; i < n; i += 1) out.push(this.any(depth + 1));
      return out;
    }
    if (this.isMap()) {
      const n = this.mapLen();
      this.plausible(n * 2);
      const out = /* @__PURE__ */ new Map();
      for (let i = 0; i < n; i += 1) {
        const k = this.any(depth + 1);
        out.set(k, this.any(depth + 1));
      }
      return out;
    }
    return this.ext();
  }
  ext() {
    const marker = this.peek();
    const fixed = { 212: 1, 213: 2, 214: 4, 215: 8, 216: 16 };
    let n = fixed[marker];
    let extType;
    if (n !== void 0) {
      extType = this.view.getInt8(this.need(2) + 1);
    } else if (marker === 199) {
      const at2 = this.need(3);
      n = this.view.getUint8(at2 + 1);
      extType = this.view.getInt8(at2 + 2);
    } else if (marker === 200) {
      const at2 = this.need(4);
      n = this.view.getUint16(at2 + 1);
      extType = this.view.getInt8(at2 + 3);
    } else if (marker === 201) {
      const at2 = this.need(6);
      n = this.view.getUint32(at2 + 1);
      extType = this.view.getInt8(at2 + 5);
    } else {
      throw this.mismatch("a value", marker);
    }
    const at = this.need(n);
    return { extType, data: this.bytes.slice(at, at + n) };
  }
  /** Refuses a collection that claims more elements than bytes are left (each takes at least one). */
  plausible(elements) {
    if (elements > this.remaining) throw new MsgpackError(`a collection claims ${elements} elements but the frame ends first`);
  }
  /** Skips one element. */
  skip() {
    this.any();
  }
};
function exact(value) {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

// clients/typescript/src/entity-id.ts
function isEntityId(value) {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 4294967295;
}

// clients/typescript/src/player-id.ts
var PLAYER_ID = /^[0-9a-f]{8}$/;
function isPlayerId(value) {
  return typeof value === "string" && PLAYER_ID.test(value);
}
function playerIdFromNumber(value) {
  if (!Number.isInteger(value) || value < 0 || value > 4294967295) {
    throw new RangeError(`a player id is a 32-bit unsigned integer, not ${value}`);
  }
  return value.toString(16).padStart(8, "0");
}

// clients/typescript/src/schema.ts
var WIRE_VERSION = 3;
var PRIMITIVE_TYPES = [
  "bool",
  "char",
  "unit",
  "u8",
  "u16",
  "u32",
  "u64",
  "u128",
  "i8",
  "i16",
  "i32",
  "i64",
  "i128",
  "f32",
  "f64",
  "str",
  "player_id",
  "entity_id"
];
var HEX16 = /^[0-9a-f]{16}$/;
var KINDS = ["named", "tuple", "unit"];
var MAX_STATE_FIELDS = 64;
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
function key(path, name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
}
function onlyKeys(value, allowed, path) {
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) {
      throw new SchemaError(key(path, name), `unexpected key (expected ${allowed.map((k) => `\`${k}\``).join(", ")})`);
    }
  }
}
function requireString(value, path) {
  if (typeof value !== "string") throw new SchemaError(path, `expected a string, found ${describe(value)}`);
  return value;
}
function requireName(value, path) {
  const name = requireString(value, path);
  if (name === "") throw new SchemaError(path, "a name cannot be empty");
  if (name === "__proto__") throw new SchemaError(path, "the name `__proto__` is not supported");
  return name;
}
function requireArray(value, path) {
  if (!Array.isArray(value)) throw new SchemaError(path, `expected an array, found ${describe(value)}`);
  return value;
}
function requireObject(value, path) {
  if (!isObject(value)) throw new SchemaError(path, `expected an object, found ${describe(value)}`);
  return value;
}
function requireCount(value, path) {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new SchemaError(path, `expected a non-negative integer, found ${describe(value)}`);
  }
  return value;
}
function checkType(value, path, refs) {
  if (typeof value === "string") {
    if (!PRIMITIVE_TYPES.includes(value)) {
      throw new SchemaError(path, `unknown primitive type \`${value}\``);
    }
    return value;
  }
  const object = requireObject(value, path);
  const keys = Object.keys(object);
  if (keys.length !== 1) {
    throw new SchemaError(path, `a type object has exactly one key (option, seq, map, array, tuple, ref, opaque, sync_map, sync_vec, sync_deque), found ${keys.length}`);
  }
  const [tag] = keys;
  const inner = object[tag];
  const at = key(path, tag);
  switch (tag) {
    case "option":
      return { option: checkType(inner, at, refs) };
    case "seq":
      return { seq: checkType(inner, at, refs) };
    case "map": {
      const pair = requireArray(inner, at);
      if (pair.length !== 2) throw new SchemaError(at, `expected [key, value], found ${pair.length} elements`);
      return { map: [checkType(pair[0], `${at}[0]`, refs), checkType(pair[1], `${at}[1]`, refs)] };
    }
    case "array": {
      const pair = requireArray(inner, at);
      if (pair.length !== 2) throw new SchemaError(at, `expected [type, length], found ${pair.length} elements`);
      return { array: [checkType(pair[0], `${at}[0]`, refs), requireCount(pair[1], `${at}[1]`)] };
    }
    case "tuple": {
      const items = requireArray(inner, at);
      return { tuple: items.map((item, i) => checkType(item, `${at}[${i}]`, refs)) };
    }
    case "ref": {
      const name = requireName(inner, at);
      if (!refs.has(name)) refs.set(name, at);
      return { ref: name };
    }
    case "opaque": {
      const hex = requireString(inner, at);
      if (!HEX16.test(hex)) throw new SchemaError(at, `expected 16 lowercase hex digits, found ${JSON.stringify(hex)}`);
      return { opaque: hex };
    }
    case "sync_map": {
      const pair = requireArray(inner, at);
      if (pair.length !== 2) throw new SchemaError(at, `expected [key, value], found ${pair.length} elements`);
      return { sync_map: [checkType(pair[0], `${at}[0]`, refs), checkType(pair[1], `${at}[1]`, refs)] };
    }
    case "sync_vec":
      return { sync_vec: checkType(inner, at, refs) };
    case "sync_deque":
      return { sync_deque: checkType(inner, at, refs) };
    default:
      throw new SchemaError(at, `unknown type tag \`${tag}\` (expected option, seq, map, array, tuple, ref, opaque, sync_map, sync_vec or sync_deque)`);
  }
}
function checkKindName(value, path) {
  const kind = requireString(value, path);
  if (kind === "") throw new SchemaError(path, "a kind's name cannot be empty");
  return kind;
}
function checkKind(value, path) {
  const kind = requireString(value, path);
  if (!KINDS.includes(kind)) throw new SchemaError(path, `expected "named", "tuple" or "unit", found ${JSON.stringify(kind)}`);
  return kind;
}
function checkFields(kind, value, path, refs) {
  const fields = requireArray(value, path);
  if (kind === "unit" && fields.length > 0) throw new SchemaError(path, `a unit has no fields, found ${fields.length}`);
  const seen = /* @__PURE__ */ new Set();
  return fields.map((field2, i) => {
    const at = `${path}[${i}]`;
    const object = requireObject(field2, at);
    onlyKeys(object, ["name", "type"], at);
    const name = requireName(object.name, `${at}.name`);
    if (kind === "tuple" && name !== String(i)) {
      throw new SchemaError(`${at}.name`, `a tuple's field ${i} is named "${i}", found ${JSON.stringify(name)}`);
    }
    if (seen.has(name)) throw new SchemaError(`${at}.name`, `duplicate field name \`${name}\``);
    seen.add(name);
    return { name, type: checkType(object.type, `${at}.type`, refs) };
  });
}
function checkStateFields(value, path, refs) {
  const fields = requireArray(value, path);
  const seen = /* @__PURE__ */ new Set();
  let synced = 0;
  const out = fields.map((field2, i) => {
    const at = `${path}[${i}]`;
    const entry = requireObject(field2, at);
    const fieldName = requireName(entry.name, `${at}.name`);
    if (seen.has(fieldName)) throw new SchemaError(`${at}.name`, `duplicate field name \`${fieldName}\``);
    seen.add(fieldName);
    if (entry.skip === true) {
      onlyKeys(entry, ["name", "skip"], at);
      return { name: fieldName, skip: true };
    }
    onlyKeys(entry, ["name", "index", "type", "skip", "owner", "tag"], at);
    if (entry.skip !== void 0 && entry.skip !== false) {
      throw new SchemaError(`${at}.skip`, `expected true or false, found ${describe(entry.skip)}`);
    }
    if (entry.owner !== void 0 && typeof entry.owner !== "boolean") {
      throw new SchemaError(`${at}.owner`, `expected true or false, found ${describe(entry.owner)}`);
    }
    if (entry.tag !== void 0 && (typeof entry.tag !== "string" || entry.tag === "" || /\s/.test(entry.tag))) {
      throw new SchemaError(`${at}.tag`, `expected a name without spaces, found ${describe(entry.tag)}`);
    }
    const index = requireCount(entry.index, `${at}.index`);
    if (index !== synced) {
      throw new SchemaError(`${at}.index`, `synced fields are numbered 0, 1, … in declaration order: expected ${synced}, found ${index}`);
    }
    synced += 1;
    const type = checkType(entry.type, `${at}.type`, refs);
    return {
      name: fieldName,
      index,
      type,
      ...entry.owner === true ? { owner: true } : {},
      ...typeof entry.tag === "string" ? { tag: entry.tag } : {}
    };
  });
  if (synced > MAX_STATE_FIELDS) {
    throw new SchemaError(path, `a state has at most ${MAX_STATE_FIELDS} synced fields, found ${synced}`);
  }
  return out;
}
function checkState(value, path, refs) {
  if (value === null) return null;
  const object = requireObject(value, path);
  onlyKeys(object, ["name", "fields", "one_of"], path);
  const name = requireName(object.name, `${path}.name`);
  const fields = checkStateFields(object.fields, `${path}.fields`, refs);
  if (object.one_of === void 0) return { name, fields };
  if (object.one_of !== true) throw new SchemaError(`${path}.one_of`, `\`one_of\` is \`true\` when present, found ${JSON.stringify(object.one_of)}`);
  const skipped = fields.find((field2) => "skip" in field2);
  if (skipped !== void 0) throw new SchemaError(`${path}.fields`, `an enum of kinds has no server-only fields, found \`${skipped.name}\``);
  if (fields.length === 0) throw new SchemaError(`${path}.fields`, "an enum of kinds has at least one kind");
  return { name, fields, one_of: true };
}
function checkEvents(value, path, refs) {
  const object = requireObject(value, path);
  onlyKeys(object, ["name", "events"], path);
  const name = requireName(object.name, `${path}.name`);
  const events = requireArray(object.events, `${path}.events`);
  const seen = /* @__PURE__ */ new Set();
  return {
    name,
    events: events.map((event, i) => {
      const at = `${path}.events[${i}]`;
      const entry = requireObject(event, at);
      onlyKeys(entry, ["name", "kind", "fields"], at);
      const eventName = requireName(entry.name, `${at}.name`);
      if (!/^[a-z0-9_]+$/.test(eventName)) {
        throw new SchemaError(`${at}.name`, `an event's wire name is snake_case, found ${JSON.stringify(eventName)}`);
      }
      if (seen.has(eventName)) throw new SchemaError(`${at}.name`, `duplicate event name \`${eventName}\``);
      seen.add(eventName);
      const kind = checkKind(entry.kind, `${at}.kind`);
      return { name: eventName, kind, fields: checkFields(kind, entry.fields, `${at}.fields`, refs) };
    })
  };
}
function checkTypeDef(value, path, refs) {
  const object = requireObject(value, path);
  const keys = Object.keys(object);
  if (keys.length !== 1 || keys[0] !== "struct" && keys[0] !== "enum" && keys[0] !== "state") {
    throw new SchemaError(path, `a type definition is {"struct": …}, {"enum": […]} or {"state": {"fields": […]}}, found keys ${JSON.stringify(keys)}`);
  }
  if (keys[0] === "state") {
    const at2 = `${path}.state`;
    const state = requireObject(object.state, at2);
    onlyKeys(state, ["fields"], at2);
    return { state: { fields: checkStateFields(state.fields, `${at2}.fields`, refs) } };
  }
  if (keys[0] === "struct") {
    const at2 = `${path}.struct`;
    const struct = requireObject(object.struct, at2);
    onlyKeys(struct, ["kind", "fields"], at2);
    const kind = checkKind(struct.kind, `${at2}.kind`);
    return { struct: { kind, fields: checkFields(kind, struct.fields, `${at2}.fields`, refs) } };
  }
  const at = `${path}.enum`;
  const variants = requireArray(object.enum, at);
  const seen = /* @__PURE__ */ new Set();
  return {
    enum: variants.map((variant, i) => {
      const vat = `${at}[${i}]`;
      const entry = requireObject(variant, vat);
      onlyKeys(entry, ["name", "kind", "fields"], vat);
      const name = requireName(entry.name, `${vat}.name`);
      if (seen.has(name)) throw new SchemaError(`${vat}.name`, `duplicate variant name \`${name}\``);
      seen.add(name);
      const kind = checkKind(entry.kind, `${vat}.kind`);
      return { name, kind, fields: checkFields(kind, entry.fields, `${vat}.fields`, refs) };
    })
  };
}
function directRefs(type, out) {
  if (typeof type === "string") return;
  if ("option" in type) directRefs(type.option, out);
  else if ("seq" in type) directRefs(type.seq, out);
  else if ("map" in type) {
    directRefs(type.map[0], out);
    directRefs(type.map[1], out);
  } else if ("array" in type) directRefs(type.array[0], out);
  else if ("tuple" in type) type.tuple.forEach((item) => directRefs(item, out));
  else if ("ref" in type) out.push(type.ref);
  else if ("sync_map" in type) {
    directRefs(type.sync_map[0], out);
    directRefs(type.sync_map[1], out);
  } else if ("sync_vec" in type) directRefs(type.sync_vec, out);
  else if ("sync_deque" in type) directRefs(type.sync_deque, out);
}
function typeDefFieldTypes(def) {
  if ("state" in def) return syncedFields(def.state).map((field2) => field2.type);
  const fields = "struct" in def ? def.struct.fields : def.enum.flatMap((variant) => variant.fields);
  return fields.map((field2) => field2.type);
}
function typeDefRefs(def) {
  const out = [];
  for (const type of typeDefFieldTypes(def)) directRefs(type, out);
  return out;
}
var SYNCED_PLACES = "the type of a state's field or the values of a `SyncMap` or `SyncVec`, not part of another type, an event or a user type";
function misplacedState(type, path, synced, types) {
  if (typeof type === "string") return null;
  if ("ref" in type) {
    if (synced || !("state" in types[type.ref])) return null;
    return [`${path}.ref`, `\`${type.ref}\` is a nested state (\`#[derive(SyncState)]\`): it can only be ${SYNCED_PLACES}`];
  }
  if ("sync_map" in type) {
    if (!synced) return [`${path}.sync_map`, `a \`SyncMap\` is synced per entry: it can only be ${SYNCED_PLACES}`];
    return misplacedState(type.sync_map[0], `${path}.sync_map[0]`, false, types) ?? misplacedState(type.sync_map[1], `${path}.sync_map[1]`, true, types);
  }
  if ("sync_vec" in type) {
    if (!synced) return [`${path}.sync_vec`, `a \`SyncVec\` is synced per index: it can only be ${SYNCED_PLACES}`];
    return misplacedState(type.sync_vec, `${path}.sync_vec`, true, types);
  }
  if ("sync_deque" in type) {
    if (!synced) return [`${path}.sync_deque`, `a \`SyncDeque\` is synced as drops and pushes: it can only be ${SYNCED_PLACES}`];
    return misplacedState(type.sync_deque, `${path}.sync_deque`, true, types);
  }
  if ("option" in type) return misplacedState(type.option, `${path}.option`, false, types);
  if ("seq" in type) return misplacedState(type.seq, `${path}.seq`, false, types);
  if ("map" in type) {
    return misplacedState(type.map[0], `${path}.map[0]`, false, types) ?? misplacedState(type.map[1], `${path}.map[1]`, false, types);
  }
  if ("array" in type) return misplacedState(type.array[0], `${path}.array[0]`, false, types);
  if ("tuple" in type) {
    for (const [i, item] of type.tuple.entries()) {
      const found2 = misplacedState(item, `${path}.tuple[${i}]`, false, types);
      if (found2 !== null) return found2;
    }
  }
  return null;
}
function checkStatePlacement(schema2) {
  const check = (type, path, direct) => {
    const found2 = misplacedState(type, path, direct, schema2.types);
    if (found2 !== null) throw new SchemaError(found2[0], found2[1]);
  };
  const stateFields = (fields, path) => {
    fields.forEach((field2, i) => {
      if (field2.skip !== true) check(field2.type, `${path}[${i}].type`, true);
    });
  };
  if (schema2.state !== null) stateFields(schema2.state.fields, "$.state.fields");
  if (schema2.server_state !== null) stateFields(schema2.server_state.fields, "$.server_state.fields");
  if (schema2.entity !== void 0) stateFields(schema2.entity.fields, "$.entity.fields");
  if (schema2.options !== void 0) check(schema2.options, "$.options", false);
  if (schema2.metadata !== void 0) check(schema2.metadata, "$.metadata", false);
  for (const [side, events] of [["to_server", schema2.to_server], ["to_client", schema2.to_client]]) {
    events.events.forEach((event, i) => {
      event.fields.forEach((field2, j) => check(field2.type, `$.${side}.events[${i}].fields[${j}].type`, false));
    });
  }
  for (const [name, def] of Object.entries(schema2.types)) {
    const at = key("$.types", name);
    if ("state" in def) stateFields(def.state.fields, `${at}.state.fields`);
    else if ("struct" in def) def.struct.fields.forEach((field2, i) => check(field2.type, `${at}.struct.fields[${i}].type`, false));
    else {
      def.enum.forEach((variant, i) => {
        variant.fields.forEach((field2, j) => check(field2.type, `${at}.enum[${i}].fields[${j}].type`, false));
      });
    }
  }
}
function validateSchema(value) {
  const root = requireObject(value, "$");
  onlyKeys(root, ["wire_version", "fingerprint", "state", "server_state", "entity", "kind", "options", "metadata", "to_server", "to_client", "types"], "$");
  const wireVersion = requireCount(root.wire_version, "$.wire_version");
  const fingerprint = requireString(root.fingerprint, "$.fingerprint");
  if (!HEX16.test(fingerprint)) {
    throw new SchemaError("$.fingerprint", `expected 16 lowercase hex digits, found ${JSON.stringify(fingerprint)}`);
  }
  const refs = /* @__PURE__ */ new Map();
  if (!("state" in root)) throw new SchemaError("$.state", "missing (null when the game has no player state)");
  if (!("server_state" in root)) throw new SchemaError("$.server_state", "missing (null when the game has no server state)");
  const state = checkState(root.state, "$.state", refs);
  const serverState = checkState(root.server_state, "$.server_state", refs);
  const entity = root.entity === void 0 ? null : checkState(root.entity, "$.entity", refs);
  const kind = root.kind === void 0 ? void 0 : checkKindName(root.kind, "$.kind");
  const options = root.options === void 0 ? void 0 : checkType(root.options, "$.options", refs);
  const metadata = root.metadata === void 0 ? void 0 : checkType(root.metadata, "$.metadata", refs);
  const toServer = checkEvents(root.to_server, "$.to_server", refs);
  const toClient = checkEvents(root.to_client, "$.to_client", refs);
  const typesObject = root.types === void 0 ? {} : requireObject(root.types, "$.types");
  const types = {};
  for (const [name, def] of Object.entries(typesObject)) {
    requireName(name, key("$.types", name));
    types[name] = checkTypeDef(def, key("$.types", name), refs);
  }
  for (const [name, path] of refs) {
    if (!Object.hasOwn(types, name)) throw new SchemaError(path, `reference to \`${name}\`, which \`types\` does not define`);
  }
  const state_ = {};
  const visit = (name, trail) => {
    if (state_[name] === "done") return;
    if (state_[name] === "visiting") {
      const cycle = [...trail.slice(trail.indexOf(name)), name].join(" → ");
      throw new SchemaError(key("$.types", name), `the type contains itself (${cycle})`);
    }
    state_[name] = "visiting";
    for (const next of typeDefRefs(types[name])) visit(next, [...trail, name]);
    state_[name] = "done";
  };
  for (const name of Object.keys(types)) visit(name, []);
  const withEntity = entity === null ? {} : { entity };
  const matches = {
    ...kind === void 0 ? {} : { kind },
    ...options === void 0 ? {} : { options },
    ...metadata === void 0 ? {} : { metadata }
  };
  checkStatePlacement({ state, server_state: serverState, ...withEntity, ...matches, to_server: toServer, to_client: toClient, types });
  return {
    wire_version: wireVersion,
    fingerprint,
    state,
    server_state: serverState,
    // The key only when the protocol has entities: a schema without keeps its shape.
    ...withEntity,
    ...matches,
    to_server: toServer,
    to_client: toClient,
    types
  };
}
function typeName(type) {
  if (typeof type === "string") {
    if (type === "unit") return "()";
    if (type === "player_id") return "PlayerId";
    if (type === "entity_id") return "EntityId";
    if (type === "str") return "String";
    return type;
  }
  if ("option" in type) return `Option<${typeName(type.option)}>`;
  if ("seq" in type) return `Vec<${typeName(type.seq)}>`;
  if ("map" in type) return `Map<${typeName(type.map[0])}, ${typeName(type.map[1])}>`;
  if ("array" in type) return `[${typeName(type.array[0])}; ${type.array[1]}]`;
  if ("tuple" in type) return `(${type.tuple.map(typeName).join(", ")}${type.tuple.length === 1 ? "," : ""})`;
  if ("ref" in type) return type.ref;
  if ("sync_map" in type) return `SyncMap<${typeName(type.sync_map[0])}, ${typeName(type.sync_map[1])}>`;
  if ("sync_vec" in type) return `SyncVec<${typeName(type.sync_vec)}>`;
  if ("sync_deque" in type) return `SyncDeque<${typeName(type.sync_deque)}>`;
  return `opaque ${type.opaque}`;
}
function syncedFields(state) {
  if (state === null) return [];
  return state.fields.filter((field2) => field2.skip !== true);
}

// clients/typescript/src/codec.ts
var ValueError = class extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
    this.name = "ValueError";
  }
  reason;
  path = [];
  /** The path and the reason, as one message: "field `pos`: [2]: expected …". */
  describe() {
    return [...this.path, this.reason].join(": ");
  }
};
function within(segment, body) {
  try {
    return body();
  } catch (error) {
    throw located(error, segment);
  }
}
function located(error, segment) {
  if (error instanceof ValueError) {
    error.path.unshift(segment);
    return error;
  }
  if (error instanceof MsgpackError || error instanceof RangeError) {
    const wrapped = new ValueError(error.message);
    wrapped.path.push(segment);
    return wrapped;
  }
  return error;
}
function found(value) {
  if (value === null) return "null";
  if (value === void 0) return "nothing (undefined)";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Map) return "a Map";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "bigint") return `the bigint ${value}n`;
  return `the ${typeof value} ${String(value)}`;
}
function expected(what, value) {
  return new ValueError(`expected ${what}, found ${found(value)}`);
}
function asValueError(error) {
  if (error instanceof ValueError) return error;
  if (error instanceof MsgpackError || error instanceof RangeError) return new ValueError(error.message);
  throw error;
}
var SMALL_INTS = {
  u8: [0, 255],
  u16: [0, 65535],
  u32: [0, 4294967295],
  i8: [-128, 127],
  i16: [-32768, 32767],
  i32: [-2147483648, 2147483647]
};
function smallInt(name) {
  const [min, max] = SMALL_INTS[name];
  return {
    name,
    encode(writer, value) {
      if (typeof value !== "number" || !Number.isInteger(value)) throw expected(`an integer (${name})`, value);
      if (value < min || value > max) throw new ValueError(`${value} is out of range for ${name} (${min} to ${max})`);
      writer.int(value);
    },
    decode(reader) {
      const value = reader.int();
      if (typeof value === "bigint" || value < min || value > max) {
        throw new ValueError(`${value} is out of range for ${name} (${min} to ${max})`);
      }
      return value;
    },
    defaultValue: () => 0
  };
}
var BIG_INTS = {
  u64: [0n, 2n ** 64n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u128: [0n, 2n ** 128n - 1n],
  i128: [-(2n ** 127n), 2n ** 127n - 1n]
};
function toBigInt(name, value) {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw expected(`a bigint (${name})`, value);
}
function bigInt(name) {
  const [min, max] = BIG_INTS[name];
  const wide = name === "u128" || name === "i128";
  const check = (value) => {
    if (value < min || value > max) throw new ValueError(`${value} is out of range for ${name}`);
    return value;
  };
  return {
    name,
    encode(writer, value) {
      const big = check(toBigInt(name, value));
      if (!wide) {
        writer.int(big);
        return;
      }
      const bytes = new Uint8Array(16);
      let rest = BigInt.asUintN(128, big);
      for (let i = 15; i >= 0; i -= 1) {
        bytes[i] = Number(rest & 0xffn);
        rest >>= 8n;
      }
      writer.bin(bytes);
    },
    decode(reader) {
      if (wide && !reader.isInt()) {
        const bytes = reader.bin();
        if (bytes.length !== 16) throw new ValueError(`expected 16 bytes for ${name}, found ${bytes.length}`);
        let value = 0n;
        for (const byte of bytes) value = value << 8n | BigInt(byte);
        return check(name === "i128" ? BigInt.asIntN(128, value) : value);
      }
      return check(BigInt(reader.int()));
    },
    defaultValue: () => 0n
  };
}
function float(name) {
  return {
    name,
    encode(writer, value) {
      if (typeof value !== "number") throw expected(`a number (${name})`, value);
      if (name === "f32") writer.f32(value);
      else writer.f64(value);
    },
    // Any number form is read, as serde does; an f32 field rounds a float 64 to f32.
    decode: name === "f32" ? (reader) => Math.fround(reader.float()) : (reader) => reader.float(),
    defaultValue: () => 0
  };
}
var PRIMITIVES = {
  u8: smallInt("u8"),
  u16: smallInt("u16"),
  u32: smallInt("u32"),
  i8: smallInt("i8"),
  i16: smallInt("i16"),
  i32: smallInt("i32"),
  u64: bigInt("u64"),
  i64: bigInt("i64"),
  u128: bigInt("u128"),
  i128: bigInt("i128"),
  f32: float("f32"),
  f64: float("f64"),
  bool: {
    name: "bool",
    encode(writer, value) {
      if (typeof value !== "boolean") throw expected("a boolean", value);
      writer.bool(value);
    },
    decode: (reader) => reader.bool(),
    defaultValue: () => false
  },
  str: {
    name: "String",
    encode(writer, value) {
      if (typeof value !== "string") throw expected("a string", value);
      writer.str(value);
    },
    decode: (reader) => reader.str(),
    defaultValue: () => ""
  },
  char: {
    name: "char",
    encode(writer, value) {
      if (typeof value !== "string" || !isOneChar(value)) throw expected("a one-character string (char)", value);
      writer.str(value);
    },
    decode(reader) {
      const value = reader.str();
      if (!isOneChar(value)) throw new ValueError(`expected one character, found ${JSON.stringify(value)}`);
      return value;
    },
    defaultValue: () => "\0"
  },
  unit: {
    name: "()",
    encode(writer, value) {
      if (value !== null && value !== void 0) throw expected("null (unit)", value);
      writer.nil();
    },
    decode(reader) {
      if (!reader.nil()) throw new ValueError(`expected nil (unit), found ${describeNext(reader)}`);
      return null;
    },
    defaultValue: () => null
  },
  player_id: {
    name: "PlayerId",
    encode(writer, value) {
      if (!isPlayerId(value)) throw expected("a player id (8 lowercase hex digits)", value);
      writer.uint(Number.parseInt(value, 16));
    },
    decode(reader) {
      const value = reader.int();
      if (typeof value !== "number" || value < 0 || value > 4294967295) {
        throw new ValueError(`a player id is a 32-bit unsigned integer, found ${value}`);
      }
      return value.toString(16).padStart(8, "0");
    },
    defaultValue: () => "00000000"
  },
  entity_id: {
    name: "EntityId",
    encode(writer, value) {
      if (!isEntityId(value)) throw expected("an entity id (an integer from 0 to 4294967295)", value);
      writer.uint(value);
    },
    decode(reader) {
      const value = reader.int();
      if (typeof value !== "number" || !isEntityId(value)) {
        throw new ValueError(`an entity id is a 32-bit unsigned integer, found ${value}`);
      }
      return value;
    },
    defaultValue: () => 0
  }
};
function isOneChar(value) {
  if (value.length === 0 || value.length > 2) return false;
  const code = value.codePointAt(0);
  const width = code > 65535 ? 2 : 1;
  return width === value.length && !(code >= 55296 && code <= 57343);
}
function describeNext(reader) {
  try {
    const value = reader.any();
    return found(value);
  } catch {
    return "an undecodable value";
  }
}
function option(inner) {
  return {
    name: `Option<${inner.name}>`,
    encode(writer, value) {
      if (value === null || value === void 0) writer.nil();
      else inner.encode(writer, value);
    },
    decode: (reader) => reader.nil() ? null : inner.decode(reader),
    defaultValue: () => null
  };
}
function readArrayOf(reader, what) {
  if (!reader.isArray()) throw new ValueError(`expected an array (${what}), found ${describeNext(reader)}`);
  const n = reader.arrayLen();
  reader.plausible(n);
  return n;
}
function seq(inner) {
  return {
    name: `Vec<${inner.name}>`,
    encode(writer, value) {
      if (!Array.isArray(value)) throw expected(`an array (Vec<${inner.name}>)`, value);
      writer.arrayLen(value.length);
      value.forEach((item, i) => within(`[${i}]`, () => inner.encode(writer, item)));
    },
    decode(reader) {
      const n = readArrayOf(reader, `Vec<${inner.name}>`);
      const out = new Array(n);
      for (let i = 0; i < n; i += 1) out[i] = within(`[${i}]`, () => inner.decode(reader));
      return out;
    },
    defaultValue: () => []
  };
}
function map(key2, value) {
  const name = `Map<${key2.name}, ${value.name}>`;
  return {
    name,
    encode(writer, input) {
      if (!(input instanceof Map)) throw expected(`a Map (${name})`, input);
      writer.mapLen(input.size);
      let i = 0;
      for (const [k, v] of input) {
        within(`key ${i}`, () => key2.encode(writer, k));
        within(`value ${i}`, () => value.encode(writer, v));
        i += 1;
      }
    },
    decode(reader) {
      if (!reader.isMap()) throw new ValueError(`expected a map (${name}), found ${describeNext(reader)}`);
      const n = reader.mapLen();
      reader.plausible(n * 2);
      const out = /* @__PURE__ */ new Map();
      for (let i = 0; i < n; i += 1) {
        const k = within(`key ${i}`, () => key2.decode(reader));
        out.set(k, within(`value ${i}`, () => value.decode(reader)));
      }
      return out;
    },
    defaultValue: () => /* @__PURE__ */ new Map()
  };
}
function positional(name, items) {
  return {
    name,
    encode(writer, value) {
      if (!Array.isArray(value) || value.length !== items.length) throw expected(`an array of ${items.length} (${name})`, value);
      writer.arrayLen(items.length);
      items.forEach((item, i) => within(`[${i}]`, () => item.encode(writer, value[i])));
    },
    decode(reader) {
      const n = readArrayOf(reader, name);
      if (n !== items.length) throw new ValueError(`expected ${items.length} elements (${name}), found ${n}`);
      return items.map((item, i) => within(`[${i}]`, () => item.decode(reader)));
    },
    defaultValue: () => items.map((item) => item.defaultValue())
  };
}
function namedStruct(name, fields) {
  return {
    name,
    encode(writer, value) {
      if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Map) {
        throw expected(`an object (${name})`, value);
      }
      const record = value;
      writer.arrayLen(fields.length);
      for (const field2 of fields) {
        within(`field \`${field2.name}\``, () => field2.codec.encode(writer, record[field2.name]));
      }
    },
    decode(reader) {
      const n = readArrayOf(reader, name);
      if (n !== fields.length) throw new ValueError(`expected ${fields.length} fields (${name}), found ${n}`);
      const out = {};
      for (const field2 of fields) out[field2.name] = within(`field \`${field2.name}\``, () => field2.codec.decode(reader));
      return out;
    },
    defaultValue() {
      const out = {};
      for (const field2 of fields) out[field2.name] = field2.codec.defaultValue();
      return out;
    }
  };
}
function unitStruct(name) {
  return {
    name,
    encode(writer, value) {
      if (value !== null && value !== void 0) throw expected(`null (${name})`, value);
      writer.arrayLen(0);
    },
    decode(reader) {
      if (reader.nil()) return null;
      if (reader.isArray() && reader.arrayLen() === 0) return null;
      throw new ValueError(`expected an empty array or nil (${name}), found ${describeNext(reader)}`);
    },
    defaultValue: () => null
  };
}
function fieldsCodec(name, kind, fields) {
  if (kind === "unit") return unitStruct(name);
  if (kind === "named") return namedStruct(name, fields);
  if (fields.length === 1) {
    const inner = fields[0].codec;
    return { ...inner, name };
  }
  return positional(name, fields.map((field2) => field2.codec));
}
function enumCodec(name, variants) {
  const byName = new Map(variants.map((variant) => [variant.schema.name, variant]));
  const names2 = variants.map((variant) => variant.schema.name).join(", ");
  const lookup = (variant) => {
    const found2 = byName.get(variant);
    if (found2 === void 0) throw new ValueError(`unknown variant \`${variant}\` of ${name} (expected one of ${names2})`);
    return found2;
  };
  return {
    name,
    encode(writer, value) {
      if (typeof value === "string") {
        const variant2 = lookup(value);
        if (variant2.schema.kind !== "unit") throw new ValueError(`variant \`${value}\` of ${name} has fields: write { ${value}: … }`);
        writer.str(value);
        return;
      }
      if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Map) {
        throw expected(`a variant of ${name} ("Variant" or { Variant: … })`, value);
      }
      const keys = Object.keys(value);
      if (keys.length !== 1) throw new ValueError(`expected an object with exactly one key, the variant of ${name}; found ${keys.length} keys`);
      const variantName = keys[0];
      const variant = lookup(variantName);
      if (variant.schema.kind === "unit") {
        writer.str(variantName);
        return;
      }
      writer.mapLen(1);
      writer.str(variantName);
      within(`variant \`${variantName}\``, () => variant.payload.encode(writer, value[variantName]));
    },
    decode(reader) {
      if (reader.isStr()) {
        const variantName2 = reader.str();
        const variant2 = lookup(variantName2);
        if (variant2.schema.kind !== "unit") throw new ValueError(`variant \`${variantName2}\` of ${name} came without its fields`);
        return variantName2;
      }
      if (!reader.isMap()) throw new ValueError(`expected a variant of ${name} (a string or a map of one entry), found ${describeNext(reader)}`);
      const n = reader.mapLen();
      if (n !== 1) throw new ValueError(`expected a map of one entry (a variant of ${name}), found ${n} entries`);
      if (!reader.isStr()) throw new ValueError(`expected a variant name, found ${describeNext(reader)}`);
      const variantName = reader.str();
      const variant = lookup(variantName);
      const payload = within(`variant \`${variantName}\``, () => variant.payload.decode(reader));
      return variant.schema.kind === "unit" ? variantName : { [variantName]: payload };
    },
    defaultValue() {
      const unit = variants.find((variant) => variant.schema.kind === "unit");
      if (unit !== void 0) return unit.schema.name;
      const first = variants[0];
      return first === void 0 ? null : { [first.schema.name]: first.payload.defaultValue() };
    }
  };
}
function maskBits(mask) {
  const out = [];
  if (typeof mask === "number") {
    if (mask < 0) throw new ValueError(`a field mask cannot be negative (${mask})`);
    for (let i = 0; mask > 0; i += 1) {
      if (mask % 2 === 1) out.push(i);
      mask = Math.floor(mask / 2);
    }
  } else {
    if (mask < 0n) throw new ValueError(`a field mask cannot be negative (${mask})`);
    for (let i = 0; mask > 0n; i += 1) {
      if ((mask & 1n) === 1n) out.push(i);
      mask >>= 1n;
    }
  }
  return out;
}
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Map);
}
function mergeFields(fields, current, delta) {
  const changes = delta;
  const out = { ...current };
  for (const field2 of fields) {
    if (!Object.hasOwn(changes, field2.name)) continue;
    const value = changes[field2.name];
    out[field2.name] = field2.codec.merge === void 0 ? value : field2.codec.merge(current[field2.name], value);
  }
  return out;
}
function nestedState(name, fields) {
  const known = new Set(fields.map((field2) => field2.name));
  const defaults = () => {
    const out = {};
    for (const field2 of fields) out[field2.name] = field2.codec.defaultValue();
    return out;
  };
  return {
    name,
    encode(writer, value) {
      if (!isRecord(value)) throw expected(`an object of ${name}'s fields`, value);
      const stray = Object.keys(value).find((key2) => !known.has(key2));
      if (stray !== void 0) throw new ValueError(`${name} has no synced field \`${stray}\``);
      const present = fields.map((field2, index) => ({ field: field2, index })).filter(({ field: field2 }) => Object.hasOwn(value, field2.name));
      let mask = 0n;
      for (const { index } of present) mask |= 1n << BigInt(index);
      writer.arrayLen(1 + present.length);
      writer.uint(mask);
      for (const { field: field2 } of present) within(`field \`${field2.name}\``, () => field2.codec.encode(writer, value[field2.name]));
    },
    decode(reader) {
      const n = readArrayOf(reader, `[mask, value…] of ${name}`);
      if (n < 1) throw new ValueError(`expected [mask, value…] (${name}), found an empty array`);
      const indexes = maskBits(reader.int());
      const beyond = indexes.find((i) => i >= fields.length);
      if (beyond !== void 0) {
        throw new ValueError(`state \`${name}\` has ${fields.length} synced field(s); the delta names field index ${beyond}`);
      }
      if (n !== 1 + indexes.length) {
        const values = n - 1;
        throw new ValueError(`${name}: the mask names ${indexes.length} field${indexes.length === 1 ? "" : "s"}, but ${values} value${values === 1 ? "" : "s"} follow`);
      }
      const out = {};
      for (const index of indexes) {
        const field2 = fields[index];
        out[field2.name] = within(`field \`${field2.name}\``, () => field2.codec.decode(reader));
      }
      return out;
    },
    defaultValue: defaults,
    merge(current, delta) {
      if (!isRecord(delta)) return delta;
      return mergeFields(fields, isRecord(current) ? current : defaults(), delta);
    }
  };
}
function sameValue(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((byte, i) => byte === b[i]);
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    const left2 = [...a];
    const right2 = [...b];
    return left2.every(([key2, value], i) => sameValue(key2, right2[i][0]) && sameValue(value, right2[i][1]));
  }
  const left = Object.keys(a);
  const right = b;
  return left.length === Object.keys(right).length && left.every((key2) => Object.hasOwn(right, key2) && sameValue(a[key2], right[key2]));
}
function findKey(map2, key2) {
  if (typeof key2 !== "object" || key2 === null) return { found: map2.has(key2), key: key2 };
  for (const known of map2.keys()) if (sameValue(known, key2)) return { found: true, key: known };
  return { found: false, key: key2 };
}
function isSyncMapDelta(value) {
  return isRecord(value) && typeof value.replace === "boolean" && Array.isArray(value.removed) && Array.isArray(value.entries);
}
function isSyncVecDelta(value) {
  return isRecord(value) && typeof value.len === "number" && Array.isArray(value.entries);
}
function isSyncDequeDelta(value) {
  return isRecord(value) && typeof value.capacity === "number" && (value.drop === null || typeof value.drop === "number") && Array.isArray(value.entries);
}
var MAX_DEQUE_CAPACITY = 1024;
function entryValue(codec, before, delta) {
  return codec.merge === void 0 ? delta : codec.merge(before, delta);
}
function readPair(reader, what) {
  const n = readArrayOf(reader, what);
  if (n !== 2) throw new ValueError(`expected ${what}, found ${n} elements`);
}
function syncMap(name, key2, value) {
  return {
    name,
    encode(writer, input) {
      const delta = input instanceof Map ? { replace: true, removed: [], entries: [...input] } : input;
      if (!isSyncMapDelta(delta)) throw expected(`a Map or { replace, removed, entries } (${name})`, input);
      writer.arrayLen(3);
      writer.bool(delta.replace);
      writer.arrayLen(delta.removed.length);
      delta.removed.forEach((removed, i) => within(`removed[${i}]`, () => key2.encode(writer, removed)));
      writer.arrayLen(delta.entries.length);
      delta.entries.forEach(
        (entry, i) => within(`entry ${i}`, () => {
          if (!Array.isArray(entry) || entry.length !== 2) throw expected("a [key, value] pair", entry);
          writer.arrayLen(2);
          within("key", () => key2.encode(writer, entry[0]));
          within("value", () => value.encode(writer, entry[1]));
        })
      );
    },
    decode(reader) {
      const n = readArrayOf(reader, `[replace, removed, entries] of ${name}`);
      if (n !== 3) throw new ValueError(`expected [replace, removed, entries] (${name}), found ${n} elements`);
      const replace = within("replace", () => reader.bool());
      const removed = within("removed", () => {
        const count = readArrayOf(reader, "removed keys");
        return Array.from({ length: count }, (_, i) => within(`[${i}]`, () => key2.decode(reader)));
      });
      const entries = within("entries", () => {
        const count = readArrayOf(reader, "entries");
        return Array.from(
          { length: count },
          (_, i) => within(`[${i}]`, () => {
            readPair(reader, "[key, value]");
            const k = within("key", () => key2.decode(reader));
            return [k, within("value", () => value.decode(reader))];
          })
        );
      });
      return { replace, removed, entries };
    },
    defaultValue: () => /* @__PURE__ */ new Map(),
    merge(current, delta) {
      if (!isSyncMapDelta(delta)) return delta;
      const out = new Map(delta.replace || !(current instanceof Map) ? [] : current);
      for (const removed of delta.removed) {
        const at = findKey(out, removed);
        if (at.found) out.delete(at.key);
      }
      for (const [k, entry] of delta.entries) {
        const at = findKey(out, k);
        out.set(at.key, entryValue(value, at.found ? out.get(at.key) : value.defaultValue(), entry));
      }
      return out;
    }
  };
}
function syncVec(name, item) {
  return {
    name,
    encode(writer, input) {
      const delta = Array.isArray(input) ? { len: input.length, entries: input.map((value, i) => [i, value]) } : input;
      if (!isSyncVecDelta(delta)) throw expected(`an array or { len, entries } (${name})`, input);
      if (!Number.isSafeInteger(delta.len) || delta.len < 0) throw new ValueError(`a list's length is a non-negative integer, found ${delta.len}`);
      writer.arrayLen(2);
      writer.uint(delta.len);
      writer.arrayLen(delta.entries.length);
      delta.entries.forEach(
        (entry, i) => within(`entry ${i}`, () => {
          if (!Array.isArray(entry) || entry.length !== 2) throw expected("an [index, value] pair", entry);
          const [index, value] = entry;
          if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0 || index >= delta.len) {
            throw new ValueError(`an entry's index is below the length ${delta.len}, found ${found(index)}`);
          }
          writer.arrayLen(2);
          writer.uint(index);
          within(`[${index}]`, () => item.encode(writer, value));
        })
      );
    },
    decode(reader) {
      const n = readArrayOf(reader, `[len, entries] of ${name}`);
      if (n !== 2) throw new ValueError(`expected [len, entries] (${name}), found ${n} elements`);
      const len = within("len", () => reader.uint("a length"));
      const entries = within("entries", () => {
        const count = readArrayOf(reader, "entries");
        return Array.from(
          { length: count },
          (_, i) => within(`entry ${i}`, () => {
            readPair(reader, "[index, value]");
            const index = reader.uint("an index");
            if (index >= len) throw new ValueError(`an entry at index ${index} of a list of ${len} items`);
            return [index, within(`[${index}]`, () => item.decode(reader))];
          })
        );
      });
      return { len, entries };
    },
    defaultValue: () => [],
    merge(current, delta) {
      if (!isSyncVecDelta(delta)) return delta;
      const items = Array.isArray(current) ? current : [];
      const len = Math.min(delta.len, items.length + delta.entries.length);
      const out = items.slice(0, len);
      while (out.length < len) out.push(item.defaultValue());
      for (const [index, entry] of delta.entries) {
        if (index < len) out[index] = entryValue(item, out[index], entry);
      }
      return out;
    }
  };
}
function syncDeque(name, item) {
  const checkBounds = (capacity, drop, pushed) => {
    if (capacity > MAX_DEQUE_CAPACITY) throw new ValueError(`a deque of capacity ${capacity}, past the limit of ${MAX_DEQUE_CAPACITY}`);
    if (drop !== null && drop > capacity) throw new ValueError(`drops ${drop} entries from a deque that holds at most ${capacity}`);
    if (pushed > capacity) throw new ValueError(`pushes ${pushed} entries into a deque of capacity ${capacity}`);
  };
  const count = (value, what) => {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw new ValueError(`${what} is a non-negative integer, found ${found(value)}`);
    return value;
  };
  return {
    name,
    encode(writer, input) {
      const delta = Array.isArray(input) ? { capacity: input.length, drop: null, entries: input } : input;
      if (!isSyncDequeDelta(delta)) throw expected(`an array or { capacity, drop, entries } (${name})`, input);
      const capacity = count(delta.capacity, "a deque's capacity");
      const drop = delta.drop === null ? null : count(delta.drop, "a deque's drop");
      checkBounds(capacity, drop, delta.entries.length);
      writer.arrayLen(3);
      writer.uint(capacity);
      if (drop === null) writer.nil();
      else writer.uint(drop);
      writer.arrayLen(delta.entries.length);
      delta.entries.forEach((entry, i) => within(`entry ${i}`, () => item.encode(writer, entry)));
    },
    decode(reader) {
      const n = readArrayOf(reader, `[capacity, drop, entries] of ${name}`);
      if (n !== 3) throw new ValueError(`expected [capacity, drop, entries] (${name}), found ${n} elements`);
      const capacity = within("capacity", () => reader.uint("a capacity"));
      const drop = within("drop", () => reader.nil() ? null : reader.uint("a count"));
      const entries = within("entries", () => {
        const pushed = readArrayOf(reader, "entries");
        checkBounds(capacity, drop, pushed);
        return Array.from({ length: pushed }, (_, i) => within(`entry ${i}`, () => item.decode(reader)));
      });
      checkBounds(capacity, drop, 0);
      return { capacity, drop, entries };
    },
    defaultValue: () => [],
    merge(current, delta) {
      if (!isSyncDequeDelta(delta)) return delta;
      const kept = delta.drop === null || !Array.isArray(current) ? [] : current.slice(delta.drop);
      const out = [...kept, ...delta.entries.map((entry) => entryValue(item, item.defaultValue(), entry))];
      return out.slice(Math.max(0, out.length - Math.min(delta.capacity, MAX_DEQUE_CAPACITY)));
    }
  };
}
var opaque = (hex) => ({
  name: `opaque ${hex}`,
  encode(writer, value) {
    try {
      writer.any(value);
    } catch (error) {
      throw new ValueError(error instanceof Error ? error.message : String(error));
    }
  },
  decode: (reader) => reader.any(),
  defaultValue: () => null
});
var Codecs = class {
  constructor(types) {
    this.types = types;
  }
  types;
  named = /* @__PURE__ */ new Map();
  /** The codec of a type expression. */
  of(type) {
    if (typeof type === "string") {
      const codec = PRIMITIVES[type];
      if (codec === void 0) throw new Error(`unknown primitive type \`${type}\``);
      return codec;
    }
    if ("option" in type) return option(this.of(type.option));
    if ("seq" in type) return seq(this.of(type.seq));
    if ("map" in type) return map(this.of(type.map[0]), this.of(type.map[1]));
    if ("array" in type) {
      const [item, n] = type.array;
      const codec = this.of(item);
      return positional(typeName(type), Array.from({ length: n }, () => codec));
    }
    if ("tuple" in type) return positional(typeName(type), type.tuple.map((item) => this.of(item)));
    if ("ref" in type) return this.ref(type.ref);
    if ("sync_map" in type) return syncMap(typeName(type), this.of(type.sync_map[0]), this.of(type.sync_map[1]));
    if ("sync_vec" in type) return syncVec(typeName(type), this.of(type.sync_vec));
    if ("sync_deque" in type) return syncDeque(typeName(type), this.of(type.sync_deque));
    return opaque(type.opaque);
  }
  /** The codec of a list of fields, each with its name. */
  fields(fields) {
    return fields.map((field2) => ({ name: field2.name, codec: this.of(field2.type) }));
  }
  ref(name) {
    const known = this.named.get(name);
    if (known !== void 0) return known;
    const def = Object.hasOwn(this.types, name) ? this.types[name] : void 0;
    if (def === void 0) throw new Error(`reference to undefined type \`${name}\``);
    if ("state" in def) {
      const codec2 = nestedState(name, syncedFields(def.state).map((field2) => ({ name: field2.name, codec: this.of(field2.type) })));
      this.named.set(name, codec2);
      return codec2;
    }
    const codec = "struct" in def ? fieldsCodec(name, def.struct.kind, this.fields(def.struct.fields)) : enumCodec(
      name,
      def.enum.map((variant) => ({
        schema: variant,
        payload: fieldsCodec(`${name}::${variant.name}`, variant.kind, this.fields(variant.fields))
      }))
    );
    this.named.set(name, codec);
    return codec;
  }
};

// clients/typescript/src/fingerprint.ts
var utf8 = new TextEncoder();
function fingerprintHex(value) {
  return value.toString(16).padStart(16, "0");
}

// clients/typescript/src/frames.ts
var FrameKind = {
  Welcome: 0,
  Event: 1,
  Sync: 2,
  Ping: 3,
  Pong: 4
};
var SyncFlag = {
  /** The frame begins a snapshot: forget every mirrored player, entity and the server state. */
  Full: 1,
  /** The snapshot continues in the next frame(s). */
  More: 2
};
function subprotocol(fingerprint) {
  return `nodelink.${WIRE_VERSION}.${fingerprint}`;
}
function resumeSubprotocol(offer) {
  return `nodelink.resume.${offer.token}.${offer.received}.${offer.forgotten}`;
}
function frameKind(bytes) {
  try {
    const reader = new Reader(bytes);
    return reader.arrayLen() > 0 ? reader.uint("frame kind") : null;
  } catch {
    return null;
  }
}
function payloadError(name, error) {
  const value = asValueError(error);
  return new EncodeError([`event \`${name}\``, ...value.path].join(": "), value.reason);
}
function writeEventFields(writer, event, data) {
  if (event.kind === "unit") {
    if (data !== void 0 && data !== null) throw new ValueError(`takes no payload, found ${typeof data}`);
    return;
  }
  if (event.kind === "tuple") {
    if (!Array.isArray(data) || data.length !== event.fields.length) {
      throw new ValueError(`expected an array of ${event.fields.length} field${event.fields.length === 1 ? "" : "s"}`);
    }
    event.fields.forEach((field2, i) => within(`field ${i}`, () => field2.codec.encode(writer, data[i])));
    return;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ValueError("expected an object of its fields");
  const record = data;
  for (const field2 of event.fields) within(`field \`${field2.name}\``, () => field2.codec.encode(writer, record[field2.name]));
}
function encodeEventWith(events, direction, name, data) {
  const event = events.get(name);
  if (event === void 0) {
    throw new EncodeError(`event \`${name}\``, `${direction} has no such event (it has ${[...events.keys()].map((n) => `\`${n}\``).join(", ")})`);
  }
  const writer = new Writer();
  writer.arrayLen(2 + event.fields.length);
  writer.uint(FrameKind.Event);
  writer.str(name);
  try {
    writeEventFields(writer, event, data);
  } catch (error) {
    throw payloadError(name, error);
  }
  return writer.finish();
}
function encodeClientEvent(protocol, name, data) {
  return encodeEventWith(protocol.toServer, protocol.schema.to_server.name, name, data);
}
function readEvent(reader, length, events, direction) {
  if (length < 2) throw new DecodeError("event", "the frame has no event name");
  let name;
  try {
    name = reader.str();
  } catch (error) {
    throw new DecodeError("event", `the name: ${asValueError(error).reason}`);
  }
  const event = events.get(name);
  if (event === void 0) throw new DecodeError(`event \`${name}\``, `unknown event (not in ${direction})`);
  const count = length - 2;
  if (count !== event.fields.length) {
    throw new DecodeError(`event \`${name}\``, `expected ${event.fields.length} field${event.fields.length === 1 ? "" : "s"}, found ${count}`);
  }
  const where = (field2, i) => event.kind === "tuple" ? `field ${i}` : `field \`${field2.name}\``;
  try {
    if (event.kind === "unit") return { name, data: void 0 };
    if (event.kind === "tuple") {
      return { name, data: event.fields.map((field2, i) => within(where(field2, i), () => field2.codec.decode(reader))) };
    }
    const data = {};
    event.fields.forEach((field2, i) => {
      data[field2.name] = within(where(field2, i), () => field2.codec.decode(reader));
    });
    return { name, data };
  } catch (error) {
    const value = asValueError(error);
    throw new DecodeError([`event \`${name}\``, ...value.path].join(": "), value.reason);
  }
}
function maskFields(mask, count) {
  const out = maskBits(mask);
  const beyond = out.find((i) => i >= count);
  if (beyond !== void 0) throw new ValueError(`mask bit ${beyond} is set, but the state has ${count} field${count === 1 ? "" : "s"}`);
  return out;
}
function readFields(reader, state, length, before) {
  const indexes = maskFields(reader.int(), state.fields.length);
  if (state.oneOf && indexes.length > 1) throw new ValueError(`${state.name}: a value holds one kind, the mask names ${indexes.length}`);
  if (length !== before + 1 + indexes.length) {
    throw new ValueError(`the mask names ${indexes.length} field${indexes.length === 1 ? "" : "s"}, but ${length - before - 1} value${length - before - 1 === 1 ? "" : "s"} follow`);
  }
  const fields = {};
  for (const index of indexes) {
    const field2 = state.fields[index];
    fields[field2.name] = within(`field \`${field2.name}\``, () => field2.codec.decode(reader));
  }
  return fields;
}
function readEntityId(reader, what) {
  const id = reader.uint(what);
  if (!isEntityId(id)) throw new ValueError(`an entity id is a 32-bit unsigned integer, found ${id}`);
  return id;
}
function readSync(reader, length, protocol) {
  if (length !== 8 && length !== 10) {
    throw new ValueError(`a sync frame has 8 elements (10 with entity changes), found ${length}`);
  }
  const tick = within("tick", () => reader.uint("tick"));
  const online = within("online", () => reader.uint("online count"));
  const flags = within("flags", () => {
    const value = reader.uint("flags");
    if (value > (SyncFlag.Full | SyncFlag.More)) throw new ValueError(`unknown bits set (${value}): only full (1) and more (2) exist`);
    return value;
  });
  const left = within("left", () => {
    const n = reader.arrayLen();
    reader.plausible(n);
    const out = [];
    for (let i = 0; i < n; i += 1) out.push(reader.uint("net id"));
    return out;
  });
  const joined = within("joined", () => {
    const n = reader.arrayLen();
    reader.plausible(n);
    const out = [];
    for (let i = 0; i < n; i += 1) {
      within(`[${i}]`, () => {
        const pair = reader.arrayLen();
        if (pair !== 2) throw new ValueError(`expected [net_id, player_id], found ${pair} elements`);
        const netId = reader.uint("net id");
        const id = reader.uint("player id");
        if (id > 4294967295) throw new ValueError(`a player id is a 32-bit unsigned integer, found ${id}`);
        out.push({ netId, id: playerIdFromNumber(id) });
      });
    }
    return out;
  });
  const players = within("players", () => {
    const n = reader.arrayLen();
    reader.plausible(n);
    const out = [];
    for (let i = 0; i < n; i += 1) {
      within(`[${i}]`, () => {
        const entry = reader.arrayLen();
        if (entry < 2) throw new ValueError(`an entry is [net_id, mask, value…], found ${entry} elements`);
        const netId = reader.uint("net id");
        out.push({ netId, fields: within(`net id ${netId}`, () => readFields(reader, protocol.state, entry, 1)) });
      });
    }
    return out;
  });
  const server = within("server", () => {
    if (reader.nil()) return null;
    const n = reader.arrayLen();
    if (n < 1) throw new ValueError("an empty array: expected [mask, value…]");
    return readFields(reader, protocol.serverState, n, 0);
  });
  if (length === 8) return { tick, online, flags, left, joined, players, server };
  const despawned = within("despawned", () => {
    const n = reader.arrayLen();
    reader.plausible(n);
    const out = [];
    for (let i = 0; i < n; i += 1) out.push(within(`[${i}]`, () => readEntityId(reader, "entity id")));
    return out;
  });
  const entities = within("entities", () => {
    const n = reader.arrayLen();
    reader.plausible(n);
    const entity = protocol.entity;
    if (entity === null) {
      if (despawned.length === 0 && n === 0) return [];
      throw new ValueError(
        `the frame carries entity changes (${despawned.length} despawned, ${n} entr${n === 1 ? "y" : "ies"}), but this protocol has no entities (\`type Entity = ()\`): the server was built from another protocol`
      );
    }
    const out = [];
    for (let i = 0; i < n; i += 1) {
      within(`[${i}]`, () => {
        const entry = reader.arrayLen();
        if (entry < 2) throw new ValueError(`an entry is [entity_id, mask, value…], found ${entry} elements`);
        const id = readEntityId(reader, "entity id");
        out.push({ id, fields: within(`entity ${id}`, () => readFields(reader, entity, entry, 1)) });
      });
    }
    return out;
  });
  return { tick, online, flags, left, joined, players, server, despawned, entities };
}
function frameError(what, error) {
  if (error instanceof DecodeError || error instanceof ProtocolMismatchError) return error;
  const value = asValueError(error);
  return new DecodeError([what, ...value.path].join(": "), value.reason);
}
function decodeServerFrame(protocol, bytes) {
  const reader = new Reader(bytes);
  let length;
  let kind;
  try {
    length = reader.arrayLen();
    if (length < 1) throw new ValueError("an empty array");
    kind = reader.uint("frame kind");
  } catch (error) {
    throw frameError("frame", error);
  }
  let frame2;
  switch (kind) {
    case FrameKind.Welcome:
      frame2 = { kind: "welcome", welcome: readWelcome(reader, length, protocol) };
      break;
    case FrameKind.Event:
      frame2 = { kind: "event", event: readEvent(reader, length, protocol.toClient, protocol.schema.to_client.name) };
      break;
    case FrameKind.Sync:
      try {
        frame2 = { kind: "sync", sync: readSync(reader, length, protocol) };
      } catch (error) {
        throw frameError("sync frame", error);
      }
      break;
    case FrameKind.Ping:
      try {
        if (length !== 3) throw new ValueError(`a ping has 3 elements, found ${length}`);
        frame2 = { kind: "ping", seq: reader.uint("ping sequence"), rttUs: reader.uint("round trip") };
      } catch (error) {
        throw frameError("ping", error);
      }
      break;
    default:
      throw new DecodeError("frame", `unknown frame kind ${kind}`);
  }
  if (!reader.done) throw new DecodeError(frame2.kind === "event" ? `event \`${frame2.event.name}\`` : `${frame2.kind} frame`, `${reader.remaining} bytes after the frame`);
  return frame2;
}
function readWelcome(reader, length, protocol) {
  try {
    if (length < 2) throw new ValueError("no wire version");
    const wireVersion = reader.uint("wire version");
    if (wireVersion !== WIRE_VERSION) {
      throw new ProtocolMismatchError(protocol.fingerprint, null, WIRE_VERSION, wireVersion);
    }
    if (length < 7 || length > 9) throw new ValueError(`a welcome has 7 to 9 elements, found ${length}`);
    const fingerprint = within("fingerprint", () => {
      const value = reader.int();
      if (typeof value === "number" && value < 0) throw new ValueError(`negative (${value})`);
      return fingerprintHex(BigInt(value));
    });
    const id = within("player id", () => {
      const value = reader.uint("player id");
      if (value > 4294967295) throw new ValueError(`a player id is a 32-bit unsigned integer, found ${value}`);
      return playerIdFromNumber(value);
    });
    const netId = within("net id", () => reader.uint("net id"));
    const tickRate = within("tick rate", () => reader.uint("tick rate"));
    const settings = within("settings", () => readSettings(reader));
    const resumeToken = length >= 8 ? within("resume token", () => {
      const token = reader.str();
      if (!/^[0-9a-f]{32}$/i.test(token)) throw new ValueError(`expected 32 hex digits, found ${JSON.stringify(token)}`);
      return token;
    }) : null;
    const resumed = length === 9 ? within("events received", () => reader.uint("events received")) : null;
    return { wireVersion, fingerprint, id, netId, tickRate, settings, resumeToken, resumed };
  } catch (error) {
    throw frameError("welcome", error);
  }
}
var SETTINGS_KEYS = {
  ping_interval_ms: "pingIntervalMs",
  idle_timeout_ms: "idleTimeoutMs",
  max_frame_len: "maxFrameLen",
  max_invalid_frames: "maxInvalidFrames",
  slow_consumer_timeout_ms: "slowConsumerTimeoutMs",
  resume_grace_ms: "resumeGraceMs",
  resume_buffer_len: "resumeBufferLen"
};
var RATE_KEYS = ["rate_limit_per_second", "rate_limit_burst", "rate_limit_disconnect_after"];
var TEXT_KEYS = {
  match_code: "matchCode",
  match_kind: "matchKind"
};
function readSettings(reader) {
  const count = reader.mapLen();
  reader.plausible(count);
  const values = /* @__PURE__ */ new Map();
  const texts = /* @__PURE__ */ new Map();
  for (let i = 0; i < count; i += 1) {
    const key2 = reader.str();
    if (values.has(key2) || texts.has(key2)) throw new ValueError(`\`${key2}\` appears twice`);
    if (Object.hasOwn(TEXT_KEYS, key2)) {
      texts.set(key2, within(`\`${key2}\``, () => reader.str()));
    } else if (key2 === "rate_limit_per_second") {
      values.set(key2, within(`\`${key2}\``, () => reader.float()));
    } else if (Object.hasOwn(SETTINGS_KEYS, key2) || key2 === "rate_limit_burst" || key2 === "rate_limit_disconnect_after") {
      values.set(
        key2,
        within(`\`${key2}\``, () => {
          const value = reader.int();
          if (value < 0) throw new ValueError(`negative (${value})`);
          return Number(value);
        })
      );
    } else {
      reader.skip();
      values.set(key2, Number.NaN);
    }
  }
  const required = (key2) => {
    const value = values.get(key2);
    if (value === void 0) throw new ValueError(`no \`${key2}\``);
    return value;
  };
  const rates = RATE_KEYS.filter((key2) => values.has(key2));
  if (rates.length !== 0 && rates.length !== RATE_KEYS.length) {
    throw new ValueError(`\`${RATE_KEYS.join("`, `")}\` come together or not at all`);
  }
  const settings = {};
  for (const [key2, field2] of Object.entries(SETTINGS_KEYS)) settings[field2] = required(key2);
  settings["rateLimit"] = rates.length === 0 ? null : { perSecond: required("rate_limit_per_second"), burst: required("rate_limit_burst"), disconnectAfter: required("rate_limit_disconnect_after") };
  for (const [key2, field2] of Object.entries(TEXT_KEYS)) settings[field2] = texts.get(key2) ?? null;
  return settings;
}
function encodePong(seq2) {
  const writer = new Writer(8);
  writer.arrayLen(2);
  writer.uint(FrameKind.Pong);
  writer.uint(seq2);
  return writer.finish();
}

// clients/typescript/src/protocol.ts
var compiled = /* @__PURE__ */ new WeakMap();
function compileEvents(codecs, events) {
  return new Map(events.map((event) => [event.name, { name: event.name, kind: event.kind, fields: codecs.fields(event.fields) }]));
}
function compileState(codecs, state) {
  const fields = syncedFields(state).map((field2) => ({ name: field2.name, codec: codecs.of(field2.type) }));
  if (state?.one_of === true) return compileKinds(state.name, fields);
  return {
    name: state?.name ?? "()",
    fields,
    oneOf: false,
    defaults() {
      const out = {};
      for (const field2 of fields) out[field2.name] = field2.codec.defaultValue();
      return out;
    },
    apply: (current, delta) => mergeFields(fields, current, delta)
  };
}
function compileKinds(name, fields) {
  const first = fields[0];
  return {
    name,
    fields,
    oneOf: true,
    defaults: () => ({ [first.name]: first.codec.defaultValue() }),
    apply(current, delta) {
      const kind = fields.find((field2) => Object.hasOwn(delta, field2.name));
      if (kind === void 0) return { ...current };
      const same = Object.hasOwn(current, kind.name);
      return mergeFields([kind], same ? current : {}, delta);
    }
  };
}
function compileProtocol(schema2) {
  const known = compiled.get(schema2);
  if (known !== void 0) return known;
  const valid = validateSchema(schema2);
  if (valid.wire_version !== WIRE_VERSION) {
    throw new SchemaError("$.wire_version", `this client speaks wire version ${WIRE_VERSION}, the schema is for version ${valid.wire_version}`);
  }
  const codecs = new Codecs(valid.types);
  const protocol = {
    schema: valid,
    fingerprint: valid.fingerprint,
    toServer: compileEvents(codecs, valid.to_server.events),
    toClient: compileEvents(codecs, valid.to_client.events),
    state: compileState(codecs, valid.state),
    serverState: compileState(codecs, valid.server_state),
    entity: valid.entity === void 0 ? null : compileState(codecs, valid.entity),
    options: valid.options === void 0 ? null : codecs.of(valid.options),
    metadata: valid.metadata === void 0 ? null : codecs.of(valid.metadata)
  };
  compiled.set(schema2, protocol);
  return protocol;
}

// clients/typescript/src/matchmaking.ts
var VERB = "match";
var KIND = "kind";
var CODE = "code";
var OPTIONS = "options";
var PRIVATE = "private";
var PARAMETERS = [VERB, KIND, CODE, OPTIONS, PRIVATE];
var LISTING_FRAME = 5;
var MatchRequest = class _MatchRequest {
  constructor(params) {
    this.params = params;
  }
  params;
  /**
   * A new match of the protocol's kind made from `options` (a value of the
   * schema's `options` type; ignored when the protocol has none); `isPrivate`: not
   * listed, joined only by its code. Throws {@link EncodeError} for options that do
   * not fit the type, and {@link SchemaError} for a schema without a `kind`.
   */
  static create(schema2, options, isPrivate = false) {
    const protocol = compileProtocol(schema2);
    const params = [
      [VERB, "create"],
      [KIND, kindOf(protocol)],
      ...optionsParam(protocol, options)
    ];
    if (isPrivate) params.push([PRIVATE, "1"]);
    return new _MatchRequest(params);
  }
  /** The match with this code (codes are read case-insensitively; sent in capitals). */
  static join(code) {
    return new _MatchRequest([
      [VERB, "join"],
      [CODE, code.trim().toUpperCase()]
    ]);
  }
  /**
   * A listed match of the protocol's kind that suits `options` (by the kind's
   * filter on each match's metadata), or a new one made from them. Throws as
   * {@link create}.
   */
  static find(schema2, options) {
    const protocol = compileProtocol(schema2);
    return new _MatchRequest([[VERB, "find"], [KIND, kindOf(protocol)], ...optionsParam(protocol, options)]);
  }
  /** The listed matches of a kind, answered with one listing frame. */
  static list(kind) {
    return new _MatchRequest([
      [VERB, "list"],
      [KIND, kind]
    ]);
  }
  /** Whether `url`'s query asks for a match (has a `match` parameter); one that does not asks for the server's default match. */
  static namesAMatch(url) {
    const query2 = splitUrl(url).query;
    return query2.split("&").some((pair) => keyOf(pair) === VERB);
  }
  /** `url` with this request's parameters added to its query (and any earlier matchmaking parameters of its query removed). */
  apply(url) {
    const { path, query: query2, fragment } = splitUrl(url);
    const pairs = query2.split("&").filter((pair) => pair !== "" && !PARAMETERS.includes(keyOf(pair)));
    pairs.push(...this.params.map(([key2, value]) => `${key2}=${percentEncode(value)}`));
    return `${path}?${pairs.join("&")}${fragment === null ? "" : `#${fragment}`}`;
  }
  /** The query parameters, as written. */
  toString() {
    return this.params.map(([key2, value]) => `${key2}=${percentEncode(value)}`).join("&");
  }
};
function kindOf(protocol) {
  const kind = protocol.schema.kind;
  if (kind === void 0) {
    throw new SchemaError("$.kind", "missing: this schema was printed by a nodelink without matches; print it again to create, find or list matches");
  }
  return kind;
}
function optionsParam(protocol, options) {
  if (protocol.options === null) return [];
  const writer = new Writer(32);
  try {
    protocol.options.encode(writer, options);
  } catch (error) {
    const value = asValueError(error);
    throw new EncodeError(["match options", ...value.path].join(": "), value.reason);
  }
  return [[OPTIONS, encodeBase64url(writer.finish())]];
}
function splitUrl(url) {
  const hash = url.indexOf("#");
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? null : url.slice(hash + 1);
  const question = base.indexOf("?");
  return question < 0 ? { path: base, query: "", fragment } : { path: base.slice(0, question), query: base.slice(question + 1), fragment };
}
function keyOf(pair) {
  const equals = pair.indexOf("=");
  return equals < 0 ? pair : pair.slice(0, equals);
}
var utf82 = new TextEncoder();
function percentEncode(value) {
  let out = "";
  for (const byte of utf82.encode(value)) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
var BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
function encodeBase64url(bytes) {
  let out = "";
  for (let at = 0; at < bytes.length; at += 3) {
    const chunk = bytes.subarray(at, at + 3);
    const n = chunk[0] << 16 | (chunk[1] ?? 0) << 8 | (chunk[2] ?? 0);
    for (let i = 0; i <= chunk.length; i += 1) out += BASE64URL[n >> 18 - 6 * i & 63];
  }
  return out;
}
function decodeListing(protocol, bytes) {
  const reader = new Reader(bytes);
  try {
    const length = reader.arrayLen();
    if (length !== 2) throw new DecodeError("listing", `a listing frame has 2 elements, found ${length}`);
    const kind = reader.uint("frame kind");
    if (kind !== LISTING_FRAME) throw new DecodeError("listing", `expected a listing frame (kind ${LISTING_FRAME}), found kind ${kind}`);
    const count = reader.arrayLen();
    reader.plausible(count);
    const listings2 = [];
    for (let i = 0; i < count; i += 1) {
      listings2.push(
        within(`[${i}]`, () => {
          const fields = reader.arrayLen();
          if (fields < 5) throw new DecodeError("listing", `entry ${i} has ${fields} elements, at least 5 expected`);
          const code = within("code", () => reader.str());
          const players = reader.uint("players");
          const maxPlayers = reader.uint("max_players");
          const locked = within("locked", () => reader.bool());
          const metadata = within("metadata", () => protocol.metadata === null ? reader.skip() : protocol.metadata.decode(reader));
          for (let extra = 5; extra < fields; extra += 1) reader.skip();
          return { code, players, maxPlayers, locked, metadata: metadata ?? null };
        })
      );
    }
    if (!reader.done) throw new DecodeError("listing", `${reader.remaining} bytes after the frame`);
    return listings2;
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    const value = asValueError(error);
    throw new DecodeError(["listing", ...value.path].join(": "), value.reason);
  }
}

// clients/typescript/src/mirror.ts
var Mirror = class {
  constructor(protocol) {
    this.protocol = protocol;
    this.server = protocol.serverState.defaults();
  }
  protocol;
  ids = /* @__PURE__ */ new Map();
  netIds = /* @__PURE__ */ new Map();
  states = /* @__PURE__ */ new Map();
  entityStates = /* @__PURE__ */ new Map();
  server;
  snapshotting = false;
  whole = false;
  online = 0;
  tick = 0;
  get players() {
    return this.states;
  }
  get serverState() {
    return this.server;
  }
  get entities() {
    return this.entityStates;
  }
  get complete() {
    return this.whole;
  }
  /** The player a net id stands for on this connection. */
  playerOf(netId) {
    return this.ids.get(netId);
  }
  /** Forgets everything, as on a disconnect. */
  clear() {
    this.ids.clear();
    this.netIds.clear();
    this.states.clear();
    this.entityStates.clear();
    this.server = this.protocol.serverState.defaults();
    this.snapshotting = false;
    this.whole = false;
    this.online = 0;
    this.tick = 0;
  }
  forget(netId) {
    const id = this.ids.get(netId);
    if (id === void 0) return void 0;
    this.ids.delete(netId);
    if (this.netIds.get(id) === netId) {
      this.netIds.delete(id);
      this.states.delete(id);
    }
    return id;
  }
  /**
   * Applies one frame: departures, arrivals, player changes, the server state,
   * despawned entities, then entity changes.
   */
  apply(frame2) {
    const full = (frame2.flags & SyncFlag.Full) !== 0;
    const more = (frame2.flags & SyncFlag.More) !== 0;
    const entity = this.protocol.entity;
    if (entity === null && ((frame2.despawned?.length ?? 0) > 0 || (frame2.entities?.length ?? 0) > 0)) {
      throw new TypeError("the frame carries entity changes, but this protocol has no entities");
    }
    if (full) {
      this.ids.clear();
      this.netIds.clear();
      this.states.clear();
      this.entityStates.clear();
      this.server = this.protocol.serverState.defaults();
      this.snapshotting = true;
      this.whole = false;
    }
    const errors = [];
    const left = [];
    for (const netId of frame2.left) {
      const id = this.forget(netId);
      if (id !== void 0) left.push(id);
    }
    const joined = [];
    for (const { netId, id } of frame2.joined) {
      this.forget(netId);
      const previous = this.netIds.get(id);
      if (previous !== void 0) this.ids.delete(previous);
      this.ids.set(netId, id);
      this.netIds.set(id, netId);
      this.states.set(id, this.protocol.state.defaults());
      joined.push(id);
    }
    const changes = [];
    for (const entry of frame2.players) {
      const id = this.ids.get(entry.netId);
      if (id === void 0) {
        errors.push(new UnknownNetIdError(entry.netId));
        continue;
      }
      const current = this.states.get(id);
      this.states.set(id, this.protocol.state.apply(current, entry.fields));
      changes.push({ id, fields: entry.fields });
    }
    const server = frame2.server;
    if (frame2.server !== null) {
      this.server = this.protocol.serverState.apply(this.server, frame2.server);
    }
    const despawned = [];
    for (const id of frame2.despawned ?? []) {
      if (this.entityStates.delete(id)) despawned.push(id);
    }
    const spawned = [];
    const entityChanges = [];
    if (entity !== null) {
      for (const entry of frame2.entities ?? []) {
        let current = this.entityStates.get(entry.id);
        if (current === void 0) {
          current = entity.defaults();
          spawned.push(entry.id);
        }
        this.entityStates.set(entry.id, entity.apply(current, entry.fields));
        entityChanges.push({ id: entry.id, fields: entry.fields });
      }
    }
    this.online = frame2.online;
    this.tick = frame2.tick;
    const snapshotComplete = this.snapshotting && !more;
    if (snapshotComplete) {
      this.snapshotting = false;
      this.whole = true;
    }
    return {
      sync: { tick: frame2.tick, online: frame2.online, full, more, snapshotComplete, left, joined, changes, server, spawned, despawned, entityChanges },
      errors
    };
  }
};

// clients/typescript/src/queue.ts
var SendQueue = class {
  constructor(capacity) {
    this.capacity = capacity;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a send queue holds at least one frame, not ${capacity}`);
  }
  capacity;
  frames = [];
  head = 0;
  /** How many frames wait. */
  get size() {
    return this.frames.length - this.head;
  }
  /** Adds a frame at the back; throws {@link QueueFullError} when full (the frame is not queued). */
  push(frame2) {
    if (this.size >= this.capacity) throw new QueueFullError(this.capacity);
    this.frames.push(frame2);
  }
  /** Takes the frame at the front. */
  shift() {
    if (this.head >= this.frames.length) return void 0;
    const frame2 = this.frames[this.head];
    this.head += 1;
    if (this.head >= 64 && this.head * 2 >= this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return frame2;
  }
  /** Drops every frame. */
  clear() {
    this.frames = [];
    this.head = 0;
  }
};

// clients/typescript/src/reconnect.ts
function reconnectPolicy(options = {}) {
  const policy = {
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 1e4,
    jitter: Math.min(1, Math.max(0, options.jitter ?? 0.5)),
    maxAttempts: options.maxAttempts ?? null,
    resume: options.resume ?? true
  };
  if (!(policy.initialDelayMs >= 0) || !(policy.maxDelayMs >= 0)) {
    throw new RangeError("reconnect delays are non-negative numbers of milliseconds");
  }
  if (policy.maxAttempts !== null && !(Number.isInteger(policy.maxAttempts) && policy.maxAttempts >= 0)) {
    throw new RangeError(`maxAttempts is a non-negative integer or null, not ${policy.maxAttempts}`);
  }
  return policy;
}
function reconnectDelay(policy, attempt, draw) {
  const doublings = Math.min(Math.max(attempt - 1, 0), 31);
  const base = Math.min(policy.initialDelayMs * 2 ** doublings, policy.maxDelayMs);
  const unit = Math.min(1, Math.max(0, draw));
  return base * (1 - policy.jitter + policy.jitter * unit);
}
function attemptsLeft(policy, made) {
  return policy.maxAttempts === null || made < policy.maxAttempts;
}

// clients/typescript/src/client.ts
var OPEN = 1;
var NORMAL_CLOSURE = 1e3;
var ABNORMAL_CLOSURE = 1006;
var noop = () => {
};
function socketErrorMessage(event) {
  if (typeof event === "object" && event !== null) {
    const message = event.message;
    if (typeof message === "string" && message !== "") return message;
    const error = event.error;
    if (error instanceof Error) return error.message;
  }
  return "WebSocket error";
}
function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((chunk) => ArrayBuffer.isView(chunk))) {
    const chunks = data;
    const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
    let at = 0;
    for (const chunk of chunks) {
      out.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), at);
      at += chunk.byteLength;
    }
    return out;
  }
  return null;
}
function worthRetrying(error) {
  if (error instanceof ConnectError || error instanceof HandshakeError) return true;
  if (error instanceof RefusedError) return error.retryable;
  return false;
}
var FINAL_CODES = /* @__PURE__ */ new Set([
  CloseCode.Kicked,
  CloseCode.ProtocolMismatch,
  CloseCode.MatchEnded,
  CloseCode.HostGone,
  CloseCode.RelayShutdown,
  CloseCode.PlayerConnectionLost,
  CloseCode.LinkReplaced
]);
function worthReconnecting(info) {
  if (info.kind === "local") return false;
  return !FINAL_CODES.has(info.code);
}
function resumable(info) {
  if (info.kind === "lost") return true;
  return info.kind === "closed" && (info.code === CloseCode.IdleTimeout || info.code === CloseCode.HostConnectionLost);
}
function serverFingerprintIn(reason) {
  const mismatch = /server fingerprint ([0-9a-f]{16})/i.exec(reason);
  if (mismatch !== null) return { fingerprint: mismatch[1].toLowerCase(), wireVersion: null };
  const speaks = /speaks nodelink\.(\d+)\.([0-9a-f]{16})/i.exec(reason);
  if (speaks !== null) return { fingerprint: speaks[2].toLowerCase(), wireVersion: Number(speaks[1]) };
  return { fingerprint: null, wireVersion: null };
}
var NodelinkClient = class {
  /**
   * The URL the client was made with: the server's, with the match request in its
   * query, if any (`?match=create&kind=…`): its original request. Once a welcome
   * names the match joined, the client resumes its session in that match by its
   * code ({@link matchCode}), and a client that asked for a match joins it afresh
   * by its code too; after 4105 "game process lost", or a request by code refused
   * as an unknown match, it asks as it first did.
   */
  url;
  /** The compiled protocol. */
  protocol;
  mirror;
  queue;
  WebSocketClass;
  policy;
  maxFrameLength;
  connectTimeoutMs;
  random;
  resumeBufferLength;
  /** Whether to offer {@link REFUSALS_SUBPROTOCOL}: where the WebSocket cannot show a refused upgrade's response. */
  refusalsByClose;
  /** Where the current (or last) attempt connects: see {@link targetFor}. */
  target;
  /**
   * The code of the match the last welcome named, to come back to; `null` before
   * it, and once that match is known to be gone (its process lost, or its code
   * refused).
   */
  returnCode = null;
  attempt = null;
  counts = {
    eventsReceived: 0,
    eventBytesReceived: 0,
    syncFramesReceived: 0,
    syncBytesReceived: 0,
    snapshotFramesReceived: 0,
    snapshotBytesReceived: 0,
    otherFramesReceived: 0,
    otherBytesReceived: 0,
    framesSent: 0,
    bytesSent: 0,
    resumes: 0,
    reconnects: 0
  };
  connections = 0;
  attempts = 0;
  retryTimer = null;
  welcome = null;
  pending = null;
  closing = null;
  current = "idle";
  latency = null;
  session = null;
  eventHandlers = /* @__PURE__ */ new Map();
  anyHandlers = /* @__PURE__ */ new Set();
  connectHandlers = /* @__PURE__ */ new Set();
  disconnectHandlers = /* @__PURE__ */ new Set();
  pauseHandlers = /* @__PURE__ */ new Set();
  resumeHandlers = /* @__PURE__ */ new Set();
  syncHandlers = /* @__PURE__ */ new Set();
  snapshotHandlers = /* @__PURE__ */ new Set();
  errorHandlers = /* @__PURE__ */ new Set();
  reconnectingHandlers = /* @__PURE__ */ new Set();
  latencyHandlers = /* @__PURE__ */ new Set();
  constructor(schema2, url, options = {}) {
    this.protocol = compileProtocol(schema2);
    this.url = checkUrl(url);
    this.target = this.url;
    this.WebSocketClass = webSocketClass(this.url, options.WebSocket);
    this.refusalsByClose = refusalsByClose(this.WebSocketClass);
    this.mirror = new Mirror(this.protocol);
    this.queue = new SendQueue(options.sendQueueLength ?? 1024);
    this.maxFrameLength = options.maxFrameLength ?? 16 * 1024 * 1024;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1e4;
    this.random = options.random ?? Math.random;
    this.resumeBufferLength = Math.max(0, options.resumeBufferLength ?? 128);
    const reconnect = options.reconnect ?? false;
    this.policy = reconnect === false ? null : reconnectPolicy(reconnect === true ? {} : reconnect);
  }
  // -------------------------------------------------------------------------
  // State
  /** Where the client is in its life. */
  get status() {
    return this.current;
  }
  /** This client's player id, once welcomed (kept after a disconnect until the next welcome). */
  get id() {
    return this.welcome?.id ?? null;
  }
  /** The last welcome. */
  get connection() {
    return this.welcome;
  }
  /** The limits and timings the server announced in the last welcome (PROTOCOL.md, "Settings"); `null` before the first. */
  get settings() {
    return this.welcome?.settings ?? null;
  }
  /**
   * The code of the match the last welcome joined: what other players join it by
   * (`Client.join(url, code)`). `null` before the first welcome, and from a server
   * that does not say.
   *
   * ```ts
   * const client = Client.create(url, { title: "ada's table" });
   * await client.connect();
   * showInvite(client.matchCode);
   * ```
   */
  get matchCode() {
    return this.welcome?.settings.matchCode ?? null;
  }
  /** The kind of the match the last welcome joined (`null` before it, or from a server that does not say). */
  get matchKind() {
    return this.welcome?.settings.matchKind ?? null;
  }
  /** The mirror of the server's world. */
  get world() {
    return this.mirror;
  }
  /** Every mirrored player's state. */
  get players() {
    return this.mirror.players;
  }
  /** The shared server state. */
  get serverState() {
    return this.mirror.serverState;
  }
  /** Every entity the server lets this client see, by id (empty for a protocol without entities). */
  get entities() {
    return this.mirror.entities;
  }
  /** Players online on the server, from the last sync frame. */
  get online() {
    return this.mirror.online;
  }
  /** The round trip the server measured for this client's last answered ping, in ms; `null` before the first. */
  get latencyMs() {
    return this.latency;
  }
  /** How many events wait in the send queue. */
  get queued() {
    return this.queue.size;
  }
  /**
   * What the client has received and sent so far, over all its connections: a copy,
   * read at any time.
   *
   * ```ts
   * const { syncFramesReceived, syncBytesReceived } = client.stats;
   * console.log(`${syncBytesReceived / syncFramesReceived} bytes a tick`);
   * ```
   */
  get stats() {
    return { ...this.counts };
  }
  // -------------------------------------------------------------------------
  // Handlers
  add(set, handler) {
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }
  /** Calls one event's handlers with its payload. A misspelt name or a wrong payload type does not compile. */
  on(name, handler) {
    if (!this.protocol.toClient.has(name)) {
      throw new TypeError(`${this.protocol.schema.to_client.name} has no event \`${name}\``);
    }
    let set = this.eventHandlers.get(name);
    if (set === void 0) {
      set = /* @__PURE__ */ new Set();
      this.eventHandlers.set(name, set);
    }
    return this.add(set, handler);
  }
  /** Calls `handler` with every event, as `{ type, data }`: switch on `type`. */
  onEvent(handler) {
    return this.add(this.anyHandlers, handler);
  }
  /**
   * Calls `handler` at each welcome of a new session: after connecting and after
   * each reconnection that could not resume the session (a resumed one calls
   * {@link onResume} instead).
   */
  onConnect(handler) {
    return this.add(this.connectHandlers, handler);
  }
  /**
   * Calls `handler` when a session ends, with why; the mirror is emptied first.
   * That is when its connection ends, unless the client is resuming it
   * ({@link onPause}); then, only if the resume fails: refused by the server (with
   * its close code, such as 4008 "session expired", after which the client joins
   * afresh) or given up.
   */
  onDisconnect(handler) {
    return this.add(this.disconnectHandlers, handler);
  }
  /**
   * Calls `handler` when the connection was lost and the client is about to resume
   * its session (with reconnection on): the server holds this player meanwhile, and
   * the mirror is kept. Then either {@link onResume} follows, or, if the session
   * is over, {@link onDisconnect} and a fresh {@link onConnect}.
   *
   * ```ts
   * client.onPause((info) => showBanner(`reconnecting (${info.reason})…`));
   * client.onResume(() => hideBanner());
   * ```
   */
  onPause(handler) {
    return this.add(this.pauseHandlers, handler);
  }
  /**
   * Calls `handler` when the session was resumed on a new connection: the same
   * player. The events missed meanwhile follow, then a snapshot that brings the
   * mirror up to date; events sent while away go out once.
   */
  onResume(handler) {
    return this.add(this.resumeHandlers, handler);
  }
  /** Calls `handler` after each sync frame is applied, with its typed changes and the mirror. */
  onStateSync(handler) {
    return this.add(this.syncHandlers, handler);
  }
  /** Calls `handler` when a snapshot is complete: the mirror holds the whole world (after each welcome). */
  onSnapshot(handler) {
    return this.add(this.snapshotHandlers, handler);
  }
  /**
   * Calls `handler` with every error: connection failures, undecodable frames,
   * unknown net ids, handlers that threw. Without one, errors go to `console.error`.
   */
  onError(handler) {
    return this.add(this.errorHandlers, handler);
  }
  /** Calls `handler` before each reconnection attempt, with its number (from 1) and the delay in ms. */
  onReconnecting(handler) {
    return this.add(this.reconnectingHandlers, handler);
  }
  /** Calls `handler` with each round trip the server measured for this client, in ms (with each ping after the first). */
  onLatency(handler) {
    return this.add(this.latencyHandlers, handler);
  }
  emit(set, name, ...args) {
    for (const handler of [...set]) {
      try {
        handler(...args);
      } catch (error) {
        this.report(new HandlerError(name, error));
      }
    }
  }
  report(error) {
    if (this.errorHandlers.size === 0) {
      console.error(`nodelink: ${error.message}`);
      return;
    }
    for (const handler of [...this.errorHandlers]) {
      try {
        handler(error);
      } catch (thrown) {
        console.error("nodelink: the error handler threw", thrown);
      }
    }
  }
  // -------------------------------------------------------------------------
  // Sending
  /**
   * Sends an event: at once when connected, else queued (in order, bounded) until
   * the next welcome. Throws {@link EncodeError} for a payload that does not fit the
   * schema, {@link QueueFullError} when the queue is full, and {@link StoppedError}
   * after `close()`.
   */
  send(name, ...payload) {
    if (this.current === "closed") throw new StoppedError();
    const frame2 = encodeClientEvent(this.protocol, name, payload[0]);
    const socket = this.attempt?.welcomed ? this.attempt.socket : null;
    if (socket !== null && this.queue.size === 0 && socket.readyState === OPEN) {
      this.write(socket, frame2);
      return;
    }
    this.queue.push(frame2);
  }
  flush(socket) {
    for (let frame2 = this.queue.shift(); frame2 !== void 0; frame2 = this.queue.shift()) this.write(socket, frame2);
  }
  /**
   * Sends a frame, keeping it for the session first: a frame whose send failed
   * half-way may have arrived, and the server's count settles it on a resume.
   */
  write(socket, frame2) {
    const session = this.session;
    if (session !== null) {
      session.sent += 1;
      if (this.resumeBufferLength > 0) {
        if (session.kept.length >= this.resumeBufferLength) session.kept.shift();
        session.kept.push(frame2);
      }
    }
    this.sent(frame2);
    socket.send(frame2);
  }
  // -------------------------------------------------------------------------
  // Connecting
  /**
   * Connects. Resolves at the server's welcome; rejects when the client gives up
   * (reconnection off or out of attempts, a refusal, a protocol mismatch) or is
   * closed first. Every failure is also passed to `onError`. Calling it while
   * connecting or connected returns the same promise.
   */
  connect() {
    if (this.current === "closed") return Promise.reject(new StoppedError());
    if (this.current === "open" && this.welcome !== null) return Promise.resolve(this.welcome);
    if (this.pending !== null) return this.pending.promise;
    let resolve;
    let reject;
    const promise = new Promise((yes, no) => {
      resolve = yes;
      reject = no;
    });
    this.pending = { promise, resolve, reject };
    if (this.current === "idle" || this.current === "disconnected") {
      this.attempts = 0;
      this.open();
    }
    return promise;
  }
  open() {
    this.retryTimer = null;
    this.current = "connecting";
    let socket;
    const session = this.session;
    const protocols = [subprotocol(this.protocol.fingerprint)];
    if (session !== null) {
      protocols.push(resumeSubprotocol({ token: session.token, received: session.received, forgotten: session.sent - session.kept.length }));
    }
    if (this.refusalsByClose) protocols.push(REFUSALS_SUBPROTOCOL);
    this.target = this.targetFor(session !== null);
    try {
      socket = new this.WebSocketClass(this.target, protocols);
    } catch (error) {
      this.failed(new ConnectError(this.target, error instanceof Error ? error.message : String(error)));
      return;
    }
    const attempt = { socket, resuming: session !== null, opened: false, welcomed: false, inSnapshot: false, socketError: null, timer: null };
    this.attempt = attempt;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      attempt.opened = true;
    };
    socket.onmessage = (event) => {
      if (this.attempt === attempt) this.received(attempt, event.data);
    };
    socket.onerror = (event) => {
      attempt.socketError = socketErrorMessage(event);
    };
    socket.onclose = (event) => {
      if (this.attempt === attempt) this.closed(attempt, event.code ?? ABNORMAL_CLOSURE, event.reason ?? "");
    };
    this.watchUpgrade(attempt);
    attempt.timer = setTimeout(() => {
      if (this.attempt !== attempt || attempt.welcomed) return;
      const error = attempt.opened ? new HandshakeError(`no welcome within ${this.connectTimeoutMs} ms`) : new ConnectError(this.target, `timed out after ${this.connectTimeoutMs} ms`);
      this.abandon(attempt, error);
    }, this.connectTimeoutMs);
  }
  /**
   * Where the WebSocket class shows a refused upgrade's HTTP response (the `ws`
   * package's `unexpected-response` event), reads it ({@link watchRefusal}).
   * Browsers show none of it: there the client asks for refusals as close codes.
   */
  watchUpgrade(attempt) {
    watchRefusal(attempt.socket, this.protocol.fingerprint, (error) => {
      if (this.attempt === attempt) this.abandon(attempt, error);
    });
  }
  /** Ends an attempt that failed before its welcome, without waiting for its close event. */
  abandon(attempt, error) {
    if (attempt.timer !== null) clearTimeout(attempt.timer);
    const { socket } = attempt;
    socket.onopen = noop;
    socket.onmessage = noop;
    socket.onerror = noop;
    socket.onclose = noop;
    try {
      socket.close(NORMAL_CLOSURE);
    } catch {
    }
    if (this.attempt === attempt) {
      this.attempt = null;
      this.failed(error);
    }
  }
  /**
   * Where the next attempt connects: as first asked ({@link url}) until a welcome
   * names the match joined; then, to resume the session, that match by its code
   * (also a server's default match: through a gateway, only the process that holds
   * the match holds the session); and to join afresh, that match by its code for a
   * client that asked for a match (so that a client that created one never creates
   * another), the default match again for one that did not (a server restarted
   * meanwhile has a new one).
   */
  targetFor(resuming) {
    const code = this.returnCode;
    if (code !== null && (resuming || MatchRequest.namesAMatch(this.url))) return MatchRequest.join(code).apply(this.url);
    return this.url;
  }
  /** An attempt failed before the welcome: retry, or give up. */
  failed(error) {
    this.attempt = null;
    if (this.current === "closed") {
      this.settleClose();
      return;
    }
    if (error instanceof RefusedError && error.refusal === "UnknownMatch" && this.target !== this.url && this.policy !== null) {
      this.returnCode = null;
      const paused2 = this.session?.paused ?? null;
      this.session = null;
      if (paused2 !== null) {
        this.mirror.clear();
        this.current = "disconnected";
        this.emit(this.disconnectHandlers, "disconnect", paused2);
        if (this.current !== "disconnected") return;
      }
      this.open();
      return;
    }
    this.report(error);
    if (this.policy !== null && worthRetrying(error) && attemptsLeft(this.policy, this.attempts)) {
      this.retry();
      return;
    }
    this.current = "disconnected";
    const paused = this.session?.paused ?? null;
    this.session = null;
    if (paused !== null) {
      this.mirror.clear();
      this.emit(this.disconnectHandlers, "disconnect", paused);
    }
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }
  retry() {
    const policy = this.policy;
    this.attempts += 1;
    const delay = reconnectDelay(policy, this.attempts, this.random());
    this.current = "reconnecting";
    this.retryTimer = setTimeout(() => this.open(), delay);
    this.emit(this.reconnectingHandlers, "reconnecting", this.attempts, delay);
  }
  // -------------------------------------------------------------------------
  // Receiving
  received(attempt, data) {
    const bytes = bytesOf(data);
    if (bytes === null) {
      this.report(new DecodeError("message", `expected a binary message, found ${typeof data === "string" ? "text" : typeof data}`));
      return;
    }
    const kind = frameKind(bytes);
    if (attempt.welcomed && this.session !== null && kind === FrameKind.Event) this.session.received += 1;
    if (bytes.byteLength > this.maxFrameLength) {
      this.count(attempt, kind, null, bytes.byteLength);
      this.report(new DecodeError("frame", `${bytes.byteLength} bytes, more than the limit of ${this.maxFrameLength}`));
      return;
    }
    let frame2;
    try {
      frame2 = decodeServerFrame(this.protocol, bytes);
      this.count(attempt, kind, frame2.kind === "sync" ? frame2.sync.flags : null, bytes.byteLength);
    } catch (thrown) {
      this.count(attempt, kind, null, bytes.byteLength);
      const error = thrown instanceof DecodeError || thrown instanceof ProtocolMismatchError ? thrown : new DecodeError("frame", thrown instanceof Error ? thrown.message : String(thrown));
      if (!attempt.welcomed) {
        this.abandon(attempt, error instanceof ProtocolMismatchError ? error : new HandshakeError(error.message));
      } else {
        this.report(error);
      }
      return;
    }
    if (!attempt.welcomed) {
      if (frame2.kind !== "welcome") {
        this.abandon(attempt, new HandshakeError(`the first frame was ${frame2.kind === "event" ? "an event" : `a ${frame2.kind} frame`}, not a welcome`));
        return;
      }
      this.welcomed(attempt, frame2.welcome);
      return;
    }
    switch (frame2.kind) {
      case "welcome":
        this.report(new HandshakeError("a second welcome"));
        return;
      case "ping": {
        const pong = encodePong(frame2.seq);
        this.sent(pong);
        attempt.socket.send(pong);
        if (frame2.rttUs > 0) {
          this.latency = frame2.rttUs / 1e3;
          this.emit(this.latencyHandlers, "latency", this.latency);
        }
        return;
      }
      case "event": {
        const { name, data: payload } = frame2.event;
        const set = this.eventHandlers.get(name);
        if (set !== void 0) this.emit(set, name, payload);
        if (this.anyHandlers.size > 0) {
          this.emit(this.anyHandlers, name, { type: name, data: payload });
        }
        return;
      }
      case "sync": {
        const { sync, errors } = this.mirror.apply(frame2.sync);
        for (const error of errors) this.report(error);
        this.emit(this.syncHandlers, "state_sync", sync, this.mirror);
        if (sync.snapshotComplete) this.emit(this.snapshotHandlers, "snapshot", this.mirror);
        return;
      }
    }
  }
  /** Counts a received frame by its kind (and, for a decoded sync frame, its flags). */
  count(attempt, kind, syncFlags, bytes) {
    const counts = this.counts;
    if (syncFlags !== null) {
      if ((syncFlags & SyncFlag.Full) !== 0 || attempt.inSnapshot) {
        attempt.inSnapshot = (syncFlags & SyncFlag.More) !== 0;
        counts.snapshotFramesReceived += 1;
        counts.snapshotBytesReceived += bytes;
      } else {
        counts.syncFramesReceived += 1;
        counts.syncBytesReceived += bytes;
      }
    } else if (kind === FrameKind.Sync) {
      counts.syncFramesReceived += 1;
      counts.syncBytesReceived += bytes;
    } else if (kind === FrameKind.Event) {
      counts.eventsReceived += 1;
      counts.eventBytesReceived += bytes;
    } else {
      counts.otherFramesReceived += 1;
      counts.otherBytesReceived += bytes;
    }
  }
  sent(frame2) {
    this.counts.framesSent += 1;
    this.counts.bytesSent += frame2.byteLength;
  }
  /** A connection was welcomed: resumed, or a new session. */
  countWelcome(resumed) {
    this.connections += 1;
    this.counts.reconnects = this.connections - 1;
    if (resumed) this.counts.resumes += 1;
  }
  welcomed(attempt, welcome) {
    if (welcome.fingerprint !== this.protocol.fingerprint) {
      this.abandon(attempt, new ProtocolMismatchError(this.protocol.fingerprint, welcome.fingerprint, WIRE_VERSION));
      return;
    }
    const session = this.session;
    if (attempt.resuming && session !== null && welcome.resumeToken !== null && welcome.resumed !== null) {
      this.resumed(attempt, welcome, session, welcome.resumeToken, welcome.resumed);
      return;
    }
    if (attempt.timer !== null) clearTimeout(attempt.timer);
    attempt.welcomed = true;
    this.attempts = 0;
    this.current = "open";
    this.countWelcome(false);
    if (session?.paused) {
      this.session = null;
      this.mirror.clear();
      this.emit(this.disconnectHandlers, "disconnect", session.paused);
    }
    this.session = welcome.resumeToken === null ? null : { token: welcome.resumeToken, received: 0, sent: 0, kept: [], paused: null };
    this.mirror.clear();
    this.aimAt(welcome);
    const info = { id: welcome.id, netId: welcome.netId, tickRate: welcome.tickRate, fingerprint: welcome.fingerprint, settings: welcome.settings, resumed: false };
    this.welcome = info;
    this.flush(attempt.socket);
    const pending = this.pending;
    this.pending = null;
    this.emit(this.connectHandlers, "connect", info);
    pending?.resolve(info);
  }
  /** After a welcome: the match it names is the one to come back to ({@link targetFor}). */
  aimAt(welcome) {
    this.returnCode = welcome.settings.matchCode;
  }
  /** The server resumed the session, having received `serverReceived` of this client's frames. */
  resumed(attempt, welcome, session, token, serverReceived) {
    const forgotten = session.sent - session.kept.length;
    if (serverReceived > session.sent || serverReceived < forgotten) {
      const paused = session.paused;
      this.session = null;
      if (paused !== null) {
        this.mirror.clear();
        this.emit(this.disconnectHandlers, "disconnect", paused);
      }
      const gap = `the server resumed the session after ${serverReceived} of this client's events, but it sent ${session.sent} and keeps those after ${forgotten}`;
      this.abandon(attempt, new HandshakeError(gap));
      return;
    }
    if (attempt.timer !== null) clearTimeout(attempt.timer);
    attempt.welcomed = true;
    this.attempts = 0;
    this.current = "open";
    this.countWelcome(true);
    session.token = token;
    session.paused = null;
    this.aimAt(welcome);
    const info = { id: welcome.id, netId: welcome.netId, tickRate: welcome.tickRate, fingerprint: welcome.fingerprint, settings: welcome.settings, resumed: true };
    this.welcome = info;
    for (const frame2 of session.kept.slice(serverReceived - forgotten)) {
      this.sent(frame2);
      attempt.socket.send(frame2);
    }
    this.flush(attempt.socket);
    const pending = this.pending;
    this.pending = null;
    this.emit(this.resumeHandlers, "resume", info);
    pending?.resolve(info);
  }
  closed(attempt, code, reason) {
    if (attempt.timer !== null) clearTimeout(attempt.timer);
    this.attempt = null;
    const refusal2 = attempt.welcomed || this.current === "closed" ? null : refusalOf(code);
    if (refusal2 !== null) {
      if (refusal2.name === "ProtocolMismatch" || refusal2.name === "WireVersion") {
        const server = serverFingerprintIn(reason);
        this.failed(new ProtocolMismatchError(this.protocol.fingerprint, server.fingerprint, WIRE_VERSION, server.wireVersion));
      } else {
        this.failed(new RefusedError(refusal2.status, reason, refusal2.name));
      }
      return;
    }
    if (!attempt.welcomed && attempt.resuming && attempt.opened && code !== ABNORMAL_CLOSURE && this.current !== "closed") {
      this.refused(code, reason);
      return;
    }
    if (!attempt.welcomed) {
      const how = attempt.socketError !== null ? attempt.socketError : code === ABNORMAL_CLOSURE ? "the connection was refused or dropped" : `closed by the server (${code}${reason ? `: ${reason}` : ""})`;
      this.failed(new ConnectError(this.target, how));
      return;
    }
    const local = this.current === "closed";
    const info = local ? { kind: "local" } : code === ABNORMAL_CLOSURE ? { kind: "lost", code, reason: attempt.socketError ?? (reason || "the connection was lost") } : { kind: "closed", code, reason, closeReason: closeReasonOf(code) };
    if (code === CloseCode.GameProcessLost) {
      this.returnCode = null;
    }
    const session = this.session;
    if (!local && session !== null && this.policy?.resume && resumable(info) && attemptsLeft(this.policy, this.attempts)) {
      session.paused = info;
      this.current = "disconnected";
      this.emit(this.pauseHandlers, "pause", info);
      if (this.current === "disconnected") this.retry();
      return;
    }
    this.session = null;
    this.mirror.clear();
    if (!local) this.current = "disconnected";
    this.emit(this.disconnectHandlers, "disconnect", info);
    if (local) {
      this.settleClose();
      return;
    }
    if (this.policy !== null && worthReconnecting(info) && attemptsLeft(this.policy, this.attempts) && this.current === "disconnected") {
      this.retry();
    }
  }
  /**
   * The server refused to resume the session, closing the connection before its
   * welcome: the session is over. The client says why, then joins afresh at once
   * (the server answered: no reason to wait), unless told not to come back.
   */
  refused(code, reason) {
    const info = { kind: "closed", code, reason, closeReason: closeReasonOf(code) };
    this.session = null;
    this.mirror.clear();
    this.current = "disconnected";
    this.emit(this.disconnectHandlers, "disconnect", info);
    if (this.current !== "disconnected") return;
    if (worthReconnecting(info)) {
      this.open();
      return;
    }
    const pending = this.pending;
    this.pending = null;
    pending?.reject(new ConnectError(this.target, `closed by the server (${code}${reason ? `: ${reason}` : ""})`));
  }
  // -------------------------------------------------------------------------
  // Closing
  /**
   * Closes the connection with code 1000 and stops for good: no reconnection,
   * nothing more sent. Resolves when the connection has ended. Events still in the
   * queue are dropped.
   */
  close() {
    if (this.closing !== null) return this.closing.promise;
    let resolve;
    const promise = new Promise((yes) => {
      resolve = yes;
    });
    this.closing = { promise, resolve };
    this.current = "closed";
    this.session = null;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.queue.clear();
    const pending = this.pending;
    this.pending = null;
    pending?.reject(new StoppedError());
    const attempt = this.attempt;
    if (attempt === null) {
      this.settleClose();
    } else if (!attempt.welcomed) {
      this.abandon(attempt, new StoppedError());
    } else {
      try {
        attempt.socket.close(NORMAL_CLOSURE);
      } catch {
        this.closed(attempt, NORMAL_CLOSURE, "");
      }
    }
    return promise;
  }
  settleClose() {
    this.closing?.resolve();
  }
};
function checkUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new UrlError(url, "not a URL");
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new UrlError(url, `the scheme is ${parsed.protocol.replace(/:$/, "")}, expected ws or wss`);
  }
  return parsed.href;
}
function webSocketClass(url, given) {
  const found2 = given ?? globalThis.WebSocket;
  if (found2 === void 0) {
    throw new ConnectError(url, "no WebSocket class: pass one as the `WebSocket` option (in Node 20, the `ws` package's)");
  }
  return found2;
}
function refusalsByClose(WebSocketClass) {
  return typeof WebSocketClass.prototype?.on !== "function";
}
function watchRefusal(socket, fingerprint, refused) {
  const emitter = socket;
  if (typeof emitter.on !== "function") return;
  emitter.on("unexpected-response", (request, response) => {
    const status = response.statusCode ?? 0;
    const header = response.headers?.["x-nodelink-fingerprint"];
    const server = typeof header === "string" && /^[0-9a-f]{16}$/i.test(header) ? header.toLowerCase() : null;
    const named2 = response.headers?.[REFUSAL_HEADER];
    const refusal2 = typeof named2 === "string" && /^[0-9]+$/.test(named2.trim()) ? refusalOf(Number(named2)) : null;
    const chunks = [];
    let size = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      const body = new TextDecoder().decode(concat(chunks)).trim();
      request.destroy?.();
      refused(
        server !== null ? new ProtocolMismatchError(fingerprint, server, WIRE_VERSION) : new RefusedError(status, body, refusal2?.name ?? null)
      );
    };
    response.on?.("data", (chunk) => {
      if (size < 4096) chunks.push(chunk);
      size += chunk.byteLength;
    });
    response.on?.("end", done);
    response.on?.("error", done);
    if (typeof response.on !== "function") done();
  });
}
function listMatches(schema2, url, options = {}) {
  let protocol;
  let href;
  let WebSocketClass;
  try {
    protocol = compileProtocol(schema2);
    const kind = protocol.schema.kind;
    if (kind === void 0) {
      throw new SchemaError("$.kind", "missing: this schema was printed by a nodelink without matches; print it again to list matches");
    }
    href = checkUrl(MatchRequest.list(kind).apply(url));
    WebSocketClass = webSocketClass(href, options.WebSocket);
  } catch (error) {
    return Promise.reject(error);
  }
  const timeoutMs = options.connectTimeoutMs ?? 1e4;
  const maxFrameLength = options.maxFrameLength ?? 16 * 1024 * 1024;
  const protocols = [subprotocol(protocol.fingerprint)];
  if (refusalsByClose(WebSocketClass)) protocols.push(REFUSALS_SUBPROTOCOL);
  return new Promise((resolve, reject) => {
    let socket;
    try {
      socket = new WebSocketClass(href, protocols);
    } catch (error) {
      reject(new ConnectError(href, error instanceof Error ? error.message : String(error)));
      return;
    }
    let socketError = null;
    let settled = false;
    const finish = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.onmessage = noop;
      socket.onclose = noop;
      socket.onerror = noop;
      try {
        socket.close(NORMAL_CLOSURE);
      } catch {
      }
      if ("error" in outcome) reject(outcome.error);
      else resolve(outcome.listings);
    };
    const timer = setTimeout(() => finish({ error: new ConnectError(href, `no listing within ${timeoutMs} ms`) }), timeoutMs);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      const bytes = bytesOf(event.data);
      if (bytes === null) {
        finish({ error: new DecodeError("listing", `expected a binary message, found ${typeof event.data === "string" ? "text" : typeof event.data}`) });
      } else if (bytes.byteLength > maxFrameLength) {
        finish({ error: new DecodeError("listing", `${bytes.byteLength} bytes, more than the limit of ${maxFrameLength}`) });
      } else {
        try {
          finish({ listings: decodeListing(protocol, bytes) });
        } catch (error) {
          finish({ error: error instanceof DecodeError ? error : new DecodeError("listing", String(error)) });
        }
      }
    };
    socket.onerror = (event) => {
      socketError = socketErrorMessage(event);
    };
    socket.onclose = (event) => {
      const code = event.code ?? ABNORMAL_CLOSURE;
      const reason = event.reason ?? "";
      const refusal2 = refusalOf(code);
      if (refusal2?.name === "ProtocolMismatch" || refusal2?.name === "WireVersion") {
        const server = serverFingerprintIn(reason);
        finish({ error: new ProtocolMismatchError(protocol.fingerprint, server.fingerprint, WIRE_VERSION, server.wireVersion) });
      } else if (refusal2 !== null) {
        finish({ error: new RefusedError(refusal2.status, reason, refusal2.name) });
      } else {
        const how = socketError ?? (code === ABNORMAL_CLOSURE ? "the connection was refused or dropped" : `closed by the server before a listing (${code}${reason ? `: ${reason}` : ""})`);
        finish({ error: new ConnectError(href, how) });
      }
    };
    watchRefusal(socket, protocol.fingerprint, (error) => finish({ error }));
  });
}
function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

// clients/typescript/examples/game/generated/protocol.ts
var schema = {
  wire_version: 3,
  fingerprint: "99c9f3062e72a78a",
  state: {
    name: "Avatar",
    fields: [
      { name: "x", index: 0, type: "f32" },
      { name: "y", index: 1, type: "f32" },
      { name: "name", index: 2, type: "str" }
    ]
  },
  server_state: {
    name: "Match",
    fields: [
      { name: "round", index: 0, type: "u32" },
      { name: "time_left", index: 1, type: "f32" },
      { name: "leader", index: 2, type: { option: "player_id" } }
    ]
  },
  kind: "game",
  options: { ref: "Table" },
  metadata: { ref: "Table" },
  to_server: {
    name: "ToServer",
    events: [
      {
        name: "move",
        kind: "named",
        fields: [{ name: "x", type: "f32" }, { name: "y", type: "f32" }]
      },
      { name: "chat", kind: "named", fields: [{ name: "msg", type: "str" }] },
      { name: "ready", kind: "unit", fields: [] }
    ]
  },
  to_client: {
    name: "ToClient",
    events: [
      { name: "joined", kind: "named", fields: [{ name: "id", type: "player_id" }] },
      { name: "left", kind: "named", fields: [{ name: "id", type: "player_id" }] },
      {
        name: "chat",
        kind: "named",
        fields: [{ name: "from", type: "player_id" }, { name: "msg", type: "str" }]
      }
    ]
  },
  types: { Table: { struct: { kind: "named", fields: [{ name: "title", type: "str" }] } } }
};
var Client = class _Client extends NodelinkClient {
  constructor(url, options) {
    super(schema, url, options);
  }
  /**
   * A client for a new match of this protocol's kind (`game`) on the server at `url`,
   * made from `options` and listed for others to find; it joins the match it
   * made. The match exists once the client is welcomed; its code is `client.matchCode`.
   * Reconnecting, the client goes back to that match by its code.
   *
   * ```ts
   * const client = Client.create("ws://localhost:5000/", options);
   * await client.connect();
   * invite(client.matchCode);
   * ```
   */
  static create(url, options, clientOptions) {
    return new _Client(MatchRequest.create(schema, options).apply(url), clientOptions);
  }
  /**
   * As `create`, but the match is private: not listed, not found; players join it by
   * its code.
   */
  static createPrivate(url, options, clientOptions) {
    return new _Client(MatchRequest.create(schema, options, true).apply(url), clientOptions);
  }
  /**
   * A client for the match with this code on the server at `url` (codes are read
   * case-insensitively). A full or locked match, or a code no match has, is refused
   * (`RefusedError`, its `refusal` `"MatchFull"`, `"MatchLocked"` or `"UnknownMatch"`).
   */
  static join(url, code, clientOptions) {
    return new _Client(MatchRequest.join(code).apply(url), clientOptions);
  }
  /**
   * A client for a listed match of this protocol's kind that the server finds suits
   * `options` (by the kind's filter on each match's metadata), or, when none does,
   * for a new one made from them: join-or-create, in one request.
   */
  static find(url, options, clientOptions) {
    return new _Client(MatchRequest.find(schema, options).apply(url), clientOptions);
  }
  /**
   * The listed matches of this protocol's kind on the server at `url`: each one's code,
   * players, places, lock and metadata, for a lobby screen.
   *
   * ```ts
   * for (const match of await Client.list("ws://localhost:5000/")) {
   *   console.log(`${match.code}: ${match.players}/${match.maxPlayers}`);
   * }
   * ```
   */
  static list(url, options) {
    return listMatches(schema, url, options);
  }
  /** Sends `move` (queued until connected), its fields by name: `sendMove({ x, y })`. */
  sendMove(fields) {
    this.send("move", fields);
  }
  /** Sends `chat` (queued until connected), its fields by name: `sendChat({ msg })`. */
  sendChat(fields) {
    this.send("chat", fields);
  }
  /** Sends `ready` (queued until connected). */
  sendReady() {
    this.send("ready");
  }
  /** Calls `handler` with each `joined` event. */
  onJoined(handler) {
    return this.on("joined", handler);
  }
  /** Calls `handler` with each `left` event. */
  onLeft(handler) {
    return this.on("left", handler);
  }
  /** Calls `handler` with each `chat` event. */
  onChat(handler) {
    return this.on("chat", handler);
  }
};

// examples/web/game.ts
var SPEED = 240;
var NUDGE = 10;
var SEND_INTERVAL_MS = 50;
var DOT_RADIUS = 10;
var CHAT_LINES = 100;
var LIST_INTERVAL_MS = 3e3;
var DIRECTIONS = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1]
};
function element(id, type) {
  const found2 = document.getElementById(id);
  if (!(found2 instanceof type)) throw new Error(`the page has no #${id}`);
  return found2;
}
var field = element("field", HTMLCanvasElement);
var statusLine = element("status", HTMLElement);
var playerList = element("players", HTMLUListElement);
var chatLog = element("chat-log", HTMLOListElement);
var chatForm = element("chat-form", HTMLFormElement);
var chatInput = element("chat-input", HTMLInputElement);
var matchLine = element("match-line", HTMLElement);
var matchList = element("matches", HTMLUListElement);
var refreshButton = element("refresh", HTMLButtonElement);
var createForm = element("create-form", HTMLFormElement);
var createTitle = element("create-title", HTMLInputElement);
var createPrivate = element("create-private", HTMLInputElement);
var joinForm = element("join-form", HTMLFormElement);
var joinCode = element("join-code", HTMLInputElement);
var MAP_WIDTH = field.width;
var MAP_HEIGHT = field.height;
var density = window.devicePixelRatio || 1;
field.width = MAP_WIDTH * density;
field.height = MAP_HEIGHT * density;
var pen = field.getContext("2d");
var asked = new URLSearchParams(location.search);
var requestedName = asked.get("name");
var scheme = location.protocol === "https:" ? "wss" : "ws";
var query = requestedName ? `?name=${encodeURIComponent(requestedName)}` : "";
var gameUrl = `${scheme}://${location.host}/${query}`;
var askedCode = asked.get("match");
var askedTitle = asked.get("create");
var client = askedCode !== null ? Client.join(gameUrl, askedCode, { reconnect: true }) : askedTitle !== null ? asked.get("private") === "1" ? Client.createPrivate(gameUrl, { title: askedTitle }, { reconnect: true }) : Client.create(gameUrl, { title: askedTitle }, { reconnect: true }) : new Client(gameUrl, { reconnect: true });
function pageFor(params) {
  const next = new URLSearchParams();
  if (requestedName) next.set("name", requestedName);
  for (const [key2, value] of Object.entries(params)) next.set(key2, value);
  return `${location.pathname}?${next}`;
}
var me = null;
var lastSent = null;
var lastSentAt = 0;
var held = /* @__PURE__ */ new Set();
var advancedAt = performance.now();
var drawn = /* @__PURE__ */ new Map();
var names = /* @__PURE__ */ new Map();
var arriving = /* @__PURE__ */ new Set();
var placing = false;
var refusal = null;
var listings = [];
var listingError = null;
var clamp = (value, max) => Math.min(Math.max(value, 0), max);
var nameOf = (id) => client.players.get(id)?.name || names.get(id) || id;
var named = () => [...client.players].filter(([, player]) => player.name !== "");
var MY_COLOUR = "#ffd166";
var PALETTE = ["#58a6ff", "#f778ba", "#3fb950", "#f0883e", "#bc8cff", "#39d0d8", "#ff7b72", "#a5d65a"];
var colours = /* @__PURE__ */ new Map();
function colourOf(id) {
  if (id === client.id) return MY_COLOUR;
  let index = colours.get(id);
  if (index === void 0) {
    const taken = new Set(colours.values());
    index = PALETTE.findIndex((_, i) => !taken.has(i));
    if (index < 0) index = colours.size % PALETTE.length;
    colours.set(id, index);
  }
  return PALETTE[index];
}
function advance(now) {
  const seconds = Math.min((now - advancedAt) / 1e3, 0.25);
  advancedAt = now;
  if (me === null || held.size === 0) return;
  let dx = 0;
  let dy = 0;
  for (const key2 of held) {
    const [x, y] = DIRECTIONS[key2] ?? [0, 0];
    dx += x;
    dy += y;
  }
  const length = Math.hypot(dx, dy);
  if (length === 0) return;
  me = {
    x: clamp(me.x + dx / length * SPEED * seconds, MAP_WIDTH),
    y: clamp(me.y + dy / length * SPEED * seconds, MAP_HEIGHT)
  };
}
function sendPosition(now, force) {
  if (me === null || client.status !== "open") return;
  if (lastSent !== null && lastSent.x === me.x && lastSent.y === me.y) return;
  if (!force && now - lastSentAt < SEND_INTERVAL_MS) return;
  client.sendMove({ x: me.x, y: me.y });
  lastSent = me;
  lastSentAt = now;
}
window.addEventListener("keydown", (event) => {
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
  if (direction === void 0) return;
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
function release(key2) {
  const now = performance.now();
  advance(now);
  if (key2 === null) held.clear();
  else held.delete(key2);
  sendPosition(now, true);
  renderPlayers();
}
window.addEventListener("keyup", (event) => {
  if (held.has(event.key)) release(event.key);
});
window.addEventListener("blur", () => release(null));
chatInput.addEventListener("focus", () => release(null));
chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = chatInput.value.trim();
  if (text !== "") client.sendChat({ msg: text });
  chatInput.value = "";
  chatInput.blur();
});
function logLine(parts, className = "") {
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
function logSystem(text) {
  logLine([["text", text]], "system");
}
client.onChat(({ from, msg }) => {
  logLine(
    [
      ["who", `${nameOf(from)}:`],
      ["msg", ` ${msg}`]
    ],
    from === client.id ? "mine" : ""
  );
  const colour = colourOf(from);
  const who = chatLog.lastElementChild?.querySelector(".who");
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
function announceArrivals() {
  for (const id of arriving) {
    const player = client.players.get(id);
    if (player === void 0 || player.name === "") continue;
    arriving.delete(id);
    logSystem(id === client.id ? `you joined as ${player.name}` : `${player.name} joined`);
  }
}
var shownPlayers = "";
function renderPlayers() {
  const rows = named().map(([id, player]) => {
    const position = id === client.id && me !== null ? me : player;
    return { id, name: player.name, x: Math.round(position.x), y: Math.round(position.y), mine: id === client.id };
  }).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
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
    })
  );
}
function renderStatus() {
  let text;
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
function adoptPosition() {
  const placed = client.id === null ? void 0 : client.players.get(client.id);
  if (placed !== void 0) me = { x: placed.x, y: placed.y };
}
client.onConnect(() => {
  me = null;
  lastSent = null;
  refusal = null;
  const code = client.matchCode;
  if (code !== null && askedCode !== code) {
    history.replaceState(null, "", pageFor({ match: code }));
  }
  renderMatch();
  void refreshLobby();
  renderStatus();
});
client.onStateSync(() => {
  for (const [id, player] of named()) names.set(id, player.name);
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
function refusalText(error) {
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
function titleOf(code) {
  return listings.find((listing2) => listing2.code === code)?.metadata.title ?? null;
}
function renderMatch() {
  const code = client.matchCode;
  let text;
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
var shownLobby = "";
function renderLobby() {
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
    ...listings.map((listing2) => {
      const item = document.createElement("li");
      item.dataset.code = listing2.code;
      const full = listing2.players >= listing2.maxPlayers;
      if (listing2.code === here) item.className = "here";
      const title = document.createElement("span");
      title.className = "title";
      title.textContent = listing2.metadata.title;
      const code = document.createElement("code");
      code.className = "code";
      code.textContent = listing2.code;
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = `${listing2.players}/${listing2.maxPlayers}`;
      item.append(title, code, count);
      if (listing2.code === here) {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = "you are here";
        item.append(tag);
      } else {
        const join = document.createElement("button");
        join.type = "button";
        join.textContent = listing2.locked ? "locked" : full ? "full" : "Join";
        join.disabled = listing2.locked || full;
        join.addEventListener("click", () => location.assign(pageFor({ match: listing2.code })));
        item.append(join);
      }
      return item;
    })
  );
}
var listing = false;
async function refreshLobby() {
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
function drawField() {
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
function drawPlayer(id, at, name, mine) {
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
var frameAt = performance.now();
function frame(now) {
  const seconds = Math.min((now - frameAt) / 1e3, 0.25);
  frameAt = now;
  advance(now);
  sendPosition(now, false);
  drawField();
  const ease = 1 - Math.exp(-seconds * 18);
  for (const id of drawn.keys()) if (!client.players.has(id)) drawn.delete(id);
  const order = [];
  for (const [id, player] of named()) {
    const mine = id === client.id;
    const target = mine && me !== null ? me : player;
    let at = drawn.get(id);
    if (at === void 0 || mine || Math.hypot(target.x - at.x, target.y - at.y) > 200) {
      at = { x: target.x, y: target.y };
    } else {
      at = { x: at.x + (target.x - at.x) * ease, y: at.y + (target.y - at.y) * ease };
    }
    drawn.set(id, at);
    order.push([id, at, player.name, mine]);
  }
  order.sort((a, b) => Number(a[3]) - Number(b[3]));
  for (const [id, at, name, mine] of order) drawPlayer(id, at, name, mine);
  if (held.size > 0) renderPlayers();
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
renderStatus();
renderMatch();
void refreshLobby();
window.addEventListener("pagehide", () => client.close());
client.connect().catch((error) => {
  logSystem(`could not join: ${error instanceof Error ? error.message : String(error)}`);
  renderStatus();
});
