/** Entity ids: the server-wide numbers of the entities the server owns. */
/**
 * The id of an entity the server owns (Rust's `EntityId`): an unsigned 32-bit
 * integer, the same for every client, shown in decimal. Assigned at spawn and not
 * reused while the entity lives.
 */
export type EntityId = number;
/** Whether `value` is an entity id: an integer from 0 to 2³² − 1. */
export declare function isEntityId(value: unknown): value is EntityId;
