/**
 * The code generator: a protocol schema in, one readable TypeScript module out,
 * with an interface per state and user type (and a `…Delta` interface per nested
 * state, and per state with a field sent in parts: what a sync says changed), an
 * events map and a discriminated union per direction, the match options and
 * metadata types, and a `Client` class whose `send`/`on` only accept the
 * protocol's events with their exact payloads, and whose static `create`, `join`,
 * `find` and `list` ask for matches of the protocol's kind with typed options and
 * listings.
 */
import { NodelinkClient } from "../client.js";
import { SchemaError } from "../errors.js";
import { fingerprintOf } from "../fingerprint.js";
import { typeName, validateSchema, WIRE_VERSION } from "../schema.js";
/** Names the generated module imports, declares or refers to, which user types must not shadow. */
const RESERVED_NAMES = new Set([
    "Array",
    "BigInt",
    "Boolean",
    "Client",
    "ClientOptions",
    "Error",
    "FINGERPRINT",
    "ListOptions",
    "Map",
    "MatchListing",
    "MatchRequest",
    "NodelinkClient",
    "NoState",
    "Number",
    "Object",
    "PlayerId",
    "Promise",
    "Protocol",
    "ProtocolSchema",
    "Readonly",
    "Record",
    "String",
    "Symbol",
    "SyncMapDelta",
    "SyncVecDelta",
    "SyncDequeDelta",
    "Unsubscribe",
    "listMatches",
    "schema",
]);
/** Words that cannot name a parameter. */
const RESERVED_WORDS = new Set(("break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "implements interface let package private protected public static yield await arguments eval undefined").split(" "));
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** A property key: bare when it can be, quoted otherwise. */
function propertyKey(name) {
    return IDENTIFIER.test(name) || /^(0|[1-9][0-9]*)$/.test(name) ? name : JSON.stringify(name);
}
/** A parameter name for a field: its name, or `value<i>` for a position, escaped if reserved. */
function parameterName(name, index) {
    if (/^[0-9]+$/.test(name))
        return `value${index}`;
    const safe = IDENTIFIER.test(name) ? name : name.replace(/[^A-Za-z0-9_$]/g, "_");
    return RESERVED_WORDS.has(safe) ? `${safe}_` : safe;
}
/** `player_moved` → `PlayerMoved`. */
export function pascalCase(wireName) {
    return wireName
        .split("_")
        .filter((part) => part !== "")
        .map((part) => part[0].toUpperCase() + part.slice(1))
        .join("");
}
/** A doc comment, indented. */
function doc(lines, indent = "") {
    const all = (typeof lines === "string" ? [lines] : lines).flatMap((line) => line.split("\n"));
    if (all.length === 1)
        return `${indent}/** ${all[0].replace(/\*\//g, "*\\/")} */\n`;
    return `${indent}/**\n${all.map((line) => `${indent} * ${line.replace(/\*\//g, "*\\/")}`.trimEnd()).join("\n")}\n${indent} */\n`;
}
/** The TypeScript name of each schema type, with names that would shadow something renamed. */
class Names {
    types;
    taken = new Set(RESERVED_NAMES);
    user = new Map();
    deltas = new Map();
    constructor(types) {
        this.types = types;
    }
    /** Keeps a name the generated module imports from being taken by a declaration. */
    reserve(name) {
        this.taken.add(name);
    }
    /** Claims a name for a declaration: the wanted one, or it with a suffix when taken. */
    claim(wanted) {
        let name = wanted;
        for (let n = 1; this.taken.has(name); n += 1)
            name = n === 1 ? `${wanted}_` : `${wanted}_${n}`;
        this.taken.add(name);
        return name;
    }
    defineUser(schemaName) {
        const name = this.claim(schemaName);
        this.user.set(schemaName, name);
        return name;
    }
    userType(schemaName) {
        return this.user.get(schemaName);
    }
    /** Whether `type` is a nested state (a reference to a `state` definition). */
    isNestedState(type) {
        return typeof type === "object" && "ref" in type && "state" in this.types[type.ref];
    }
    /** Claims the name of the delta type of the nested state `schemaName`: `StatsDelta`. */
    defineDelta(schemaName) {
        const name = this.claim(`${this.userType(schemaName)}Delta`);
        this.deltas.set(schemaName, name);
        return name;
    }
    deltaType(schemaName) {
        return this.deltas.get(schemaName);
    }
    /** Whether a field of type `type` is sent in parts: a nested state, a `SyncMap`, a `SyncVec` or a `SyncDeque`. */
    isSentInParts(type) {
        return this.isNestedState(type) || (typeof type === "object" && ("sync_map" in type || "sync_vec" in type || "sync_deque" in type));
    }
}
/** Renders a schema type as a TypeScript type. */
function tsType(type, names) {
    if (typeof type === "string") {
        switch (type) {
            case "bool":
                return "boolean";
            case "char":
            case "str":
                return "string";
            case "unit":
                return "null";
            case "player_id":
                return "PlayerId";
            case "entity_id":
                return "EntityId";
            case "u64":
            case "i64":
            case "u128":
            case "i128":
                return "bigint";
            default:
                return "number";
        }
    }
    if ("option" in type) {
        const inner = tsType(type.option, names);
        return inner.endsWith("| null") || inner === "null" ? inner : `${inner} | null`;
    }
    if ("seq" in type)
        return arrayOf(tsType(type.seq, names));
    if ("map" in type)
        return `Map<${tsType(type.map[0], names)}, ${tsType(type.map[1], names)}>`;
    if ("array" in type) {
        const [item, n] = type.array;
        const inner = tsType(item, names);
        // Spelt out as a tuple while that stays readable; longer arrays are checked at run time.
        return n <= 8 ? `[${Array.from({ length: n }, () => inner).join(", ")}]` : arrayOf(inner);
    }
    if ("tuple" in type)
        return `[${type.tuple.map((item) => tsType(item, names)).join(", ")}]`;
    if ("ref" in type)
        return names.userType(type.ref);
    if ("sync_map" in type)
        return `Map<${tsType(type.sync_map[0], names)}, ${tsType(type.sync_map[1], names)}>`;
    if ("sync_vec" in type)
        return arrayOf(tsType(type.sync_vec, names));
    if ("sync_deque" in type)
        return arrayOf(tsType(type.sync_deque, names));
    return "unknown";
}
/**
 * What a sync says of a field of type `type`: its new value, or for a field sent in
 * parts, its delta type (a nested state's changed fields, a synced collection's
 * changed entries).
 */
function deltaTsType(type, names) {
    if (names.isNestedState(type))
        return names.deltaType(type.ref);
    if (typeof type === "object" && "sync_map" in type) {
        return `SyncMapDelta<${tsType(type.sync_map[0], names)}, ${deltaTsType(type.sync_map[1], names)}>`;
    }
    if (typeof type === "object" && "sync_vec" in type)
        return `SyncVecDelta<${deltaTsType(type.sync_vec, names)}>`;
    if (typeof type === "object" && "sync_deque" in type)
        return `SyncDequeDelta<${deltaTsType(type.sync_deque, names)}>`;
    return tsType(type, names);
}
function arrayOf(inner) {
    return /^[A-Za-z0-9_$.<>]+$/.test(inner) && !inner.includes("<") ? `${inner}[]` : `Array<${inner}>`;
}
/** `f32`, or `[u8; 32]` for a long array whose length the type does not show. */
function typeNote(type) {
    return `\`${typeName(type)}\``;
}
/** The members of an object type for named fields, one per line. */
function objectMembers(fields, names, indent) {
    return fields.map((field) => `${doc(typeNote(field.type), indent)}${indent}${propertyKey(field.name)}: ${tsType(field.type, names)};\n`).join("");
}
function inlineObject(fields, names) {
    if (fields.length === 0)
        return "Record<string, never>";
    return `{ ${fields.map((field) => `${propertyKey(field.name)}: ${tsType(field.type, names)}`).join("; ")} }`;
}
function userTypeDecl(schemaName, def, names) {
    const name = names.userType(schemaName);
    const renamed = name === schemaName ? [] : [`(\`${schemaName}\` in the schema: renamed, the name is taken here.)`];
    if ("state" in def) {
        const delta = names.deltaType(schemaName);
        return (`${doc([`\`${schemaName}\`: a nested state, synced field by field. Only synced fields are here.`, ...renamed])}` +
            `export interface ${name} {\n${stateMembers(def.state.fields, names)}}\n\n` +
            deltaDecl(def.state.fields, delta, changedLines(name, "inside a delta", hasFieldInParts(def.state.fields, names), hasSyncedCollection(def.state.fields, names)), names));
    }
    if ("struct" in def) {
        const { kind, fields } = def.struct;
        if (kind === "unit") {
            return `${doc([`\`${schemaName}\`: a unit struct.`, ...renamed])}export type ${name} = null;\n`;
        }
        if (kind === "tuple") {
            const items = fields.map((field) => tsType(field.type, names));
            if (items.length === 1) {
                return `${doc([`\`${schemaName}\`: a newtype of ${typeNote(fields[0].type)}, written as its field.`, ...renamed])}export type ${name} = ${items[0]};\n`;
            }
            return `${doc([`\`${schemaName}\`: a tuple struct.`, ...renamed])}export type ${name} = [${items.join(", ")}];\n`;
        }
        if (fields.length === 0)
            return `${doc([`\`${schemaName}\`.`, ...renamed])}export type ${name} = Record<string, never>;\n`;
        return `${doc([`\`${schemaName}\`.`, ...renamed])}export interface ${name} {\n${objectMembers(fields, names, "  ")}}\n`;
    }
    const variants = def.enum.map((variant) => {
        if (variant.kind === "unit")
            return JSON.stringify(variant.name);
        const key = propertyKey(variant.name);
        if (variant.kind === "named")
            return `{ ${key}: ${inlineObject(variant.fields, names)} }`;
        const items = variant.fields.map((field) => tsType(field.type, names));
        return `{ ${key}: ${items.length === 1 ? items[0] : `[${items.join(", ")}]`} }`;
    });
    const lines = [
        `\`${schemaName}\`: an enum. A variant without fields is its name; any other is`,
        "an object with one key, the variant's name, holding its fields.",
        ...renamed,
    ];
    if (variants.length === 0)
        return `${doc(lines)}export type ${name} = never;\n`;
    return `${doc(lines)}export type ${name} =\n${variants.map((variant) => `  | ${variant}`).join("\n")};\n`;
}
function stateDecl(state, name, what) {
    return `${doc([`${what} (\`${state.name}\`). Only synced fields are here.`])}export interface ${name} {\n`;
}
/**
 * The type of an enum of kinds (`one_of`): an object with one key, its kind's
 * name, holding that kind's value; `"loot" in thing` tells the kinds apart.
 */
function kindsDecl(state, name, lines, names) {
    const kinds = state.fields.flatMap((field) => (field.skip === true ? [] : [`  | { ${propertyKey(field.name)}: ${tsType(field.type, names)} }`]));
    const intro = [
        ...lines,
        `An enum of kinds (\`${state.name}\`): an object with one key, its kind's name, holding`,
        "that kind's fields. A value that changes kind is replaced whole.",
    ];
    return `${doc(intro)}export type ${name} =\n${kinds.join("\n")};\n`;
}
/** A state's type: an interface of its fields, or the union of an enum of kinds. */
function stateTypeDecl(state, name, what, names, of = "player") {
    if (state.one_of === true)
        return kindsDecl(state, name, [`${what}.`], names);
    return `${stateDecl(state, name, what)}${stateMembers(state.fields, names, of)}}\n`;
}
/** What an `#[sync(owner)]` field's doc says, by whose state it is. */
const OWNER_NOTES = {
    player: " Only its own player receives it (`#[sync(owner)]`): the default in other players' copies.",
    entity: " Never sent (`#[sync(owner)]` on an entity): always the default here.",
};
function stateMembers(fields, names, of = "player") {
    return fields
        .map((field) => {
        if (field.skip === true)
            return `  // \`${field.name}\` is server-only (\`#[sync(skip)]\`): never on the wire.\n`;
        const nested = names.isNestedState(field.type)
            ? " (a nested state)"
            : typeof field.type === "object" && "sync_map" in field.type
                ? " (synced per entry)"
                : typeof field.type === "object" && "sync_vec" in field.type
                    ? " (synced per index)"
                    : typeof field.type === "object" && "sync_deque" in field.type
                        ? " (a bounded log, oldest first)"
                        : "";
        const owner = field.owner === true ? OWNER_NOTES[of] : "";
        return `${doc(`${typeNote(field.type)}${nested}, mask bit ${field.index}.${owner}`, "  ")}  ${propertyKey(field.name)}: ${tsType(field.type, names)};\n`;
    })
        .join("");
}
/** Whether a state has a field sent in parts, so that its deltas are not just `Partial` of it. */
function hasFieldInParts(fields, names) {
    return fields.some((field) => field.skip !== true && names.isSentInParts(field.type));
}
/** Whether a state has a `SyncMap`, `SyncVec` or `SyncDeque` field. */
function hasSyncedCollection(fields, names) {
    return fields.some((field) => field.skip !== true && names.isSentInParts(field.type) && !names.isNestedState(field.type));
}
/** The doc of a delta type: what a sync says changed in `name`, found in `where`. */
function changedLines(name, where, nested, collections = false) {
    if (!nested)
        return [`What a sync says changed in a \`${name}\` (${where}): the changed fields only.`];
    if (collections) {
        return [
            `What a sync says changed in a \`${name}\` (${where}): the changed fields;`,
            "a nested state's field holds its changed sub-fields only, a `SyncMap`'s or",
            "`SyncVec`'s its changed entries. The mirror merges them.",
        ];
    }
    return [
        `What a sync says changed in a \`${name}\` (${where}): the changed fields;`,
        "a nested state's field holds its changed sub-fields only. The mirror merges them.",
    ];
}
/**
 * The delta type of a state: each synced field optional, a nested state's field
 * its own delta type (its changed sub-fields only).
 */
function deltaDecl(fields, name, lines, names) {
    const members = fields.flatMap((field) => {
        if (field.skip === true)
            return [];
        return [`  ${propertyKey(field.name)}?: ${deltaTsType(field.type, names)};\n`];
    });
    if (members.length === 0)
        return `${doc(lines)}export type ${name} = Record<string, never>;\n`;
    return `${doc(lines)}export interface ${name} {\n${members.join("")}}\n`;
}
function eventsNames(events, names) {
    const union = names.claim(events.name);
    const map = names.claim(`${events.name}Events`);
    const payloads = new Map();
    for (const event of events.events) {
        if (event.kind !== "unit")
            payloads.set(event.name, names.claim(`${events.name}${pascalCase(event.name)}`));
    }
    return { map, union, payloads };
}
function payloadType(event, eventsNames) {
    return eventsNames.payloads.get(event.name) ?? "undefined";
}
function eventsDecl(events, direction, own, names) {
    let out = "";
    for (const event of events.events) {
        const payload = own.payloads.get(event.name);
        if (payload === undefined)
            continue;
        if (event.kind === "named") {
            out += `${doc(`The fields of \`${event.name}\`.`)}export interface ${payload} {\n${objectMembers(event.fields, names, "  ")}}\n\n`;
        }
        else {
            out += `${doc(`The fields of \`${event.name}\`, by position.`)}export type ${payload} = [${event.fields.map((field) => tsType(field.type, names)).join(", ")}];\n\n`;
        }
    }
    out += doc([`The events ${direction} (\`${events.name}\`), by wire name, with their payloads.`, "An event without fields has the payload `undefined`."]);
    if (events.events.length === 0) {
        out += `export type ${own.map} = Record<string, never>;\n\n`;
    }
    else {
        out += `export interface ${own.map} {\n${events.events.map((event) => `  ${propertyKey(event.name)}: ${payloadType(event, own)};\n`).join("")}}\n\n`;
    }
    out += doc(`One event ${direction}: switch on \`type\`.`);
    if (events.events.length === 0)
        return `${out}export type ${own.union} = never;\n`;
    return `${out}export type ${own.union} =\n${events.events
        .map((event) => `  | { readonly type: ${JSON.stringify(event.name)}; readonly data: ${payloadType(event, own)} }`)
        .join("\n")};\n`;
}
/** The client's own members, which convenience methods must not shadow. */
function runtimeMembers() {
    const out = new Set();
    for (let proto = NodelinkClient.prototype; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto))
            out.add(name);
    }
    // Instance fields are not on the prototype.
    for (const name of ["url", "protocol"])
        out.add(name);
    return out;
}
/** The `MatchOptions` and `MatchMetadata` aliases, for a protocol that has them. */
function matchTypesDecl(schema, match, names) {
    let out = "";
    if (schema.options !== undefined && match.options !== null) {
        out += doc([
            `What a client sends to create or find a match of this protocol (${typeNote(schema.options)}):`,
            "`Client.create(url, options)`, `Client.find(url, options)`.",
        ]);
        out += `export type ${match.options} = ${tsType(schema.options, names)};

`;
    }
    if (schema.metadata !== undefined && match.metadata !== null) {
        out += doc([`What a match of this protocol shows in listings (${typeNote(schema.metadata)}): \`Client.list(url)\`.`]);
        out += `export type ${match.metadata} = ${tsType(schema.metadata, names)};

`;
    }
    return out;
}
/** The client's static methods that ask for a match: create, createPrivate, join, find, list. */
function matchMethods(schema, match) {
    const kind = schema.kind;
    const join = doc([
        "A client for the match with this code on the server at `url` (codes are read",
        "case-insensitively). A full or locked match, or a code no match has, is refused",
        "(`RefusedError`, its `refusal` `\"MatchFull\"`, `\"MatchLocked\"` or `\"UnknownMatch\"`).",
    ], "  ") +
        `  static join(url: string, code: string, clientOptions?: ClientOptions): Client {
` +
        `    return new Client(MatchRequest.join(code).apply(url), clientOptions);
  }
`;
    if (kind === undefined)
        return [join];
    // Without options the calls take none: the server makes the match from the default.
    const param = match.options === null ? "" : `, options: ${match.options}`;
    const value = match.options === null ? "null" : "options";
    const listed = match.metadata ?? "null";
    const create = (name, isPrivate, lines) => doc(lines, "  ") +
        `  static ${name}(url: string${param}, clientOptions?: ClientOptions): Client {
` +
        `    return new Client(MatchRequest.create(schema, ${value}${isPrivate ? ", true" : ""}).apply(url), clientOptions);
  }
`;
    return [
        create("create", false, [
            `A client for a new match of this protocol's kind (\`${kind}\`) on the server at \`url\`,`,
            `made from ${match.options === null ? "the default options" : "`options`"} and listed for others to find; it joins the match it`,
            "made. The match exists once the client is welcomed; its code is `client.matchCode`.",
            "Reconnecting, the client goes back to that match by its code.",
            "",
            "```ts",
            `const client = Client.create("ws://localhost:5000/"${match.options === null ? "" : ", options"});`,
            "await client.connect();",
            "invite(client.matchCode);",
            "```",
        ]),
        create("createPrivate", true, [
            "As `create`, but the match is private: not listed, not found; players join it by",
            "its code.",
        ]),
        join,
        doc([
            `A client for a listed match of this protocol's kind that the server finds suits`,
            `${match.options === null ? "the default options" : "`options`"} (by the kind's filter on each match's metadata), or, when none does,`,
            "for a new one made from them: join-or-create, in one request.",
        ], "  ") +
            `  static find(url: string${param}, clientOptions?: ClientOptions): Client {
` +
            `    return new Client(MatchRequest.find(schema, ${value}).apply(url), clientOptions);
  }
`,
        doc([
            `The listed matches of this protocol's kind on the server at \`url\`: each one's code,`,
            "players, places, lock and metadata, for a lobby screen.",
            "",
            "```ts",
            'for (const match of await Client.list("ws://localhost:5000/")) {',
            "  console.log(`${match.code}: ${match.players}/${match.maxPlayers}`);",
            "}",
            "```",
        ], "  ") +
            `  static list(url: string, options?: ListOptions): Promise<MatchListing<${listed}>[]> {
` +
            `    return listMatches<${listed}>(schema, url, options);
  }
`,
    ];
}
function clientDecl(schema, toServer, toClient, match, names) {
    const taken = runtimeMembers();
    const methods = [];
    const skipped = [];
    const claim = (name, event) => {
        if (taken.has(name)) {
            skipped.push(`\`${name}\` for \`${event}\` would hide the client's own \`${name}\``);
            return false;
        }
        taken.add(name);
        return true;
    };
    for (const event of schema.to_server.events) {
        const method = `send${pascalCase(event.name)}`;
        if (!claim(method, event.name))
            continue;
        // A named event takes its fields object, so that fields are matched by name:
        // reordering two fields of one type in the Rust enum cannot swap their values.
        // A tuple event's fields have no names: they stay positional, in their order.
        let signature = "";
        let payload = "";
        if (event.kind === "named") {
            signature = `fields: ${payloadType(event, toServer)}`;
            payload = ", fields";
        }
        else if (event.kind === "tuple") {
            const params = event.fields.map((field, i) => ({ name: parameterName(field.name, i), field }));
            signature = params.map(({ name, field }) => `${name}: ${tsType(field.type, names)}`).join(", ");
            payload = `, [${params.map(({ name }) => name).join(", ")}]`;
        }
        const example = event.kind === "named" ? `, its fields by name: \`${method}({ ${event.fields.map((field) => (parameterName(field.name, 0) === field.name ? field.name : `${propertyKey(field.name)}: …`)).join(", ")} })\`` : "";
        methods.push(`${doc(`Sends \`${event.name}\` (queued until connected)${example}.`, "  ")}  ${method}(${signature}): void {\n    this.send(${JSON.stringify(event.name)}${payload});\n  }\n`);
    }
    for (const event of schema.to_client.events) {
        const method = `on${pascalCase(event.name)}`;
        if (!claim(method, event.name))
            continue;
        const payload = payloadType(event, toClient);
        const param = payload === "undefined" ? "handler: () => void" : `handler: (event: ${payload}) => void`;
        methods.push(`${doc(`Calls \`handler\` with each \`${event.name}\` event.`, "  ")}  ${method}(${param}): Unsubscribe {\n    return this.on(${JSON.stringify(event.name)}, handler);\n  }\n`);
    }
    const notes = skipped.length === 0 ? "" : skipped.map((line) => `  // No ${line}: use send/on with the event's name.\n`).join("");
    return (doc([
        "A client of this protocol.",
        "",
        "```ts",
        'const client = new Client("ws://localhost:5000/");',
        "await client.connect();",
        ...(schema.entity === undefined ? [] : ["for (const [id, entity] of client.entities) draw(id, entity);"]),
        "```",
        "",
        "In Node 20, pass the `ws` package's WebSocket: `new Client(url, { WebSocket })`.",
    ]) +
        `export class Client extends NodelinkClient<Protocol> {\n` +
        `  constructor(url: string, options?: ClientOptions) {\n    super(schema, url, options);\n  }\n\n` +
        matchMethods(schema, match).join("\n") +
        (methods.length > 0 || notes ? `\n${notes}${methods.join("\n")}` : "") +
        `}\n`);
}
/** A JSON value as a TypeScript literal: short objects and arrays on one line, longer ones one entry per line. */
function literal(value, indent) {
    const flat = flatLiteral(value);
    if (flat.length + indent.length <= 100 || typeof value !== "object" || value === null)
        return flat;
    const inner = `${indent}  `;
    if (Array.isArray(value)) {
        if (value.length === 0)
            return "[]";
        return `[\n${value.map((item) => `${inner}${literal(item, inner)},`).join("\n")}\n${indent}]`;
    }
    const entries = Object.entries(value);
    if (entries.length === 0)
        return "{}";
    return `{\n${entries.map(([key, item]) => `${inner}${propertyKey(key)}: ${literal(item, inner)},`).join("\n")}\n${indent}}`;
}
function flatLiteral(value) {
    if (Array.isArray(value))
        return `[${value.map(flatLiteral).join(", ")}]`;
    if (typeof value === "object" && value !== null) {
        const entries = Object.entries(value);
        if (entries.length === 0)
            return "{}";
        return `{ ${entries.map(([key, item]) => `${propertyKey(key)}: ${flatLiteral(item)}`).join(", ")} }`;
    }
    return JSON.stringify(value);
}
/** Every type expression of a schema's fields, and its match options and metadata. */
function allTypes(schema) {
    const matchTypes = [schema.options, schema.metadata].filter((type) => type !== undefined);
    const states = [schema.state, schema.server_state, schema.entity].flatMap((state) => state?.fields ?? []);
    const events = [...schema.to_server.events, ...schema.to_client.events].flatMap((event) => event.fields);
    const types = Object.values(schema.types).flatMap((def) => {
        if ("state" in def)
            return def.state.fields.flatMap((field) => (field.skip === true ? [] : [field]));
        return "struct" in def ? def.struct.fields : def.enum.flatMap((variant) => variant.fields);
    });
    return [...states.flatMap((field) => (field.skip === true ? [] : [field.type])), ...[...events, ...types].map((field) => field.type), ...matchTypes];
}
/** Whether a type expression contains the primitive `primitive`. */
function mentions(type, primitive) {
    if (typeof type === "string")
        return type === primitive;
    if ("option" in type)
        return mentions(type.option, primitive);
    if ("seq" in type)
        return mentions(type.seq, primitive);
    if ("map" in type)
        return mentions(type.map[0], primitive) || mentions(type.map[1], primitive);
    if ("array" in type)
        return mentions(type.array[0], primitive);
    if ("tuple" in type)
        return type.tuple.some((item) => mentions(item, primitive));
    if ("sync_map" in type)
        return mentions(type.sync_map[0], primitive) || mentions(type.sync_map[1], primitive);
    if ("sync_vec" in type)
        return mentions(type.sync_vec, primitive);
    if ("sync_deque" in type)
        return mentions(type.sync_deque, primitive);
    return false;
}
/** Whether a type expression contains a synced collection with the tag `tag` (`sync_map`, `sync_vec`, `sync_deque`). */
function containsTag(type, tag) {
    if (typeof type === "string" || "ref" in type || "opaque" in type)
        return false;
    if (tag in type)
        return true;
    if ("sync_map" in type)
        return containsTag(type.sync_map[0], tag) || containsTag(type.sync_map[1], tag);
    if ("sync_vec" in type)
        return containsTag(type.sync_vec, tag);
    if ("sync_deque" in type)
        return containsTag(type.sync_deque, tag);
    // Synced collections are only state fields or the values of synced collections.
    return false;
}
/**
 * Generates the TypeScript module for a schema (parsed JSON). Throws a
 * {@link SchemaError} naming the path of a problem, including a `fingerprint`
 * that does not match the schema's contents.
 */
