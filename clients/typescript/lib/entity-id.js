/** Entity ids: the server-wide numbers of the entities the server owns. */
/** Whether `value` is an entity id: an integer from 0 to 2³² − 1. */
export function isEntityId(value) {
    return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}
