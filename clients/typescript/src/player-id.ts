/** Player ids: 32-bit numbers on the wire, 8 lowercase hex digits everywhere else. */

/**
 * A player's id as people see it, and as Rust's `Display` and the JSON wire show
 * it: 8 lowercase hex digits, such as `"1a2b3c4d"`.
 */
export type PlayerId = string;

const PLAYER_ID = /^[0-9a-f]{8}$/;

/** Whether `value` is a player id: 8 lowercase hex digits. */
export function isPlayerId(value: unknown): value is PlayerId {
  return typeof value === "string" && PLAYER_ID.test(value);
}

/** The id of the player numbered `value` on the wire. */
export function playerIdFromNumber(value: number): PlayerId {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`a player id is a 32-bit unsigned integer, not ${value}`);
  }
  return value.toString(16).padStart(8, "0");
}

/** The wire number of a player id. */
export function playerIdToNumber(id: PlayerId): number {
  if (!isPlayerId(id)) throw new RangeError(`a player id is 8 lowercase hex digits, not ${JSON.stringify(id)}`);
  return Number.parseInt(id, 16);
}
