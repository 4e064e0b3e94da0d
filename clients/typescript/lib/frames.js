/**
 * The native wire's frames (PROTOCOL.md): decoding what the server sends and
 * encoding what the client sends, plus the server side of each (used by tests and
 * by anyone writing a stand-in server).
 */
import { asValueError, maskBits, ValueError, within } from "./codec.js";
import { isEntityId } from "./entity-id.js";
import { DecodeError, EncodeError, ProtocolMismatchError } from "./errors.js";
import { fingerprintHex } from "./fingerprint.js";
import { MsgpackError, Reader, Writer } from "./msgpack.js";
import { playerIdFromNumber, playerIdToNumber } from "./player-id.js";
import { WIRE_VERSION } from "./schema.js";
/** The first element of every frame. */
export const FrameKind = {
    Welcome: 0,
    Event: 1,
    Sync: 2,
    Ping: 3,
    Pong: 4,
};
/** The bits of a sync frame's flags. */
export const SyncFlag = {
    /** The frame begins a snapshot: forget every mirrored player, entity and the server state. */
    Full: 1,
    /** The snapshot continues in the next frame(s). */
    More: 2,
};
/** The subprotocol a client of this protocol offers: `nodelink.3.<fingerprint>`. */
export function subprotocol(fingerprint) {
    return `nodelink.${WIRE_VERSION}.${fingerprint}`;
}
/**
 * The subprotocol that asks to resume a session, offered beside
 * {@link subprotocol}: `nodelink.resume.<token>.<received>.<forgotten>`.
 */
