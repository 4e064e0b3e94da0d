/** Player ids: 32-bit numbers on the wire, 8 lowercase hex digits everywhere else. */
const PLAYER_ID = /^[0-9a-f]{8}$/;
/** Whether `value` is a player id: 8 lowercase hex digits. */
export function isPlayerId(value) {
    return typeof value === "string" && PLAYER_ID.test(value);
}
/** The id of the player numbered `value` on the wire. */
export function playerIdFromNumber(value) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
        throw new RangeError(`a player id is a 32-bit unsigned integer, not ${value}`);
    }
    return value.toString(16).padStart(8, "0");
}
/** The wire number of a player id. */
export function playerIdToNumber(id) {
    if (!isPlayerId(id))
        throw new RangeError(`a player id is 8 lowercase hex digits, not ${JSON.stringify(id)}`);
    return Number.parseInt(id, 16);
}
