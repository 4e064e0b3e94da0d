/**
 * The protocol schema: what `Protocol::schema()` prints on the Rust side, as
 * TypeScript types, and its validation.
 */
import { SchemaError } from "./errors.js";
/** The wire version this package speaks. */
export const WIRE_VERSION = 3;
/** Every primitive type name. */
export const PRIMITIVE_TYPES = [
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
    "entity_id",
];
const HEX16 = /^[0-9a-f]{16}$/;
const KINDS = ["named", "tuple", "unit"];
/** The most fields a state can have: its masks are 64-bit. */
export const MAX_STATE_FIELDS = 64;
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
function describe(value) {
    if (value === null)
        return "null";
    if (Array.isArray(value))
        return "an array";
    if (typeof value === "object")
        return "an object";
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
    if (typeof value !== "string")
        throw new SchemaError(path, `expected a string, found ${describe(value)}`);
    return value;
}
function requireName(value, path) {
    const name = requireString(value, path);
    if (name === "")
        throw new SchemaError(path, "a name cannot be empty");
    // Values are built as plain objects keyed by field name: a `__proto__` key would
    // set the object's prototype instead of a property.
    if (name === "__proto__")
        throw new SchemaError(path, "the name `__proto__` is not supported");
    return name;
}
function requireArray(value, path) {
    if (!Array.isArray(value))
        throw new SchemaError(path, `expected an array, found ${describe(value)}`);
    return value;
}
function requireObject(value, path) {
    if (!isObject(value))
        throw new SchemaError(path, `expected an object, found ${describe(value)}`);
    return value;
}
function requireCount(value, path) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        throw new SchemaError(path, `expected a non-negative integer, found ${describe(value)}`);
    }
    return value;
}
/** Checks a type expression; `refs` collects the named types it uses (with paths). */
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
            if (pair.length !== 2)
                throw new SchemaError(at, `expected [key, value], found ${pair.length} elements`);
            return { map: [checkType(pair[0], `${at}[0]`, refs), checkType(pair[1], `${at}[1]`, refs)] };
        }
        case "array": {
            const pair = requireArray(inner, at);
            if (pair.length !== 2)
                throw new SchemaError(at, `expected [type, length], found ${pair.length} elements`);
            return { array: [checkType(pair[0], `${at}[0]`, refs), requireCount(pair[1], `${at}[1]`)] };
        }
        case "tuple": {
            const items = requireArray(inner, at);
            return { tuple: items.map((item, i) => checkType(item, `${at}[${i}]`, refs)) };
        }
        case "ref": {
            const name = requireName(inner, at);
            if (!refs.has(name))
                refs.set(name, at);
            return { ref: name };
        }
        case "opaque": {
            const hex = requireString(inner, at);
            if (!HEX16.test(hex))
                throw new SchemaError(at, `expected 16 lowercase hex digits, found ${JSON.stringify(hex)}`);
            return { opaque: hex };
        }
        case "sync_map": {
            const pair = requireArray(inner, at);
            if (pair.length !== 2)
                throw new SchemaError(at, `expected [key, value], found ${pair.length} elements`);
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
/** Checks a kind of match's name: what a request's `kind` parameter carries. */
function checkKindName(value, path) {
    const kind = requireString(value, path);
    if (kind === "")
        throw new SchemaError(path, "a kind's name cannot be empty");
    return kind;
}
function checkKind(value, path) {
    const kind = requireString(value, path);
    if (!KINDS.includes(kind))
        throw new SchemaError(path, `expected "named", "tuple" or "unit", found ${JSON.stringify(kind)}`);
    return kind;
}
/** Checks a fields list against its kind: unique names, positions for tuples, none for units. */
function checkFields(kind, value, path, refs) {
    const fields = requireArray(value, path);
    if (kind === "unit" && fields.length > 0)
        throw new SchemaError(path, `a unit has no fields, found ${fields.length}`);
    const seen = new Set();
    return fields.map((field, i) => {
        const at = `${path}[${i}]`;
        const object = requireObject(field, at);
        onlyKeys(object, ["name", "type"], at);
        const name = requireName(object.name, `${at}.name`);
        if (kind === "tuple" && name !== String(i)) {
            throw new SchemaError(`${at}.name`, `a tuple's field ${i} is named "${i}", found ${JSON.stringify(name)}`);
        }
        if (seen.has(name))
            throw new SchemaError(`${at}.name`, `duplicate field name \`${name}\``);
        seen.add(name);
        return { name, type: checkType(object.type, `${at}.type`, refs) };
    });
}
/** Checks a state's fields: unique names, synced ones numbered 0, 1, … in order, at most 64. */
function checkStateFields(value, path, refs) {
    const fields = requireArray(value, path);
    const seen = new Set();
    let synced = 0;
    const out = fields.map((field, i) => {
        const at = `${path}[${i}]`;
        const entry = requireObject(field, at);
        const fieldName = requireName(entry.name, `${at}.name`);
        if (seen.has(fieldName))
            throw new SchemaError(`${at}.name`, `duplicate field name \`${fieldName}\``);
        seen.add(fieldName);
        if (entry.skip === true) {
            onlyKeys(entry, ["name", "skip"], at);
            return { name: fieldName, skip: true };
        }
        onlyKeys(entry, ["name", "index", "type", "skip", "owner", "tag"], at);
        if (entry.skip !== undefined && entry.skip !== false) {
            throw new SchemaError(`${at}.skip`, `expected true or false, found ${describe(entry.skip)}`);
        }
        if (entry.owner !== undefined && typeof entry.owner !== "boolean") {
            throw new SchemaError(`${at}.owner`, `expected true or false, found ${describe(entry.owner)}`);
        }
        if (entry.tag !== undefined && (typeof entry.tag !== "string" || entry.tag === "" || /\s/.test(entry.tag))) {
            throw new SchemaError(`${at}.tag`, `expected a name without spaces, found ${describe(entry.tag)}`);
        }
        const index = requireCount(entry.index, `${at}.index`);
        // Synced fields are numbered in declaration order: the mask bit of the n-th
        // synced field is n.
        if (index !== synced) {
            throw new SchemaError(`${at}.index`, `synced fields are numbered 0, 1, … in declaration order: expected ${synced}, found ${index}`);
        }
        synced += 1;
        const type = checkType(entry.type, `${at}.type`, refs);
        return {
            name: fieldName,
            index,
            type,
            ...(entry.owner === true ? { owner: true } : {}),
            ...(typeof entry.tag === "string" ? { tag: entry.tag } : {}),
        };
    });
    if (synced > MAX_STATE_FIELDS) {
        throw new SchemaError(path, `a state has at most ${MAX_STATE_FIELDS} synced fields, found ${synced}`);
    }
    return out;
}
function checkState(value, path, refs) {
    if (value === null)
        return null;
    const object = requireObject(value, path);
    onlyKeys(object, ["name", "fields", "one_of"], path);
    const name = requireName(object.name, `${path}.name`);
    const fields = checkStateFields(object.fields, `${path}.fields`, refs);
    if (object.one_of === undefined)
        return { name, fields };
    if (object.one_of !== true)
        throw new SchemaError(`${path}.one_of`, `\`one_of\` is \`true\` when present, found ${JSON.stringify(object.one_of)}`);
    const skipped = fields.find((field) => "skip" in field);
    if (skipped !== undefined)
        throw new SchemaError(`${path}.fields`, `an enum of kinds has no server-only fields, found \`${skipped.name}\``);
    if (fields.length === 0)
        throw new SchemaError(`${path}.fields`, "an enum of kinds has at least one kind");
    return { name, fields, one_of: true };
}
function checkEvents(value, path, refs) {
    const object = requireObject(value, path);
    onlyKeys(object, ["name", "events"], path);
    const name = requireName(object.name, `${path}.name`);
    const events = requireArray(object.events, `${path}.events`);
    const seen = new Set();
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
            if (seen.has(eventName))
                throw new SchemaError(`${at}.name`, `duplicate event name \`${eventName}\``);
            seen.add(eventName);
            const kind = checkKind(entry.kind, `${at}.kind`);
            return { name: eventName, kind, fields: checkFields(kind, entry.fields, `${at}.fields`, refs) };
        }),
    };
}
function checkTypeDef(value, path, refs) {
    const object = requireObject(value, path);
    const keys = Object.keys(object);
    if (keys.length !== 1 || (keys[0] !== "struct" && keys[0] !== "enum" && keys[0] !== "state")) {
        throw new SchemaError(path, `a type definition is {"struct": …}, {"enum": […]} or {"state": {"fields": […]}}, found keys ${JSON.stringify(keys)}`);
    }
    if (keys[0] === "state") {
        const at = `${path}.state`;
        const state = requireObject(object.state, at);
        onlyKeys(state, ["fields"], at);
        return { state: { fields: checkStateFields(state.fields, `${at}.fields`, refs) } };
    }
    if (keys[0] === "struct") {
        const at = `${path}.struct`;
        const struct = requireObject(object.struct, at);
        onlyKeys(struct, ["kind", "fields"], at);
        const kind = checkKind(struct.kind, `${at}.kind`);
        return { struct: { kind, fields: checkFields(kind, struct.fields, `${at}.fields`, refs) } };
    }
    const at = `${path}.enum`;
    const variants = requireArray(object.enum, at);
    const seen = new Set();
    return {
        enum: variants.map((variant, i) => {
            const vat = `${at}[${i}]`;
            const entry = requireObject(variant, vat);
            onlyKeys(entry, ["name", "kind", "fields"], vat);
            const name = requireName(entry.name, `${vat}.name`);
            if (seen.has(name))
                throw new SchemaError(`${vat}.name`, `duplicate variant name \`${name}\``);
            seen.add(name);
            const kind = checkKind(entry.kind, `${vat}.kind`);
            return { name, kind, fields: checkFields(kind, entry.fields, `${vat}.fields`, refs) };
        }),
    };
}
/** The named types a type expression refers to directly or through composites. */
function directRefs(type, out) {
    if (typeof type === "string")
        return;
    if ("option" in type)
        directRefs(type.option, out);
    else if ("seq" in type)
        directRefs(type.seq, out);
    else if ("map" in type) {
        directRefs(type.map[0], out);
        directRefs(type.map[1], out);
    }
    else if ("array" in type)
        directRefs(type.array[0], out);
    else if ("tuple" in type)
        type.tuple.forEach((item) => directRefs(item, out));
    else if ("ref" in type)
        out.push(type.ref);
    else if ("sync_map" in type) {
        directRefs(type.sync_map[0], out);
        directRefs(type.sync_map[1], out);
    }
    else if ("sync_vec" in type)
        directRefs(type.sync_vec, out);
    else if ("sync_deque" in type)
        directRefs(type.sync_deque, out);
}
/** The types of a type definition's fields (a nested state's synced fields). */
function typeDefFieldTypes(def) {
    if ("state" in def)
        return syncedFields(def.state).map((field) => field.type);
    const fields = "struct" in def ? def.struct.fields : def.enum.flatMap((variant) => variant.fields);
    return fields.map((field) => field.type);
}
function typeDefRefs(def) {
    const out = [];
    for (const type of typeDefFieldTypes(def))
        directRefs(type, out);
    return out;
}
/** Where a type synced in parts may be: the types it is valid as, for messages. */
const SYNCED_PLACES = "the type of a state's field or the values of a `SyncMap` or `SyncVec`, not part of another type, an event or a user type";
/**
 * The first type synced in parts (a nested state, a `SyncMap`, a `SyncVec`) inside
 * `type`, which is at `path`, that is not where such a type may be: its path and
 * the reason. The type itself may be one when `synced` (it is a state's field, or
 * the values of a synced collection).
 */
