import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";

import { build } from "esbuild";

import { gameSchema, hex, packageRoot } from "./support.js";
import { scratch } from "./tools.js";

describe("the browser bundle", () => {
  it("builds for the browser with nothing from Node, and runs", async () => {
    const outfile = join(scratch("bundle"), "nodelink-client.js");
    const result = await build({
      entryPoints: [join(packageRoot, "src/index.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: true,
      outfile,
      metafile: true,
      logLevel: "silent",
    });
    assert.deepEqual(result.errors, []);
    const inputs = Object.keys(result.metafile.inputs);
    assert.deepEqual(inputs.filter((input) => !input.startsWith("src/") && !input.includes("/src/")), [], "only the package's own sources");
    const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]!]!.bytes;
    // About 65 KB minified, 20 KB gzipped: a guard against accidental growth.
    assert.ok(bytes < 72_000, `the bundle is ${bytes} bytes`);

    const bundle = (await import(pathToFileURL(outfile).href)) as typeof import("../src/index.js");
    const protocol = bundle.compileProtocol(gameSchema);
    assert.equal(hex(bundle.encodeClientEvent(protocol, "move", { x: 1.5, y: -2 })), "94 01 a4 6d 6f 76 65 ca 3f c0 00 00 ca c0 00 00 00");
  });
});
