/** Running the TypeScript compiler from tests. */

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { packageRoot } from "./support.js";

/** A scratch directory under `dist/`, which is not committed. */
export function scratch(name: string): string {
  const dir = join(packageRoot, "dist", "scratch", name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Type-checks `files` (absolute paths under the package) with the package's compiler
 * settings, and `options` over them (`{ lib: ["es2022", "dom"], types: [] }` for a page).
 */
export function typeCheck(name: string, files: string[], options: Record<string, unknown> = {}): { status: number | null; output: string } {
  const dir = scratch(`tsc-${name}`);
  const config = join(dir, "tsconfig.json");
  writeFileSync(
    config,
    JSON.stringify(
      { extends: join(packageRoot, "tsconfig.json"), compilerOptions: { noEmit: true, rootDir: packageRoot, ...options }, include: files, exclude: [] },
      null,
      2,
    ),
  );
  const result = spawnSync(join(packageRoot, "node_modules", ".bin", "tsc"), ["-p", config, "--pretty", "false"], { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