function misplacedState(type, path, synced, types) {
    if (typeof type === "string")
        return null;
    if ("ref" in type) {
        if (synced || !("state" in types[type.ref]))
            return null;
        return [`${path}.ref`, `\`${type.ref}\` is a nested state (\`#[derive(SyncState)]\`): it can only be ${SYNCED_PLACES}`];
    }
    if ("sync_map" in type) {
        if (!synced)
            return [`${path}.sync_map`, `a \`SyncMap\` is synced per entry: it can only be ${SYNCED_PLACES}`];
        // A key is a plain value, sent whole.
        return misplacedState(type.sync_map[0], `${path}.sync_map[0]`, false, types) ?? misplacedState(type.sync_map[1], `${path}.sync_map[1]`, true, types);
    }
    if ("sync_vec" in type) {
        if (!synced)
            return [`${path}.sync_vec`, `a \`SyncVec\` is synced per index: it can only be ${SYNCED_PLACES}`];
        return misplacedState(type.sync_vec, `${path}.sync_vec`, true, types);
    }
    if ("sync_deque" in type) {
        if (!synced)
            return [`${path}.sync_deque`, `a \`SyncDeque\` is synced as drops and pushes: it can only be ${SYNCED_PLACES}`];
        return misplacedState(type.sync_deque, `${path}.sync_deque`, true, types);
    }
    if ("option" in type)
        return misplacedState(type.option, `${path}.option`, false, types);
    if ("seq" in type)
        return misplacedState(type.seq, `${path}.seq`, false, types);
    if ("map" in type) {
        return misplacedState(type.map[0], `${path}.map[0]`, false, types) ?? misplacedState(type.map[1], `${path}.map[1]`, false, types);
    }
    if ("array" in type)
        return misplacedState(type.array[0], `${path}.array[0]`, false, types);
    if ("tuple" in type) {
        for (const [i, item] of type.tuple.entries()) {
            const found = misplacedState(item, `${path}.tuple[${i}]`, false, types);
            if (found !== null)
                return found;
        }
    }
    return null;
}
/**
 * Checks that the types synced in parts (nested states, `SyncMap`s, `SyncVec`s)
 * are only the types of state fields, or the values of a `SyncMap` or a `SyncVec`:
 * only there is a value synced part by part; never inside another type, an event
 * or a user struct or enum.
 */
