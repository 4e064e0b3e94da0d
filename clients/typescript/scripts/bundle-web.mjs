// Bundles the web game's page script (examples/web/game.ts) with this client into
// examples/web/game.js, which the Rust server embeds. Not minified, so that a
// change to the client or the page shows as a readable diff; esbuild's output
// for a given version and input is the same on every machine, which CI checks.
//
// Usage: npm run bundle:web   (type-checks game.ts first)
import { fileURLToPath } from "node:url";
import { dirname, join, relative } from "node:path";

import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const web = join(root, "examples", "web");
const outfile = join(web, "game.js");

await build({
  entryPoints: [join(web, "game.ts")],
  // Paths in the bundle's comments are relative to this, the same everywhere.
  absWorkingDir: root,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  charset: "utf8",
  legalComments: "none",
  banner: {
    js: "// Built from examples/web/game.ts and clients/typescript by `npm run bundle:web` in\n// clients/typescript: do not edit.",
  },
  outfile,
  logLevel: "warning",
});
console.log(`wrote ${relative(process.cwd(), outfile)}`);
