import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { packageRoot } from "./support.js";
import { scratch, typeCheck } from "./tools.js";

const source = readFileSync(join(packageRoot, "test/compile-fail/misuse.ts"), "utf8");

/** Each `// @ts-expect-error <label> (TSxxxx)` marker, with the line it governs. */
const markers = source
  .split("\n")
  .map((line, index) => ({ line, index }))
  .flatMap(({ line, index }) => {
    const match = /\/\/ @ts-expect-error ([a-z-]+) \((TS\d+)\)/.exec(line);
    return match ? [{ label: match[1]!, code: match[2]!, target: index + 2 }] : [];
  });

describe("misuse of the generated client does not compile", () => {
  it("marks every mistake", () => {
    assert.deepEqual(
      markers.map(({ label }) => label),
      [
        "misspelt-send",
        "misspelt-on",
        "wrong-field-type",
        "missing-field",
        "extra-field",
        "payload-for-unit",
        "missing-payload",
        "wrong-handler-payload",
        "wrong-convenience-argument",
        "positional-fields",
        "unknown-state-field",
        "unknown-union-member",
        "wrong-match-options",
        "missing-match-options",
        "wrong-metadata-field",
      ],
    );
  });

  it("compiles with every marked line an error (an unused @ts-expect-error fails)", () => {
    const result = typeCheck("misuse", [join(packageRoot, "test/compile-fail/misuse.ts")]);
    assert.equal(result.output, "");
    assert.equal(result.status, 0);
  });

  it("fails each marked line for its own reason when the markers are removed", () => {
    const dir = scratch("compile-fail");
    const stripped = source.replace(/\/\/ @ts-expect-error .*/g, "").replace('from "../../examples/', 'from "../../../examples/');
    writeFileSync(join(dir, "stripped.ts"), stripped);
    const result = typeCheck("stripped", [join(dir, "stripped.ts")]);
    assert.notEqual(result.status, 0);
    const errors = [...result.output.matchAll(/stripped\.ts\((\d+),\d+\): error (TS\d+)/g)].map((match) => ({ line: Number(match[1]), code: match[2] }));
    assert.deepEqual(
      errors,
      markers.map(({ target, code }) => ({ line: target, code })),
      result.output,
    );
  });
});