function checkStatePlacement(schema) {
    const check = (type, path, direct) => {
        const found = misplacedState(type, path, direct, schema.types);
        if (found !== null)
            throw new SchemaError(found[0], found[1]);
    };
    const stateFields = (fields, path) => {
        fields.forEach((field, i) => {
            if (field.skip !== true)
                check(field.type, `${path}[${i}].type`, true);
        });
    };
    if (schema.state !== null)
        stateFields(schema.state.fields, "$.state.fields");
    if (schema.server_state !== null)
        stateFields(schema.server_state.fields, "$.server_state.fields");
    if (schema.entity !== undefined)
        stateFields(schema.entity.fields, "$.entity.fields");
    if (schema.options !== undefined)
        check(schema.options, "$.options", false);
    if (schema.metadata !== undefined)
        check(schema.metadata, "$.metadata", false);
    for (const [side, events] of [["to_server", schema.to_server], ["to_client", schema.to_client]]) {
        events.events.forEach((event, i) => {
            event.fields.forEach((field, j) => check(field.type, `$.${side}.events[${i}].fields[${j}].type`, false));
        });
    }
    for (const [name, def] of Object.entries(schema.types)) {
        const at = key("$.types", name);
        if ("state" in def)
            stateFields(def.state.fields, `${at}.state.fields`);
        else if ("struct" in def)
            def.struct.fields.forEach((field, i) => check(field.type, `${at}.struct.fields[${i}].type`, false));
        else {
            def.enum.forEach((variant, i) => {
                variant.fields.forEach((field, j) => check(field.type, `${at}.enum[${i}].fields[${j}].type`, false));
            });
        }
    }
}
/**
 * Checks that `value` is a protocol schema and returns it typed. Throws a
 * {@link SchemaError} naming the path of the first problem found. Does not check
 * the fingerprint: see `fingerprintOf`.
 */
