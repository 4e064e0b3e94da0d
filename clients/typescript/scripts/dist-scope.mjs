// Makes dist/, the build the tests run, a package scope of its own: a package.json
// that names it `nodelink-client`, so that code built into dist/ which imports the
// package by name (the generated example client does, as users' code does) gets
// dist/src, the build under test, and not lib/, the committed build that the
// package ships (test/package.test.ts checks that lib/ is what src/ compiles to).
//
// Usage: run by `npm run build`, after tsc.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
mkdirSync(dist, { recursive: true });
const scope = {
  name: "nodelink-client",
  private: true,
  type: "module",
  exports: { ".": "./src/index.js", "./codegen": "./src/codegen/index.js" },
};
writeFileSync(join(dist, "package.json"), `${JSON.stringify(scope, null, 2)}\n`);
