import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { reconnectDelay, reconnectPolicy } from "../src/index.js";

describe("the reconnect schedule", () => {
  it("doubles from the initial delay up to the cap", () => {
    const policy = reconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 });
    const top = (attempt: number) => reconnectDelay(policy, attempt, 1);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 1000].map(top), [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("draws the jitter share of each delay at random", () => {
    const policy = reconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 });
    assert.equal(reconnectDelay(policy, 3, 0), 200);
    assert.equal(reconnectDelay(policy, 3, 0.5), 300);
    for (let attempt = 1; attempt < 10; attempt += 1) {
      const delay = reconnectDelay(policy, attempt, Math.random());
      assert.ok(delay >= reconnectDelay(policy, attempt, 0) && delay <= reconnectDelay(policy, attempt, 1));
    }
    const none = reconnectPolicy({ initialDelayMs: 100, jitter: 0 });
    assert.equal(reconnectDelay(none, 2, 0.9), 200);
    assert.equal(reconnectPolicy({ jitter: 7 }).jitter, 1);
  });

  it("has the Rust client's defaults", () => {
    assert.deepEqual(reconnectPolicy(), { initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.5, maxAttempts: null, resume: true });
    assert.throws(() => reconnectPolicy({ maxAttempts: -1 }), RangeError);
  });
});