export function validateSchema(value) {
    const root = requireObject(value, "$");
    onlyKeys(root, ["wire_version", "fingerprint", "state", "server_state", "entity", "kind", "options", "metadata", "to_server", "to_client", "types"], "$");
    const wireVersion = requireCount(root.wire_version, "$.wire_version");
    const fingerprint = requireString(root.fingerprint, "$.fingerprint");
    if (!HEX16.test(fingerprint)) {
        throw new SchemaError("$.fingerprint", `expected 16 lowercase hex digits, found ${JSON.stringify(fingerprint)}`);
    }
    const refs = new Map();
    if (!("state" in root))
        throw new SchemaError("$.state", "missing (null when the game has no player state)");
    if (!("server_state" in root))
        throw new SchemaError("$.server_state", "missing (null when the game has no server state)");
    const state = checkState(root.state, "$.state", refs);
    const serverState = checkState(root.server_state, "$.server_state", refs);
    // Absent for a protocol without entities (Rust skips it; `null` reads the same).
    const entity = root.entity === undefined ? null : checkState(root.entity, "$.entity", refs);
    // Each absent when the protocol has none (an older schema has no `kind`).
    const kind = root.kind === undefined ? undefined : checkKindName(root.kind, "$.kind");
    const options = root.options === undefined ? undefined : checkType(root.options, "$.options", refs);
    const metadata = root.metadata === undefined ? undefined : checkType(root.metadata, "$.metadata", refs);
    const toServer = checkEvents(root.to_server, "$.to_server", refs);
    const toClient = checkEvents(root.to_client, "$.to_client", refs);
    const typesObject = root.types === undefined ? {} : requireObject(root.types, "$.types");
    const types = {};
    for (const [name, def] of Object.entries(typesObject)) {
        requireName(name, key("$.types", name));
        types[name] = checkTypeDef(def, key("$.types", name), refs);
    }
    for (const [name, path] of refs) {
        if (!Object.hasOwn(types, name))
            throw new SchemaError(path, `reference to \`${name}\`, which \`types\` does not define`);
    }
    // A type that contains itself by value has no finite encoding, and no fingerprint.
    const state_ = {};
    const visit = (name, trail) => {
        if (state_[name] === "done")
            return;
        if (state_[name] === "visiting") {
            const cycle = [...trail.slice(trail.indexOf(name)), name].join(" → ");
            throw new SchemaError(key("$.types", name), `the type contains itself (${cycle})`);
        }
        state_[name] = "visiting";
        for (const next of typeDefRefs(types[name]))
            visit(next, [...trail, name]);
        state_[name] = "done";
    };
    for (const name of Object.keys(types))
        visit(name, []);
    const withEntity = entity === null ? {} : { entity };
    // Keys only where the schema has them: a schema without keeps its shape.
    const matches = {
        ...(kind === undefined ? {} : { kind }),
        ...(options === undefined ? {} : { options }),
        ...(metadata === undefined ? {} : { metadata }),
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
        types,
    };
}
/** A type expression as Rust would write it, for error messages. */
export function typeName(type) {
    if (typeof type === "string") {
        if (type === "unit")
            return "()";
        if (type === "player_id")
            return "PlayerId";
        if (type === "entity_id")
            return "EntityId";
        if (type === "str")
            return "String";
        return type;
    }
    if ("option" in type)
        return `Option<${typeName(type.option)}>`;
    if ("seq" in type)
        return `Vec<${typeName(type.seq)}>`;
    if ("map" in type)
        return `Map<${typeName(type.map[0])}, ${typeName(type.map[1])}>`;
    if ("array" in type)
        return `[${typeName(type.array[0])}; ${type.array[1]}]`;
    if ("tuple" in type)
        return `(${type.tuple.map(typeName).join(", ")}${type.tuple.length === 1 ? "," : ""})`;
    if ("ref" in type)
        return type.ref;
    if ("sync_map" in type)
        return `SyncMap<${typeName(type.sync_map[0])}, ${typeName(type.sync_map[1])}>`;
    if ("sync_vec" in type)
        return `SyncVec<${typeName(type.sync_vec)}>`;
    if ("sync_deque" in type)
        return `SyncDeque<${typeName(type.sync_deque)}>`;
    return `opaque ${type.opaque}`;
}
/** The synced fields of a state (or of a nested state's definition), in index order. */
export function syncedFields(state) {
    if (state === null)
        return [];
    return state.fields.filter((field) => field.skip !== true);
}
