/** Type-level helpers that tie a generated protocol to the generic client. */
/**
 * A protocol's types, as generated code declares them: each player's state, the
 * shared server state, and the events of each direction as a map from wire name
 * to payload (`undefined` for an event without fields); and, for a protocol with
 * server-owned entities, their state. A state with nested states or synced
 * collections also has its delta type, where a nested state's field holds only
 * its changed sub-fields and a `SyncMap`'s or `SyncVec`'s its changed entries
 * (otherwise a delta is `Partial` of the state).
 */
export interface ProtocolTypes {
    state: object;
    serverState: object;
    toServer: object;
    toClient: object;
    stateDelta?: object;
    serverStateDelta?: object;
    entity?: object;
    entityDelta?: object;
}
/** What a sync frame says changed in a player's state: the protocol's `stateDelta`, or `Partial` of its state. */
export type StateDeltaOf<P extends ProtocolTypes> = P extends {
    stateDelta: infer Delta extends object;
} ? Delta : Partial<P["state"]>;
/** What a sync frame says changed in the server state: the protocol's `serverStateDelta`, or `Partial` of it. */
export type ServerStateDeltaOf<P extends ProtocolTypes> = P extends {
    serverStateDelta: infer Delta extends object;
} ? Delta : Partial<P["serverState"]>;
/** The entity state of a protocol: its `entity`, or {@link NoState} for a protocol without entities. */
export type EntityOf<P extends ProtocolTypes> = P extends {
    entity: infer Entity extends object;
} ? Entity : NoState;
/** What a sync frame says changed in an entity: the protocol's `entityDelta`, or `Partial` of its entity state. */
export type EntityDeltaOf<P extends ProtocolTypes> = P extends {
    entityDelta: infer Delta extends object;
} ? Delta : Partial<EntityOf<P>>;
/** The state of a protocol without player state, server state or entities (`()` in Rust). */
export type NoState = Record<string, never>;
/** The wire names of an events map. */
export type EventName<Events> = keyof Events & string;
/** The arguments after the event name: none for an event without fields, else its payload. */
export type PayloadArgs<Payload> = [Payload] extends [undefined] ? [] : [payload: Payload];
/** One event of an events map as a discriminated union: `{ type: "chat", data: {…} }`. */
export type EventOf<Events> = {
    [Name in EventName<Events>]: {
        readonly type: Name;
        readonly data: Events[Name];
    };
}[EventName<Events>];
/** Removes a handler registered with one of the `on…` methods. */
export type Unsubscribe = () => void;
/**
 * What a sync says changed in a `SyncMap<K, V>` field: `replace` when it was sent
 * whole (drop every entry first), the keys removed, then each inserted or changed
 * entry (a nested state's value holds its changed fields only). The mirror holds
 * the field as a `Map<K, V>`.
 */
export interface SyncMapDelta<K, V> {
    readonly replace: boolean;
    readonly removed: readonly K[];
    readonly entries: readonly (readonly [K, V])[];
}
/**
 * What a sync says changed in a `SyncVec<V>` field: its length (truncate, or extend
 * with defaults), then each changed item by index (a nested state's value holds its
 * changed fields only). The mirror holds the field as a `V[]`.
 */
export interface SyncVecDelta<V> {
    readonly len: number;
    readonly entries: readonly (readonly [number, V])[];
}
/**
 * What a sync says changed in a `SyncDeque<V>` field, a bounded log: drop `drop`
 * entries from the front (every entry when `drop` is `null`: the log is sent
 * whole), append `entries` at the back, keep the last `capacity`. The mirror holds
 * the field as a `V[]`, oldest first.
 */
export interface SyncDequeDelta<V> {
    readonly capacity: number;
    readonly drop: number | null;
    readonly entries: readonly V[];
}
