/**
 * The protocol schema: what `Protocol::schema()` prints on the Rust side, as
 * TypeScript types, and its validation.
 */
/** The wire version this package speaks. */
export declare const WIRE_VERSION = 3;
/** A type that is only a name. */
export type PrimitiveType = "bool" | "char" | "unit" | "u8" | "u16" | "u32" | "u64" | "u128" | "i8" | "i16" | "i32" | "i64" | "i128" | "f32" | "f64" | "str" | "player_id" | "entity_id";
/** Every primitive type name. */
export declare const PRIMITIVE_TYPES: readonly PrimitiveType[];
/** A type expression: a primitive or a composite of other types. */
export type TypeExpr = PrimitiveType | {
    readonly option: TypeExpr;
} | {
    readonly seq: TypeExpr;
} | {
    readonly map: readonly [TypeExpr, TypeExpr];
} | {
    readonly array: readonly [TypeExpr, number];
} | {
    readonly tuple: readonly TypeExpr[];
} | {
    readonly ref: string;
} | {
    readonly opaque: string;
}
/** A `SyncMap<K, V>` state field, synced per entry. */
 | {
    readonly sync_map: readonly [TypeExpr, TypeExpr];
}
/** A `SyncVec<V>` state field, synced per index. */
 | {
    readonly sync_vec: TypeExpr;
}
/** A `SyncDeque<V>` state field: a bounded log, synced as drops and pushes. */
 | {
    readonly sync_deque: TypeExpr;
};
/** How a list of fields is written. */
export type FieldsKind = "named" | "tuple" | "unit";
/** A field of a struct, an enum variant or an event. */
export interface FieldSchema {
    readonly name: string;
    readonly type: TypeExpr;
}
/** A synced field of a state (`index` is its bit in the sync masks). */
export interface SyncedFieldSchema {
    readonly name: string;
    readonly index: number;
    readonly type: TypeExpr;
    readonly skip?: false;
    /**
     * `#[sync(owner)]`: only the player whose state this is receives the field; in
     * the mirror, every other player's copy keeps the field's default value.
     */
    readonly owner?: boolean;
    /**
     * `#[sync(tag = "…")]`: besides the player whose state this is, only the players
     * the game's rule for this tag picks receive the field; in the mirror, another
     * player's copy holds the last value received (the default until then).
     */
    readonly tag?: string;
}
/** A `#[sync(skip)]` field: server-only, never on the wire. */
export interface SkippedFieldSchema {
    readonly name: string;
    readonly skip: true;
}
/** A field of a state, synced or server-only. */
export type StateFieldSchema = SyncedFieldSchema | SkippedFieldSchema;
/** A synced state (`#[derive(SyncState)]`). */
export interface StateSchema {
    readonly name: string;
    readonly fields: readonly StateFieldSchema[];
    /**
     * `true` for an enum of kinds (`#[derive(SyncState)]` on an enum): each field is
     * a kind, and a value holds exactly one, the current kind's. A delta naming
     * another kind replaces the value with that kind (it carries all of it).
     */
    readonly one_of?: boolean;
}
/** One event: an enum variant with its snake_case wire name. */
export interface EventSchema {
    readonly name: string;
    readonly kind: FieldsKind;
    readonly fields: readonly FieldSchema[];
}
/** An events enum (`#[nodelink::events]`). */
export interface EventsSchema {
    readonly name: string;
    readonly events: readonly EventSchema[];
}
/** A variant of a user enum. */
export interface VariantSchema {
    readonly name: string;
    readonly kind: FieldsKind;
    readonly fields: readonly FieldSchema[];
}
/**
 * A named user type: a struct or an enum (`#[derive(Fingerprint)]`), or a nested
 * state (`#[derive(SyncState)]` used as a state's field), synced field by field.
 */
export type TypeDefSchema = {
    readonly struct: {
        readonly kind: FieldsKind;
        readonly fields: readonly FieldSchema[];
    };
} | {
    readonly enum: readonly VariantSchema[];
} | {
    readonly state: {
        readonly fields: readonly StateFieldSchema[];
    };
};
/** A whole protocol. */
export interface ProtocolSchema {
    readonly wire_version: number;
    /** 16 lowercase hex digits. */
    readonly fingerprint: string;
    readonly state: StateSchema | null;
    readonly server_state: StateSchema | null;
    /**
     * The state of the entities the server owns (`Protocol::Entity`); absent when the
     * protocol has none (`()`).
     */
    readonly entity?: StateSchema;
    /**
     * The name clients ask for this protocol's matches by (`Protocol::KIND`, the
     * `kind` parameter of a match request). Every schema printed by a nodelink that
     * hosts many matches has it; an older schema does not, and then its client can
     * join a match by code but not create, find or list them.
     */
    readonly kind?: string;
    /**
     * What a client sends to create or find a match (`Protocol::MatchOptions`);
     * absent when the protocol has none (`()`).
     */
    readonly options?: TypeExpr;
    /** What a match shows in listings (`Protocol::MatchMetadata`); absent when the protocol has none (`()`). */
    readonly metadata?: TypeExpr;
    readonly to_server: EventsSchema;
    readonly to_client: EventsSchema;
    readonly types: {
        readonly [name: string]: TypeDefSchema;
    };
}
/** The most fields a state can have: its masks are 64-bit. */
export declare const MAX_STATE_FIELDS = 64;
/**
 * Checks that `value` is a protocol schema and returns it typed. Throws a
 * {@link SchemaError} naming the path of the first problem found. Does not check
 * the fingerprint: see `fingerprintOf`.
 */
export declare function validateSchema(value: unknown): ProtocolSchema;
/** A type expression as Rust would write it, for error messages. */
export declare function typeName(type: TypeExpr): string;
/** The synced fields of a state (or of a nested state's definition), in index order. */
export declare function syncedFields(state: {
    readonly fields: readonly StateFieldSchema[];
} | null): SyncedFieldSchema[];