export function resumeSubprotocol(offer) {
    return `nodelink.resume.${offer.token}.${offer.received}.${offer.forgotten}`;
}
/** A frame's kind, read without decoding the rest; `null` when the bytes do not start like a frame. */
export function frameKind(bytes) {
    try {
        const reader = new Reader(bytes);
        return reader.arrayLen() > 0 ? reader.uint("frame kind") : null;
    }
    catch {
        return null;
    }
}
/** What a server with the default configuration announces to a native client. */
export const DEFAULT_SETTINGS = {
    pingIntervalMs: 5_000,
    idleTimeoutMs: 20_000,
    maxFrameLen: 65_536,
    rateLimit: { perSecond: 100, burst: 200, disconnectAfter: 500 },
    maxInvalidFrames: 16,
    slowConsumerTimeoutMs: 5_000,
    resumeGraceMs: 30_000,
    resumeBufferLen: 256,
    matchCode: null,
    matchKind: null,
};
// ---------------------------------------------------------------------------
// Events
function payloadError(name, error) {
    const value = asValueError(error);
    return new EncodeError([`event \`${name}\``, ...value.path].join(": "), value.reason);
}
/** Writes an event's fields, flattened, from its payload. */
function writeEventFields(writer, event, data) {
    if (event.kind === "unit") {
        if (data !== undefined && data !== null)
            throw new ValueError(`takes no payload, found ${typeof data}`);
        return;
    }
    if (event.kind === "tuple") {
        if (!Array.isArray(data) || data.length !== event.fields.length) {
            throw new ValueError(`expected an array of ${event.fields.length} field${event.fields.length === 1 ? "" : "s"}`);
        }
        event.fields.forEach((field, i) => within(`field ${i}`, () => field.codec.encode(writer, data[i])));
        return;
    }
    if (typeof data !== "object" || data === null || Array.isArray(data))
        throw new ValueError("expected an object of its fields");
    const record = data;
    for (const field of event.fields)
        within(`field \`${field.name}\``, () => field.codec.encode(writer, record[field.name]));
}
function encodeEventWith(events, direction, name, data) {
    const event = events.get(name);
    if (event === undefined) {
        throw new EncodeError(`event \`${name}\``, `${direction} has no such event (it has ${[...events.keys()].map((n) => `\`${n}\``).join(", ")})`);
    }
    const writer = new Writer();
    writer.arrayLen(2 + event.fields.length);
    writer.uint(FrameKind.Event);
    writer.str(name);
    try {
        writeEventFields(writer, event, data);
    }
    catch (error) {
        throw payloadError(name, error);
    }
    return writer.finish();
}
/** Encodes a client's event `[1, name, field…]`. Throws {@link EncodeError} for a payload that does not fit. */
export function encodeClientEvent(protocol, name, data) {
    return encodeEventWith(protocol.toServer, protocol.schema.to_server.name, name, data);
}
/** Encodes a server's event `[1, name, field…]`. */
export function encodeServerEvent(protocol, name, data) {
    return encodeEventWith(protocol.toClient, protocol.schema.to_client.name, name, data);
}
/** Reads `[name, field…]` after the kind of an event frame of `length` elements. */
function readEvent(reader, length, events, direction) {
    if (length < 2)
        throw new DecodeError("event", "the frame has no event name");
    let name;
    try {
        name = reader.str();
    }
    catch (error) {
        throw new DecodeError("event", `the name: ${asValueError(error).reason}`);
    }
    const event = events.get(name);
    if (event === undefined)
        throw new DecodeError(`event \`${name}\``, `unknown event (not in ${direction})`);
    const count = length - 2;
    if (count !== event.fields.length) {
        throw new DecodeError(`event \`${name}\``, `expected ${event.fields.length} field${event.fields.length === 1 ? "" : "s"}, found ${count}`);
    }
    const where = (field, i) => (event.kind === "tuple" ? `field ${i}` : `field \`${field.name}\``);
    try {
        if (event.kind === "unit")
            return { name, data: undefined };
        if (event.kind === "tuple") {
            return { name, data: event.fields.map((field, i) => within(where(field, i), () => field.codec.decode(reader))) };
        }
        const data = {};
        event.fields.forEach((field, i) => {
            data[field.name] = within(where(field, i), () => field.codec.decode(reader));
        });
        return { name, data };
    }
    catch (error) {
        const value = asValueError(error);
        throw new DecodeError([`event \`${name}\``, ...value.path].join(": "), value.reason);
    }
}
// ---------------------------------------------------------------------------
// Sync
/** The field indexes a mask names, in increasing order; throws for a bit beyond `count` fields. */
export function maskFields(mask, count) {
    const out = maskBits(mask);
    const beyond = out.find((i) => i >= count);
    if (beyond !== undefined)
        throw new ValueError(`mask bit ${beyond} is set, but the state has ${count} field${count === 1 ? "" : "s"}`);
    return out;
}
/** Reads `mask, value…`, the rest of an array of `length` elements of which `before` were read. */
function readFields(reader, state, length, before) {
    const indexes = maskFields(reader.int(), state.fields.length);
    if (state.oneOf && indexes.length > 1)
        throw new ValueError(`${state.name}: a value holds one kind, the mask names ${indexes.length}`);
    if (length !== before + 1 + indexes.length) {
        throw new ValueError(`the mask names ${indexes.length} field${indexes.length === 1 ? "" : "s"}, but ${length - before - 1} value${length - before - 1 === 1 ? "" : "s"} follow`);
    }
    const fields = {};
    for (const index of indexes) {
        const field = state.fields[index];
        fields[field.name] = within(`field \`${field.name}\``, () => field.codec.decode(reader));
    }
    return fields;
}
function readEntityId(reader, what) {
    const id = reader.uint(what);
    if (!isEntityId(id))
        throw new ValueError(`an entity id is a 32-bit unsigned integer, found ${id}`);
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
        if (value > (SyncFlag.Full | SyncFlag.More))
            throw new ValueError(`unknown bits set (${value}): only full (1) and more (2) exist`);
        return value;
    });
    const left = within("left", () => {
        const n = reader.arrayLen();
        reader.plausible(n);
        const out = [];
        for (let i = 0; i < n; i += 1)
            out.push(reader.uint("net id"));
        return out;
    });
    const joined = within("joined", () => {
        const n = reader.arrayLen();
        reader.plausible(n);
        const out = [];
        for (let i = 0; i < n; i += 1) {
            within(`[${i}]`, () => {
                const pair = reader.arrayLen();
                if (pair !== 2)
                    throw new ValueError(`expected [net_id, player_id], found ${pair} elements`);
                const netId = reader.uint("net id");
                const id = reader.uint("player id");
                if (id > 0xffff_ffff)
                    throw new ValueError(`a player id is a 32-bit unsigned integer, found ${id}`);
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
                if (entry < 2)
                    throw new ValueError(`an entry is [net_id, mask, value…], found ${entry} elements`);
                const netId = reader.uint("net id");
                out.push({ netId, fields: within(`net id ${netId}`, () => readFields(reader, protocol.state, entry, 1)) });
            });
        }
        return out;
    });
    const server = within("server", () => {
        if (reader.nil())
            return null;
        const n = reader.arrayLen();
        if (n < 1)
            throw new ValueError("an empty array: expected [mask, value…]");
        return readFields(reader, protocol.serverState, n, 0);
    });
    if (length === 8)
        return { tick, online, flags, left, joined, players, server };
    const despawned = within("despawned", () => {
        const n = reader.arrayLen();
        reader.plausible(n);
        const out = [];
        for (let i = 0; i < n; i += 1)
            out.push(within(`[${i}]`, () => readEntityId(reader, "entity id")));
        return out;
    });
    const entities = within("entities", () => {
        const n = reader.arrayLen();
        reader.plausible(n);
        const entity = protocol.entity;
        if (entity === null) {
            // Two empty lists change nothing; anything else comes from a server built
            // from a protocol with entities.
            if (despawned.length === 0 && n === 0)
                return [];
            throw new ValueError(`the frame carries entity changes (${despawned.length} despawned, ${n} entr${n === 1 ? "y" : "ies"}), but this protocol has no entities (\`type Entity = ()\`): the server was built from another protocol`);
        }
        const out = [];
        for (let i = 0; i < n; i += 1) {
            within(`[${i}]`, () => {
                const entry = reader.arrayLen();
                if (entry < 2)
                    throw new ValueError(`an entry is [entity_id, mask, value…], found ${entry} elements`);
                const id = readEntityId(reader, "entity id");
                out.push({ id, fields: within(`entity ${id}`, () => readFields(reader, entity, entry, 1)) });
            });
        }
        return out;
    });
    return { tick, online, flags, left, joined, players, server, despawned, entities };
}
// ---------------------------------------------------------------------------
// Whole frames
/** The error to throw for a failure while decoding `what`: decode errors keep their own place. */
function frameError(what, error) {
    if (error instanceof DecodeError || error instanceof ProtocolMismatchError)
        return error;
    const value = asValueError(error);
    return new DecodeError([what, ...value.path].join(": "), value.reason);
}
/**
 * Decodes one frame from the server. Throws {@link DecodeError} for a frame that does
 * not fit the protocol, and {@link ProtocolMismatchError} for a welcome of another
 * wire version.
 */
