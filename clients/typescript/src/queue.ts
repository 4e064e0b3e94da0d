/** The bounded queue of encoded frames waiting for an open connection. */

import { QueueFullError } from "./errors.js";

/** A first-in first-out queue of frames that refuses to grow past its capacity. */
export class SendQueue {
  private frames: Uint8Array<ArrayBuffer>[] = [];
  private head = 0;

  constructor(
    /** How many frames it holds at most. */
    readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a send queue holds at least one frame, not ${capacity}`);
  }

  /** How many frames wait. */
  get size(): number {
    return this.frames.length - this.head;
  }

  /** Adds a frame at the back; throws {@link QueueFullError} when full (the frame is not queued). */
  push(frame: Uint8Array<ArrayBuffer>): void {
    if (this.size >= this.capacity) throw new QueueFullError(this.capacity);
    this.frames.push(frame);
  }

  /** Takes the frame at the front. */
  shift(): Uint8Array<ArrayBuffer> | undefined {
    if (this.head >= this.frames.length) return undefined;
    const frame = this.frames[this.head];
    this.head += 1;
    if (this.head >= 64 && this.head * 2 >= this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return frame;
  }

  /** Drops every frame. */
  clear(): void {
    this.frames = [];
    this.head = 0;
  }
}
