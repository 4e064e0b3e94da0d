/** A schema compiled for use on the wire: a codec per event field and per state field. */
import { type Codec } from "./codec.js";
import type { FieldsKind, ProtocolSchema } from "./schema.js";
/** A field with its codec. */
export interface CompiledField {
    readonly name: string;
    readonly codec: Codec;
}
/** An event with a codec per field. */
export interface CompiledEvent {
    readonly name: string;
    readonly kind: FieldsKind;
    readonly fields: readonly CompiledField[];
}
/** A synced state: its fields by mask bit. */
export interface CompiledState {
    readonly name: string;
    /** `fields[i]` is the field of mask bit `i` (a kind's, for an enum of kinds). */
    readonly fields: readonly CompiledField[];
    /** Whether the state is an enum of kinds: a value holds one field, its kind's. */
    readonly oneOf: boolean;
    /** A fresh state with every field at its default. */
    defaults(): Record<string, unknown>;
    /**
     * `current` with the fields of a decoded entry applied: each listed field set, a
     * nested state's listed sub-fields merged into its current value, a synced
     * collection's entries applied to a copy of it. A new object;
     * `current`, and the values of fields not listed, are left as they are.
     */
    apply(current: Readonly<Record<string, unknown>>, delta: object): Record<string, unknown>;
}
/** Everything the wire needs to know about one protocol. */
export interface CompiledProtocol {
    readonly schema: ProtocolSchema;
    /** The fingerprint the client offers and expects, 16 hex digits. */
    readonly fingerprint: string;
    readonly toServer: ReadonlyMap<string, CompiledEvent>;
    readonly toClient: ReadonlyMap<string, CompiledEvent>;
    readonly state: CompiledState;
    readonly serverState: CompiledState;
    /** The entities' state; `null` for a protocol without entities. */
    readonly entity: CompiledState | null;
    /** The codec of the match options (what `create` and `find` send); `null` for a protocol without. */
    readonly options: Codec | null;
    /** The codec of the match metadata (what a listing shows); `null` for a protocol without. */
    readonly metadata: Codec | null;
}
/**
 * Validates `schema` and compiles it (once per schema object). Throws a
 * {@link SchemaError} for a schema that is invalid or of another wire version.
 * The schema's `fingerprint` is what the client offers: the server computed it.
 */
export declare function compileProtocol(schema: ProtocolSchema): CompiledProtocol;
