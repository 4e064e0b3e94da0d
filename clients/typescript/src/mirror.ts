/** The client's mirror of the server's world, rebuilt from sync frames. */

import type { EntityId } from "./entity-id.js";
import { UnknownNetIdError } from "./errors.js";
import { type SyncFrame, SyncFlag } from "./frames.js";
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
export interface StateSync<
  State,
  ServerState,
  StateDelta = Partial<State>,
  ServerStateDelta = Partial<ServerState>,
  Entity = NoState,
  EntityDelta = Partial<Entity>,
> {
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
export interface Applied<
  State,
  ServerState,
  StateDelta = Partial<State>,
  ServerStateDelta = Partial<ServerState>,
  Entity = NoState,
  EntityDelta = Partial<Entity>,
> {
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
export class Mirror<
    State extends object,
    ServerState extends object,
    StateDelta = Partial<State>,
    ServerStateDelta = Partial<ServerState>,
    Entity extends object = NoState,
    EntityDelta = Partial<Entity>,
  >
  implements World<State, ServerState, Entity>
{
  private readonly ids = new Map<number, PlayerId>();
  private readonly netIds = new Map<PlayerId, number>();
  private readonly states = new Map<PlayerId, Readonly<State>>();
  private readonly entityStates = new Map<EntityId, Readonly<Entity>>();
  private server: Readonly<ServerState>;
  private snapshotting = false;
  private whole = false;
  online = 0;
  tick = 0;

  constructor(private readonly protocol: CompiledProtocol) {
    this.server = protocol.serverState.defaults() as ServerState;
  }

  get players(): ReadonlyMap<PlayerId, Readonly<State>> {
    return this.states;
  }

  get serverState(): Readonly<ServerState> {
    return this.server;
  }

  get entities(): ReadonlyMap<EntityId, Readonly<Entity>> {
    return this.entityStates;
  }

  get complete(): boolean {
    return this.whole;
  }

  /** The player a net id stands for on this connection. */
  playerOf(netId: number): PlayerId | undefined {
    return this.ids.get(netId);
  }

  /** Forgets everything, as on a disconnect. */
  clear(): void {
    this.ids.clear();
    this.netIds.clear();
    this.states.clear();
    this.entityStates.clear();
    this.server = this.protocol.serverState.defaults() as ServerState;
    this.snapshotting = false;
    this.whole = false;
    this.online = 0;
    this.tick = 0;
  }

  private forget(netId: number): PlayerId | undefined {
    const id = this.ids.get(netId);
    if (id === undefined) return undefined;
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
  apply(frame: SyncFrame): Applied<State, ServerState, StateDelta, ServerStateDelta, Entity, EntityDelta> {
    const full = (frame.flags & SyncFlag.Full) !== 0;
    const more = (frame.flags & SyncFlag.More) !== 0;
    const entity = this.protocol.entity;
    if (entity === null && ((frame.despawned?.length ?? 0) > 0 || (frame.entities?.length ?? 0) > 0)) {
      throw new TypeError("the frame carries entity changes, but this protocol has no entities");
    }
    if (full) {
      // A snapshot lists every player and every entity this client may see.
      this.ids.clear();
      this.netIds.clear();
      this.states.clear();
      this.entityStates.clear();
      this.server = this.protocol.serverState.defaults() as ServerState;
      this.snapshotting = true;
      this.whole = false;
    }
    const errors: UnknownNetIdError[] = [];
    const left: PlayerId[] = [];
    for (const netId of frame.left) {
      // A departure of a net id this mirror does not know changes nothing.
      const id = this.forget(netId);
      if (id !== undefined) left.push(id);
    }
    const joined: PlayerId[] = [];
    for (const { netId, id } of frame.joined) {
      // A net id announced again, or a player announced under a new net id,
      // replaces the old pairing: the server's view is the truth.
      this.forget(netId);
      const previous = this.netIds.get(id);
      if (previous !== undefined) this.ids.delete(previous);
      this.ids.set(netId, id);
      this.netIds.set(id, netId);
      this.states.set(id, this.protocol.state.defaults() as State);
      joined.push(id);
    }
    const changes: PlayerChange<State, StateDelta>[] = [];
    for (const entry of frame.players) {
      const id = this.ids.get(entry.netId);
      if (id === undefined) {
        errors.push(new UnknownNetIdError(entry.netId));
        continue;
      }
      const current = this.states.get(id)! as Readonly<Record<string, unknown>>;
      this.states.set(id, this.protocol.state.apply(current, entry.fields) as State);
      changes.push({ id, fields: entry.fields as StateDelta });
    }
    const server = frame.server as ServerStateDelta | null;
    if (frame.server !== null) {
      this.server = this.protocol.serverState.apply(this.server as Readonly<Record<string, unknown>>, frame.server) as ServerState;
    }
    const despawned: EntityId[] = [];
    for (const id of frame.despawned ?? []) {
      // Forgetting an entity this mirror does not hold changes nothing.
      if (this.entityStates.delete(id)) despawned.push(id);
    }
    const spawned: EntityId[] = [];
    const entityChanges: EntityChange<Entity, EntityDelta>[] = [];
    if (entity !== null) {
      for (const entry of frame.entities ?? []) {
        let current = this.entityStates.get(entry.id) as Readonly<Record<string, unknown>> | undefined;
        if (current === undefined) {
          // Spawned, or come into view: the entry has every field the client sees;
          // the others (owner fields) keep their defaults.
          current = entity.defaults();
          spawned.push(entry.id);
        }
        this.entityStates.set(entry.id, entity.apply(current, entry.fields) as Entity);
        entityChanges.push({ id: entry.id, fields: entry.fields as EntityDelta });
      }
    }
    this.online = frame.online;
    this.tick = frame.tick;
    const snapshotComplete = this.snapshotting && !more;
    if (snapshotComplete) {
      this.snapshotting = false;
      this.whole = true;
    }
    return {
      sync: { tick: frame.tick, online: frame.online, full, more, snapshotComplete, left, joined, changes, server, spawned, despawned, entityChanges },
      errors,
    };
  }
}
