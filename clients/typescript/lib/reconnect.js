/** When and how often a client tries to reconnect. */
/** The policy with `options`' settings and defaults for the rest. */
export function reconnectPolicy(options = {}) {
    const policy = {
        initialDelayMs: options.initialDelayMs ?? 500,
        maxDelayMs: options.maxDelayMs ?? 10_000,
        jitter: Math.min(1, Math.max(0, options.jitter ?? 0.5)),
        maxAttempts: options.maxAttempts ?? null,
        resume: options.resume ?? true,
    };
    if (!(policy.initialDelayMs >= 0) || !(policy.maxDelayMs >= 0)) {
        throw new RangeError("reconnect delays are non-negative numbers of milliseconds");
    }
    if (policy.maxAttempts !== null && !(Number.isInteger(policy.maxAttempts) && policy.maxAttempts >= 0)) {
        throw new RangeError(`maxAttempts is a non-negative integer or null, not ${policy.maxAttempts}`);
    }
    return policy;
}
/**
 * The delay before attempt `attempt` (1 for the first): `initialDelayMs × 2^(attempt-1)`
 * capped at `maxDelayMs`, of which the `jitter` share is scaled by `draw` (0 to 1,
 * drawn at random for each attempt) so that clients cut off together do not all
 * come back at the same instant.
 */
export function reconnectDelay(policy, attempt, draw) {
    const doublings = Math.min(Math.max(attempt - 1, 0), 31);
    const base = Math.min(policy.initialDelayMs * 2 ** doublings, policy.maxDelayMs);
    const unit = Math.min(1, Math.max(0, draw));
    return base * (1 - policy.jitter + policy.jitter * unit);
}
/** Whether another attempt is allowed after `made` attempts in a row. */
export function attemptsLeft(policy, made) {
    return policy.maxAttempts === null || made < policy.maxAttempts;
}