export function generate(input, options = {}) {
    const schema = validateSchema(input);
    if (schema.wire_version !== WIRE_VERSION) {
        throw new SchemaError("$.wire_version", `this generator targets wire version ${WIRE_VERSION}, the schema is for version ${schema.wire_version}`);
    }
    const computed = fingerprintOf(schema);
    if (computed !== schema.fingerprint) {
        throw new SchemaError("$.fingerprint", `the schema says ${schema.fingerprint} but its contents hash to ${computed}: it was edited, or written by another nodelink version`);
    }
    const runtime = options.runtime ?? "nodelink-client";
    const names = new Names(schema.types);
    const usesPlayerId = allTypes(schema).some((type) => mentions(type, "player_id"));
    const usesEntityId = allTypes(schema).some((type) => mentions(type, "entity_id"));
    // Imported only when used, so only then kept from user types.
    if (usesEntityId)
        names.reserve("EntityId");
    const userNames = Object.keys(schema.types).map((name) => names.defineUser(name));
    const stateName = schema.state === null ? null : names.claim(schema.state.name);
    const serverStateName = schema.server_state === null ? null : names.claim(schema.server_state.name);
    const entityName = schema.entity === undefined ? null : names.claim(schema.entity.name);
    const toServer = eventsNames(schema.to_server, names);
    const toClient = eventsNames(schema.to_client, names);
    const match = {
        options: schema.options === undefined ? null : names.claim("MatchOptions"),
        metadata: schema.metadata === undefined ? null : names.claim("MatchMetadata"),
    };
    // Delta types, for nested states and the states that have them, are named last:
    // they never take a name from anything else.
    for (const [name, def] of Object.entries(schema.types))
        if ("state" in def)
            names.defineDelta(name);
    const deltaOf = (state, name) => state != null && name !== null && hasFieldInParts(state.fields, names) ? names.claim(`${name}Delta`) : null;
    const stateDeltaName = deltaOf(schema.state, stateName);
    const serverStateDeltaName = deltaOf(schema.server_state, serverStateName);
    const entityDeltaName = deltaOf(schema.entity, entityName);
    const source = options.source === undefined ? "a nodelink protocol schema" : `\`${options.source}\``;
    let out = `// Generated by nodelink-codegen from ${source}: do not edit.\n` +
        `// Change the Rust protocol, print its schema again and regenerate this file.\n` +
        `// Protocol fingerprint ${schema.fingerprint}, wire version ${schema.wire_version}.\n\n`;
    const uses = (tag) => allTypes(schema).some((type) => containsTag(type, tag));
    const matchmaking = schema.kind !== undefined;
    const imports = [
        "type ClientOptions",
        ...(usesEntityId ? ["type EntityId"] : []),
        ...(matchmaking ? ["listMatches", "type ListOptions", "type MatchListing"] : []),
        "MatchRequest",
        "NodelinkClient",
        ...(stateName === null || serverStateName === null ? ["type NoState"] : []),
        ...(usesPlayerId ? ["type PlayerId"] : []),
        "type ProtocolSchema",
        ...(uses("sync_map") ? ["type SyncMapDelta"] : []),
        ...(uses("sync_vec") ? ["type SyncVecDelta"] : []),
        ...(uses("sync_deque") ? ["type SyncDequeDelta"] : []),
        "type Unsubscribe",
    ];
    out += `import { ${imports.join(", ")} } from ${JSON.stringify(runtime)};\n\n`;
    out += `${doc("The fingerprint of the protocol this module was generated from.")}export const FINGERPRINT = ${JSON.stringify(schema.fingerprint)};\n\n`;
    if (userNames.length > 0) {
        out += "// ---------------------------------------------------------------------------\n// Types used in fields\n\n";
        out += Object.entries(schema.types)
            .map(([name, def]) => userTypeDecl(name, def, names))
            .join("\n");
        out += "\n";
    }
    out += "// ---------------------------------------------------------------------------\n// Synced state\n\n";
    if (schema.state !== null && stateName !== null) {
        out += `${stateTypeDecl(schema.state, stateName, "Each player's synced state", names)}\n`;
        if (stateDeltaName !== null) {
            const lines = changedLines(stateName, "the `fields` of `sync.changes`", true, hasSyncedCollection(schema.state.fields, names));
            out += `${deltaDecl(schema.state.fields, stateDeltaName, lines, names)}\n`;
        }
    }
    else {
        out += "// The protocol has no player state (`()`): players are mirrored as empty objects.\n\n";
    }
    if (schema.server_state !== null && serverStateName !== null) {
        out += `${stateTypeDecl(schema.server_state, serverStateName, "The state the server shares with every client", names)}\n`;
        if (serverStateDeltaName !== null) {
            const lines = changedLines(serverStateName, "`sync.server`", true, hasSyncedCollection(schema.server_state.fields, names));
            out += `${deltaDecl(schema.server_state.fields, serverStateDeltaName, lines, names)}\n`;
        }
    }
    else {
        out += "// The protocol has no shared server state (`()`).\n\n";
    }
    if (schema.entity !== undefined && entityName !== null) {
        if (schema.entity.one_of === true) {
            out += `${kindsDecl(schema.entity, entityName, ["The synced state of each entity the server owns, mirrored in `client.entities`."], names)}\n`;
        }
        else {
            out += `${doc([
                `The synced state of each entity the server owns (\`${schema.entity.name}\`), mirrored in \`client.entities\`.`,
                "Only synced fields are here.",
            ])}export interface ${entityName} {\n${stateMembers(schema.entity.fields, names, "entity")}}\n\n`;
        }
        if (entityDeltaName !== null) {
            const lines = changedLines(entityName, "the `fields` of `sync.entityChanges`", true, hasSyncedCollection(schema.entity.fields, names));
            out += `${deltaDecl(schema.entity.fields, entityDeltaName, lines, names)}\n`;
        }
    }
    out += "// ---------------------------------------------------------------------------\n// Events\n\n";
    out += `${eventsDecl(schema.to_server, "this client sends", toServer, names)}\n`;
    out += `${eventsDecl(schema.to_client, "the server sends", toClient, names)}\n`;
    const matchTypes = matchTypesDecl(schema, match, names);
    if (matchTypes !== "")
        out += `// ---------------------------------------------------------------------------\n// Matches\n\n${matchTypes}`;
    out += "// ---------------------------------------------------------------------------\n// The protocol and its client\n\n";
    out += doc("The protocol's types, as the generic client takes them.");
    out +=
        `export interface Protocol {\n` +
            `  state: ${stateName ?? "NoState"};\n` +
            `  serverState: ${serverStateName ?? "NoState"};\n` +
            (entityName === null ? "" : `  entity: ${entityName};\n`) +
            `  toServer: ${toServer.map};\n` +
            `  toClient: ${toClient.map};\n` +
            (stateDeltaName === null ? "" : `  stateDelta: ${stateDeltaName};\n`) +
            (serverStateDeltaName === null ? "" : `  serverStateDelta: ${serverStateDeltaName};\n`) +
            (entityDeltaName === null ? "" : `  entityDelta: ${entityDeltaName};\n`) +
            `}\n\n`;
    out += doc("The schema this module was generated from: field types per event and per state mask bit, for the runtime.");
    out += `export const schema: ProtocolSchema = ${literal(schema, "")};\n\n`;
    out += clientDecl(schema, toServer, toClient, match, names);
    return out;
}
