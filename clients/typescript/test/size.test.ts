import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";

import { packageRoot } from "./support.js";

describe("the README's size of the browser bundle", () => {
  it("is what scripts/size.mjs measures", () => {
    const result = spawnSync(process.execPath, [join(packageRoot, "scripts/size.mjs"), "--check"], { encoding: "utf8" });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });
});
