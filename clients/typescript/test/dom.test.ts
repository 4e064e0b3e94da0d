import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";

import { packageRoot } from "./support.js";
import { typeCheck } from "./tools.js";

describe("in a page, with the DOM's types", () => {
  it("takes the browser's own WebSocket as the WebSocket option", () => {
    const result = typeCheck("dom", [join(packageRoot, "test/dom/page.ts")], { lib: ["es2022", "dom"], types: [] });
    assert.equal(result.output, "");
    assert.equal(result.status, 0);
  });
});