export function decodeServerFrame(protocol, bytes) {
    const reader = new Reader(bytes);
    let length;
    let kind;
    try {
        length = reader.arrayLen();
        if (length < 1)
            throw new ValueError("an empty array");
        kind = reader.uint("frame kind");
    }
    catch (error) {
        throw frameError("frame", error);
    }
    let frame;
    switch (kind) {
        case FrameKind.Welcome:
            frame = { kind: "welcome", welcome: readWelcome(reader, length, protocol) };
            break;
        case FrameKind.Event:
            frame = { kind: "event", event: readEvent(reader, length, protocol.toClient, protocol.schema.to_client.name) };
            break;
        case FrameKind.Sync:
            try {
                frame = { kind: "sync", sync: readSync(reader, length, protocol) };
            }
            catch (error) {
                throw frameError("sync frame", error);
            }
            break;
        case FrameKind.Ping:
            try {
                if (length !== 3)
                    throw new ValueError(`a ping has 3 elements, found ${length}`);
                frame = { kind: "ping", seq: reader.uint("ping sequence"), rttUs: reader.uint("round trip") };
            }
            catch (error) {
                throw frameError("ping", error);
            }
            break;
        default:
            throw new DecodeError("frame", `unknown frame kind ${kind}`);
    }
    if (!reader.done)
        throw new DecodeError(frame.kind === "event" ? `event \`${frame.event.name}\`` : `${frame.kind} frame`, `${reader.remaining} bytes after the frame`);
    return frame;
}
function readWelcome(reader, length, protocol) {
    try {
        if (length < 2)
            throw new ValueError("no wire version");
        const wireVersion = reader.uint("wire version");
        if (wireVersion !== WIRE_VERSION) {
            throw new ProtocolMismatchError(protocol.fingerprint, null, WIRE_VERSION, wireVersion);
        }
        if (length < 7 || length > 9)
            throw new ValueError(`a welcome has 7 to 9 elements, found ${length}`);
        const fingerprint = within("fingerprint", () => {
            const value = reader.int();
            if (typeof value === "number" && value < 0)
                throw new ValueError(`negative (${value})`);
            return fingerprintHex(BigInt(value));
        });
        const id = within("player id", () => {
            const value = reader.uint("player id");
            if (value > 0xffff_ffff)
                throw new ValueError(`a player id is a 32-bit unsigned integer, found ${value}`);
            return playerIdFromNumber(value);
        });
        const netId = within("net id", () => reader.uint("net id"));
        const tickRate = within("tick rate", () => reader.uint("tick rate"));
        const settings = within("settings", () => readSettings(reader));
        const resumeToken = length >= 8
            ? within("resume token", () => {
                const token = reader.str();
                if (!/^[0-9a-f]{32}$/i.test(token))
                    throw new ValueError(`expected 32 hex digits, found ${JSON.stringify(token)}`);
                return token;
            })
            : null;
        const resumed = length === 9 ? within("events received", () => reader.uint("events received")) : null;
        return { wireVersion, fingerprint, id, netId, tickRate, settings, resumeToken, resumed };
    }
    catch (error) {
        throw frameError("welcome", error);
    }
}
/** The settings' keys whose values are unsigned integers, by the name of their field in {@link Settings}. */
const SETTINGS_KEYS = {
    ping_interval_ms: "pingIntervalMs",
    idle_timeout_ms: "idleTimeoutMs",
    max_frame_len: "maxFrameLen",
    max_invalid_frames: "maxInvalidFrames",
    slow_consumer_timeout_ms: "slowConsumerTimeoutMs",
    resume_grace_ms: "resumeGraceMs",
    resume_buffer_len: "resumeBufferLen",
};
const RATE_KEYS = ["rate_limit_per_second", "rate_limit_burst", "rate_limit_disconnect_after"];
/** The settings' keys whose values are strings, by the name of their field in {@link Settings}: optional. */
const TEXT_KEYS = {
    match_code: "matchCode",
    match_kind: "matchKind",
};
/**
 * Reads the welcome's settings map: every key of this wire version must be there
 * (the three of the rate limit together, or none); keys it does not know are
 * skipped, whatever their values, as PROTOCOL.md requires.
 */
