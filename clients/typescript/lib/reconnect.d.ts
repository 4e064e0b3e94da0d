/** When and how often a client tries to reconnect. */
/** Reconnection settings; every field has a default. */
export interface ReconnectOptions {
    /** The delay before the first attempt, in milliseconds. Default 500. */
    initialDelayMs?: number;
    /** The longest delay between attempts, in milliseconds. Default 10 000. */
    maxDelayMs?: number;
    /** The random share of each delay, from 0 (none) to 1 (all). Default 0.5. */
    jitter?: number;
    /** Give up after this many attempts in a row; `null` (the default) tries forever. */
    maxAttempts?: number | null;
    /**
     * After a lost connection, resume the session (`true`, the default: the same
     * player, nothing missed) or always join as a new player (`false`).
     */
    resume?: boolean;
}
/** A complete reconnection policy. */
export interface ReconnectPolicy {
    readonly initialDelayMs: number;
    readonly maxDelayMs: number;
    readonly jitter: number;
    readonly maxAttempts: number | null;
    readonly resume: boolean;
}
/** The policy with `options`' settings and defaults for the rest. */
export declare function reconnectPolicy(options?: ReconnectOptions): ReconnectPolicy;
/**
 * The delay before attempt `attempt` (1 for the first): `initialDelayMs × 2^(attempt-1)`
 * capped at `maxDelayMs`, of which the `jitter` share is scaled by `draw` (0 to 1,
 * drawn at random for each attempt) so that clients cut off together do not all
 * come back at the same instant.
 */
export declare function reconnectDelay(policy: ReconnectPolicy, attempt: number, draw: number): number;
/** Whether another attempt is allowed after `made` attempts in a row. */
export declare function attemptsLeft(policy: ReconnectPolicy, made: number): boolean;
