// Measures what the client costs a page: the package bundled for the browser as
// `npm run bundle` does (esbuild, minified, ES2022), and that bundle gzipped
// (zlib, level 9), in KiB to one decimal. The README states these figures between
// `<!-- size -->` and `<!-- /size -->`; `npm test` runs this with `--check`, so
// they cannot drift unnoticed.
//
// Usage: node scripts/size.mjs            prints the figures
//        node scripts/size.mjs --check    fails unless README.md states them
//        node scripts/size.mjs --write    writes them into README.md
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const readme = join(root, "README.md");
const MARKED = /<!-- size -->(.*?)<!-- \/size -->/;

const result = await build({
  entryPoints: [join(root, "src/index.ts")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  write: false,
  logLevel: "silent",
});
const bundle = result.outputFiles[0].contents;
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const figures = `${kib(bundle.byteLength)} minified, ${kib(gzipSync(bundle, { level: 9 }).byteLength)} gzipped`;

const mode = process.argv[2];
const text = readFileSync(readme, "utf8");
const stated = MARKED.exec(text)?.[1];
if (mode === "--write") {
  if (stated === undefined) throw new Error("README.md has no <!-- size --> marker");
  writeFileSync(readme, text.replace(MARKED, `<!-- size -->${figures}<!-- /size -->`));
  console.log(`README.md: ${figures}`);
} else if (mode === "--check") {
  if (stated !== figures) {
    console.error(`README.md states ${JSON.stringify(stated)}, the bundle measures ${JSON.stringify(figures)}: run npm run size -- --write`);
    process.exit(1);
  }
  console.log(figures);
} else {
  console.log(figures);
}
