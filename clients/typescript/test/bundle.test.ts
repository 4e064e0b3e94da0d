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
    // The README states the figures (scripts/size.mjs); this guards against sudden growth.
    assert.ok(bytes < 82_000, `the bundle is ${bytes} bytes`);

    const bundle = (await import(pathToFileURL(outfile).href)) as typeof import("../src/index.js");
    const protocol = bundle.compileProtocol(gameSchema);
    assert.equal(hex(bundle.encodeClientEvent(protocol, "move", { x: 1.5, y: -2 })), "94 01 a4 6d 6f 76 65 ca 3f c0 00 00 ca c0 00 00 00");

    // Minified, the classes are renamed; the errors keep their own names.
    const errors: [string, Error][] = [
      ["SchemaError", new bundle.SchemaError("$", "bad")],
      ["EncodeError", new bundle.EncodeError("event", "bad")],
      ["DecodeError", new bundle.DecodeError("frame", "bad")],
      ["UnknownNetIdError", new bundle.UnknownNetIdError(3)],
      ["UrlError", new bundle.UrlError("x", "bad")],
      ["ConnectError", new bundle.ConnectError("ws://x/", "bad")],
      ["RefusedError", new bundle.RefusedError(403, "no", "Forbidden")],
      ["ProtocolMismatchError", new bundle.ProtocolMismatchError("0123456789abcdef", null, 2)],
      ["HandshakeError", new bundle.HandshakeError("bad")],
      ["QueueFullError", new bundle.QueueFullError(1)],
      ["StoppedError", new bundle.StoppedError()],
      ["HandlerError", new bundle.HandlerError("chat", new Error("thrown"))],
    ];
    assert.deepEqual(
      errors.map(([, error]) => error.name),
      errors.map(([name]) => name),
    );
    assert.ok(errors.every(([, error]) => error instanceof bundle.NodelinkError && error instanceof Error));
    assert.match(String(errors[6]![1]), /^RefusedError: refused by the server \(Forbidden\): no$/);
  });
});
