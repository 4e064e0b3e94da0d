/** The client's mirror of the server's world, rebuilt from sync frames. */
import type { EntityId } from "./entity-id.js";
import { UnknownNetIdError } from "./errors.js";
import { type SyncFrame } from "./frames.js";
import type { PlayerId } from "./player-id.js";
import type { CompiledProtocol } from "./protocol.js";
import type { NoState } from "./types.js";
/**
 * One player's changed fields in a sync frame (every field when the player arrived).
 * A nested state's field holds only its changed sub-fields, a `SyncMap`'s or
 * `SyncVec`'s its changed entries: `Delta` is the generated `…Delta` type of a state
 * with such fields, else `Partial<State>`.
 */
export interface PlayerChange<State, Delta = Partial<State>> {
    readonly id: PlayerId;
    readonly fields: Readonly<Delta>;
}
/**
 * One entity's changed fields in a sync frame (every field when it is new in the
 * mirror). `Delta` is the generated `…Delta` type of an entity state with nested
 * states, else `Partial<Entity>`.
 */
export interface EntityChange<Entity, Delta = Partial<Entity>> {
    readonly id: EntityId;
    readonly fields: Readonly<Delta>;
}
/** One sync frame as handlers see it: player ids resolved, changes typed. */
export interface StateSync<State, ServerState, StateDelta = Partial<State>, ServerStateDelta = Partial<ServerState>, Entity = NoState, EntityDelta = Partial<Entity>> {
    /** The server tick the frame belongs to. */
    readonly tick: number;
    /** Players online on the server. */
    readonly online: number;
    /** The frame began a snapshot: the mirror was emptied before it was applied. */
    readonly full: boolean;
    /** The snapshot continues in the next frame(s). */
    readonly more: boolean;
    /** This frame completed a snapshot: the mirror holds the whole world. */
    readonly snapshotComplete: boolean;
    /** Players who left (or went out of view). */
    readonly left: readonly PlayerId[];
    /** Players who arrived (or came into view). */
    readonly joined: readonly PlayerId[];
    /** Each changed player's changed fields. */
    readonly changes: readonly PlayerChange<State, StateDelta>[];
    /** The server state's changed fields; `null` when none changed. */
    readonly server: Readonly<ServerStateDelta> | null;
    /** Entities new in the mirror: spawned, or come into view (each entity of a snapshot). */
    readonly spawned: readonly EntityId[];
    /** Entities the mirror held and forgot: despawned, or gone out of view. */
    readonly despawned: readonly EntityId[];
    /** Each changed entity's changed fields (every field for one in `spawned`). */
    readonly entityChanges: readonly EntityChange<Entity, EntityDelta>[];
}
/** What the mirror holds: read it from handlers and from the client. */
export interface World<State, ServerState, Entity = NoState> {
    /** Every mirrored player's whole state. Each state object is replaced, never changed, when its player changes. */
    readonly players: ReadonlyMap<PlayerId, Readonly<State>>;
    /** The shared server state (replaced, never changed, when it changes). */
    readonly serverState: Readonly<ServerState>;
    /**
     * Every entity the server lets this client see, by id (empty for a protocol
     * without entities). Each entity object is replaced, never changed, when it changes.
     */
    readonly entities: ReadonlyMap<EntityId, Readonly<Entity>>;
    /** Players online on the server, from the last frame. */
    readonly online: number;
    /** The tick of the last frame applied. */
    readonly tick: number;
    /** Whether the mirror holds a whole snapshot (false until the first one is complete, and after a disconnect). */
    readonly complete: boolean;
}
/** The outcome of applying one frame. */
export interface Applied<State, ServerState, StateDelta = Partial<State>, ServerStateDelta = Partial<ServerState>, Entity = NoState, EntityDelta = Partial<Entity>> {
    readonly sync: StateSync<State, ServerState, StateDelta, ServerStateDelta, Entity, EntityDelta>;
    /** Player entries the mirror could not attribute: reported, then ignored. */
    readonly errors: readonly UnknownNetIdError[];
}
/**
 * The mirror: every player's state by id, the server state and the entities, kept
 * by applying each sync frame's departures, then arrivals, then player changes,
 * the server state, despawned entities and entity changes. Net ids are this
 * connection's own, and reused after a player leaves; entity ids are the server's.
 * A change to a nested state merges its changed sub-fields into the field's
 * current value; a change to a `SyncMap` or `SyncVec` applies its entries to a
 * copy of the field's value.
 */
export declare class Mirror<State extends object, ServerState extends object, StateDelta = Partial<State>, ServerStateDelta = Partial<ServerState>, Entity extends object = NoState, EntityDelta = Partial<Entity>> implements World<State, ServerState, Entity> {
    private readonly protocol;
    private readonly ids;
    private readonly netIds;
    private readonly states;
    private readonly entityStates;
    private server;
    private snapshotting;
    private whole;
    online: number;
    tick: number;
    constructor(protocol: CompiledProtocol);
    get players(): ReadonlyMap<PlayerId, Readonly<State>>;
    get serverState(): Readonly<ServerState>;
    get entities(): ReadonlyMap<EntityId, Readonly<Entity>>;
    get complete(): boolean;
    /** The player a net id stands for on this connection. */
    playerOf(netId: number): PlayerId | undefined;
    /** Forgets everything, as on a disconnect. */
    clear(): void;
    private forget;
    /**
     * Applies one frame: departures, arrivals, player changes, the server state,
     * despawned entities, then entity changes.
     */
    apply(frame: SyncFrame): Applied<State, ServerState, StateDelta, ServerStateDelta, Entity, EntityDelta>;
}