function readSettings(reader) {
    const count = reader.mapLen();
    reader.plausible(count);
    const values = new Map();
    const texts = new Map();
    for (let i = 0; i < count; i += 1) {
        const key = reader.str();
        if (values.has(key) || texts.has(key))
            throw new ValueError(`\`${key}\` appears twice`);
        if (Object.hasOwn(TEXT_KEYS, key)) {
            texts.set(key, within(`\`${key}\``, () => reader.str()));
        }
        else if (key === "rate_limit_per_second") {
            values.set(key, within(`\`${key}\``, () => reader.float()));
        }
        else if (Object.hasOwn(SETTINGS_KEYS, key) || key === "rate_limit_burst" || key === "rate_limit_disconnect_after") {
            values.set(key, within(`\`${key}\``, () => {
                const value = reader.int();
                if (value < 0)
                    throw new ValueError(`negative (${value})`);
                // Beyond 2^53 a setting is as good as unlimited: approximate it.
                return Number(value);
            }));
        }
        else {
            reader.skip();
            // Kept only to catch a second occurrence of the key.
            values.set(key, Number.NaN);
        }
    }
    const required = (key) => {
        const value = values.get(key);
        if (value === undefined)
            throw new ValueError(`no \`${key}\``);
        return value;
    };
    const rates = RATE_KEYS.filter((key) => values.has(key));
    if (rates.length !== 0 && rates.length !== RATE_KEYS.length) {
        throw new ValueError(`\`${RATE_KEYS.join("`, `")}\` come together or not at all`);
    }
    const settings = {};
    for (const [key, field] of Object.entries(SETTINGS_KEYS))
        settings[field] = required(key);
    settings["rateLimit"] =
        rates.length === 0
            ? null
            : { perSecond: required("rate_limit_per_second"), burst: required("rate_limit_burst"), disconnectAfter: required("rate_limit_disconnect_after") };
    for (const [key, field] of Object.entries(TEXT_KEYS))
        settings[field] = texts.get(key) ?? null;
    return settings;
}
/** Writes settings as the welcome's map, in the order the Rust server writes them. */
function writeSettings(writer, settings) {
    const entries = [
        ["ping_interval_ms", settings.pingIntervalMs, "uint"],
        ["idle_timeout_ms", settings.idleTimeoutMs, "uint"],
        ["max_frame_len", settings.maxFrameLen, "uint"],
    ];
    if (settings.rateLimit !== null) {
        entries.push(["rate_limit_per_second", settings.rateLimit.perSecond, "float"], ["rate_limit_burst", settings.rateLimit.burst, "uint"], ["rate_limit_disconnect_after", settings.rateLimit.disconnectAfter, "uint"]);
    }
    entries.push(["max_invalid_frames", settings.maxInvalidFrames, "uint"], ["slow_consumer_timeout_ms", settings.slowConsumerTimeoutMs, "uint"], ["resume_grace_ms", settings.resumeGraceMs, "uint"], ["resume_buffer_len", settings.resumeBufferLen, "uint"]);
    const texts = [];
    if (settings.matchCode != null)
        texts.push(["match_code", settings.matchCode]);
    if (settings.matchKind != null)
        texts.push(["match_kind", settings.matchKind]);
    writer.mapLen(entries.length + texts.length);
    for (const [key, value, kind] of entries) {
        writer.str(key);
        if (kind === "float")
            writer.f64(value);
        else
            writer.uint(value);
    }
    for (const [key, value] of texts) {
        writer.str(key);
        writer.str(value);
    }
}
/** Decodes one frame from a client (for stand-in servers and tests). */
export function decodeClientFrame(protocol, bytes) {
    const reader = new Reader(bytes);
    try {
        const length = reader.arrayLen();
        const kind = reader.uint("frame kind");
        let frame;
        if (kind === FrameKind.Event) {
            frame = { kind: "event", event: readEvent(reader, length, protocol.toServer, protocol.schema.to_server.name) };
        }
        else if (kind === FrameKind.Pong) {
            if (length !== 2)
                throw new ValueError(`a pong has 2 elements, found ${length}`);
            frame = { kind: "pong", seq: reader.uint("pong sequence") };
        }
        else {
            throw new ValueError(`unknown client frame kind ${kind}`);
        }
        if (!reader.done)
            throw new ValueError(`${reader.remaining} bytes after the frame`);
        return frame;
    }
    catch (error) {
        if (error instanceof MsgpackError || error instanceof ValueError)
            throw frameError("client frame", error);
        throw error;
    }
}
/** Encodes a pong `[4, seq]`. */
export function encodePong(seq) {
    const writer = new Writer(8);
    writer.arrayLen(2);
    writer.uint(FrameKind.Pong);
    writer.uint(seq);
    return writer.finish();
}
/** Encodes a ping `[3, seq, rtt_us]`. */
export function encodePing(seq, rttUs) {
    const writer = new Writer(16);
    writer.arrayLen(3);
    writer.uint(FrameKind.Ping);
    writer.uint(seq);
    writer.uint(rttUs);
    return writer.finish();
}
/**
 * Encodes a welcome `[0, wire_version, fingerprint, player_id, net_id, tick_rate,
 * settings]`, then the resume token when there is one and, on a resumed session,
 * the count of frames received. Settings default to {@link DEFAULT_SETTINGS}.
 */
