/** Player ids: 32-bit numbers on the wire, 8 lowercase hex digits everywhere else. */
/**
 * A player's id as people see it, and as Rust's `Display` and the JSON wire show
 * it: 8 lowercase hex digits, such as `"1a2b3c4d"`.
 */
export type PlayerId = string;
/** Whether `value` is a player id: 8 lowercase hex digits. */
export declare function isPlayerId(value: unknown): value is PlayerId;
/** The id of the player numbered `value` on the wire. */
export declare function playerIdFromNumber(value: number): PlayerId;
/** The wire number of a player id. */
export declare function playerIdToNumber(id: PlayerId): number;
