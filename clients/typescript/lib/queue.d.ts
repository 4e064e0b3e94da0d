/** The bounded queue of encoded frames waiting for an open connection. */
/** A first-in first-out queue of frames that refuses to grow past its capacity. */
export declare class SendQueue {
    /** How many frames it holds at most. */
    readonly capacity: number;
    private frames;
    private head;
    constructor(
    /** How many frames it holds at most. */
    capacity: number);
    /** How many frames wait. */
    get size(): number;
    /** Adds a frame at the back; throws {@link QueueFullError} when full (the frame is not queued). */
    push(frame: Uint8Array<ArrayBuffer>): void;
    /** Takes the frame at the front. */
    shift(): Uint8Array<ArrayBuffer> | undefined;
    /** Drops every frame. */
    clear(): void;
}