export function encodeWelcome(welcome) {
    const token = welcome.resumeToken ?? null;
    const resumed = token === null ? null : (welcome.resumed ?? null);
    const writer = new Writer(256);
    writer.arrayLen(7 + (token === null ? 0 : 1) + (resumed === null ? 0 : 1));
    writer.uint(FrameKind.Welcome);
    writer.uint(welcome.wireVersion ?? WIRE_VERSION);
    writer.uint(BigInt(`0x${welcome.fingerprint}`));
    writer.uint(playerIdToNumber(welcome.id));
    writer.uint(welcome.netId);
    writer.uint(welcome.tickRate);
    writeSettings(writer, welcome.settings ?? DEFAULT_SETTINGS);
    if (token !== null)
        writer.str(token);
    if (resumed !== null)
        writer.uint(resumed);
    return writer.finish();
}
/**
 * Encodes a sync frame. Each entry's mask is made of the fields present in its
 * `fields`; a player's `netId` (an entity's `id`) is written before them. As the
 * Rust server does, the frame has ten elements when it carries entity changes
 * (`despawned` or `entities` not empty), else eight.
 */
export function encodeSync(protocol, frame) {
    const despawned = frame.despawned ?? [];
    const entities = frame.entities ?? [];
    const withEntities = despawned.length > 0 || entities.length > 0;
    const entity = protocol.entity;
    if (withEntities && entity === null) {
        throw new EncodeError("sync frame", "the frame carries entity changes, but this protocol has no entities");
    }
    const writer = new Writer(64);
    writer.arrayLen(withEntities ? 10 : 8);
    writer.uint(FrameKind.Sync);
    writer.uint(frame.tick);
    writer.uint(frame.online);
    writer.uint(frame.flags);
    writer.arrayLen(frame.left.length);
    for (const netId of frame.left)
        writer.uint(netId);
    writer.arrayLen(frame.joined.length);
    for (const { netId, id } of frame.joined) {
        writer.arrayLen(2);
        writer.uint(netId);
        writer.uint(playerIdToNumber(id));
    }
    writer.arrayLen(frame.players.length);
    for (const entry of frame.players) {
        const body = writeFieldsHeader(writer, protocol.state, entry.fields, 1, `sync entry of net id ${entry.netId}`);
        writer.uint(entry.netId);
        body();
    }
    if (frame.server === null)
        writer.nil();
    else
        writeFieldsHeader(writer, protocol.serverState, frame.server, 0, "server state")();
    if (withEntities && entity !== null) {
        writer.arrayLen(despawned.length);
        for (const id of despawned) {
            if (!isEntityId(id))
                throw new EncodeError("despawned", `an entity id is a 32-bit unsigned integer, found ${String(id)}`);
            writer.uint(id);
        }
        writer.arrayLen(entities.length);
        for (const entry of entities) {
            if (!isEntityId(entry.id))
                throw new EncodeError("entities", `an entity id is a 32-bit unsigned integer, found ${String(entry.id)}`);
            const body = writeFieldsHeader(writer, entity, entry.fields, 1, `entity ${entry.id}`);
            writer.uint(entry.id);
            body();
        }
    }
    return writer.finish();
}
/** Writes the array header of `[…before, mask, value…]` and returns what writes the mask and values. */
function writeFieldsHeader(writer, state, object, before, where) {
    const fields = object;
    const known = new Set(state.fields.map((field) => field.name));
    const stray = Object.keys(fields).find((name) => !known.has(name));
    if (stray !== undefined)
        throw new EncodeError(where, `${state.name} has no synced field \`${stray}\``);
    const present = state.fields.map((field, index) => ({ field, index })).filter(({ field }) => Object.hasOwn(fields, field.name));
    let mask = 0n;
    for (const { index } of present)
        mask |= 1n << BigInt(index);
    writer.arrayLen(before + 1 + present.length);
    return () => {
        writer.uint(mask);
        for (const { field } of present) {
            try {
                field.codec.encode(writer, fields[field.name]);
            }
            catch (error) {
                const value = asValueError(error);
                throw new EncodeError([where, `field \`${field.name}\``, ...value.path].join(": "), value.reason);
            }
        }
    };
}
