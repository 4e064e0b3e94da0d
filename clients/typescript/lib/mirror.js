/** The client's mirror of the server's world, rebuilt from sync frames. */
import { UnknownNetIdError } from "./errors.js";
import { SyncFlag } from "./frames.js";
/**
 * The mirror: every player's state by id, the server state and the entities, kept
 * by applying each sync frame's departures, then arrivals, then player changes,
 * the server state, despawned entities and entity changes. Net ids are this
 * connection's own, and reused after a player leaves; entity ids are the server's.
 * A change to a nested state merges its changed sub-fields into the field's
 * current value; a change to a `SyncMap` or `SyncVec` applies its entries to a
 * copy of the field's value.
 */
export class Mirror {
    protocol;
    ids = new Map();
    netIds = new Map();
    states = new Map();
    entityStates = new Map();
    server;
    snapshotting = false;
    whole = false;
    online = 0;
    tick = 0;
    constructor(protocol) {
        this.protocol = protocol;
        this.server = protocol.serverState.defaults();
    }
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
        if (id === undefined)
            return undefined;
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
    apply(frame) {
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
            this.server = this.protocol.serverState.defaults();
            this.snapshotting = true;
            this.whole = false;
        }
        const errors = [];
        const left = [];
        for (const netId of frame.left) {
            // A departure of a net id this mirror does not know changes nothing.
            const id = this.forget(netId);
            if (id !== undefined)
                left.push(id);
        }
        const joined = [];
        for (const { netId, id } of frame.joined) {
            // A net id announced again, or a player announced under a new net id,
            // replaces the old pairing: the server's view is the truth.
            this.forget(netId);
            const previous = this.netIds.get(id);
            if (previous !== undefined)
                this.ids.delete(previous);
            this.ids.set(netId, id);
            this.netIds.set(id, netId);
            this.states.set(id, this.protocol.state.defaults());
            joined.push(id);
        }
        const changes = [];
        for (const entry of frame.players) {
            const id = this.ids.get(entry.netId);
            if (id === undefined) {
                errors.push(new UnknownNetIdError(entry.netId));
                continue;
            }
            const current = this.states.get(id);
            this.states.set(id, this.protocol.state.apply(current, entry.fields));
            changes.push({ id, fields: entry.fields });
        }
        const server = frame.server;
        if (frame.server !== null) {
            this.server = this.protocol.serverState.apply(this.server, frame.server);
        }
        const despawned = [];
        for (const id of frame.despawned ?? []) {
            // Forgetting an entity this mirror does not hold changes nothing.
            if (this.entityStates.delete(id))
                despawned.push(id);
        }
        const spawned = [];
        const entityChanges = [];
        if (entity !== null) {
            for (const entry of frame.entities ?? []) {
                let current = this.entityStates.get(entry.id);
                if (current === undefined) {
                    // Spawned, or come into view: the entry has every field the client sees;
                    // the others (owner fields) keep their defaults.
                    current = entity.defaults();
                    spawned.push(entry.id);
                }
                this.entityStates.set(entry.id, entity.apply(current, entry.fields));
                entityChanges.push({ id: entry.id, fields: entry.fields });
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
