/**
 * The package as users get it: `lib/` is what `src/` compiles to, the packed
 * tarball holds what a registry would serve, and the README's install and codegen
 * commands, run exactly as written in fresh npm projects beside a copy of the
 * committed package (what a clone of nodelink holds), give a project whose code
 * compiles and runs against the installed client.
 */

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";

import { packageRoot } from "./support.js";
import { scratch } from "./tools.js";

const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
  name: string;
  version: string;
  license: string;
  types: string;
  files: string[];
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
};
const readme = readFileSync(join(packageRoot, "README.md"), "utf8");
const tsc = join(packageRoot, "node_modules", ".bin", "tsc");

/** The README's block marked `<!-- run: name -->`. */
function readmeBlock(name: string): string {
  const block = new RegExp(`<!-- run: ${name} -->\\n\`\`\`(?:sh|ts)\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(block, `README.md has no <!-- run: ${name} --> block`);
  return block[1]!;
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((path) => statSync(join(dir, path)).isFile())
    .sort();
}

/** The environment for npm in a user's project: none of this test run's npm settings. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.toLowerCase().startsWith("npm_")) env[key] = value;
  // Packages already in the cache (ws) need not be fetched again.
  return { ...env, npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
}

/** Runs a README block with `sh` in `cwd`, as a person pastes it into a shell. */
function run(block: string, cwd: string): void {
  const result = spawnSync("sh", ["-e", "-c", block], { cwd, env: userEnvironment(), encoding: "utf8" });
  assert.equal(result.status, 0, `in ${cwd}:\n${block}\n${result.stdout}${result.stderr}`);
}

describe("the package", () => {
  it("ships lib/ exactly as src/ compiles (run npm run package after changing src/)", () => {
    const out = scratch("package-lib");
    rmSync(out, { recursive: true, force: true });
    const result = spawnSync(tsc, ["-p", join(packageRoot, "tsconfig.package.json"), "--outDir", out], { encoding: "utf8" });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    const lib = join(packageRoot, "lib");
    assert.deepEqual(filesUnder(lib), filesUnder(out), "the same files");
    const stale = filesUnder(out).filter((file) => !readFileSync(join(out, file)).equals(readFileSync(join(lib, file))));
    assert.deepEqual(stale, [], "lib/ is what src/ compiles to: run npm run package");
    assert.ok((statSync(join(packageRoot, pkg.bin["nodelink-codegen"]!)).mode & 0o111) !== 0, "the codegen command is executable");
  });

  it("is ready to publish: name, version, license, types, exports, and only what users need", () => {
    assert.equal(pkg.name, "nodelink-client");
    assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
    assert.equal(pkg.license, "MIT");
    assert.ok(existsSync(join(packageRoot, "LICENSE")));
    assert.equal(pkg.types, "./lib/index.d.ts");
    assert.deepEqual(Object.keys(pkg.exports), [".", "./codegen", "./package.json"]);
    // No lifecycle script: nothing runs, and nothing needs building, on install.
    for (const script of ["prepare", "prepack", "preinstall", "install", "postinstall"]) assert.equal(pkg.scripts[script], undefined, script);
    const packed = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: packageRoot, env: userEnvironment(), encoding: "utf8" })) as [
      { files: { path: string }[] },
    ];
    const files = packed[0].files.map((file) => file.path).sort();
    assert.deepEqual(
      files,
      ["LICENSE", "README.md", "package.json", ...filesUnder(join(packageRoot, "lib")).map((file) => `lib/${file}`)].sort(),
    );
    for (const target of [pkg.types, "./lib/index.js", "./lib/codegen/index.js", "./lib/codegen/index.d.ts"]) assert.ok(files.includes(target.replace(/^\.\//, "")), target);
  });
});

describe("the README's install and codegen commands, run as written", () => {
  let root = "";

  before(() => {
    // What a clone of nodelink holds of the package: the files git tracks (and new
    // ones not ignored), so no dist/ and no node_modules/.
    root = mkdtempSync(join(tmpdir(), "nodelink-install-"));
    const checkout = join(root, "nodelink", "clients", "typescript");
    const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: packageRoot, encoding: "utf8" });
    for (const file of listed.split("\0").filter((file) => file !== "" && existsSync(join(packageRoot, file)))) {
      const to = join(checkout, file);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(packageRoot, file), to);
      chmodSync(to, statSync(join(packageRoot, file)).mode);
    }
    assert.ok(!existsSync(join(checkout, "dist")) && !existsSync(join(checkout, "node_modules")));
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  for (const install of ["install", "install-tarball"]) {
    it(`${install}: installs, generates, compiles and runs in a fresh project`, () => {
      const project = join(root, `game-${install}`);
      mkdirSync(project);
      run("npm init -y >/dev/null", project);
      run(readmeBlock(install), project);
      const installed = join(project, "node_modules", "nodelink-client");
      assert.ok(existsSync(join(installed, "lib", "index.js")), "the compiled client");
      assert.equal(JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).name, "nodelink-client");

      copyFileSync(join(packageRoot, "examples/game/schema.json"), join(project, "schema.json"));
      run(readmeBlock("generate"), project);
      assert.ok(existsSync(join(project, "src/generated/protocol.ts")));

      // The README's example, and a program that runs, compiled against what was
      // installed: the client's types through its `exports`, ws's (and Node's,
      // which they bring) as the README installs them.
      writeFileSync(join(project, "src/use.ts"), readmeBlock("use"));
      writeFileSync(join(project, "src/matches.ts"), readmeBlock("matches"));
      writeFileSync(
        join(project, "src/check.ts"),
        [
          'import { WebSocket } from "ws";',
          'import { NodelinkError, RefusedError, REFUSALS_SUBPROTOCOL } from "nodelink-client";',
          'import { Client, FINGERPRINT } from "./generated/protocol.js";',
          'const client = new Client("ws://127.0.0.1:9/", { WebSocket });',
          "client.sendMove({ x: 1, y: 2 });",
          "client.sendReady();",
          "const refused = new RefusedError(403, \"no\", \"Forbidden\");",
          'console.log(JSON.stringify({ status: client.status, queued: client.queued, fingerprint: FINGERPRINT, refusedName: refused.name, isError: refused instanceof NodelinkError, marker: REFUSALS_SUBPROTOCOL }));',
          "",
        ].join("\n"),
      );
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "es2022",
            module: "nodenext",
            moduleResolution: "nodenext",
            strict: true,
            outDir: "out",
            rootDir: "src",
            types: ["node", "ws"],
          },
          include: ["src"],
        }),
      );
      writeFileSync(join(project, "package.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(project, "package.json"), "utf8")), type: "module" }, null, 2));
      const compiled = spawnSync(tsc, ["-p", join(project, "tsconfig.json")], { cwd: project, encoding: "utf8" });
      assert.equal(compiled.status, 0, `${compiled.stdout}${compiled.stderr}`);
      const ran = spawnSync(process.execPath, [join(project, "out/check.js")], { cwd: project, encoding: "utf8" });
      assert.equal(ran.status, 0, ran.stderr);
      assert.deepEqual(JSON.parse(ran.stdout), {
        status: "idle",
        queued: 2,
        // The example game's, as its committed schema says.
        fingerprint: (JSON.parse(readFileSync(join(packageRoot, "examples/game/schema.json"), "utf8")) as { fingerprint: string }).fingerprint,
        refusedName: "RefusedError",
        isError: true,
        marker: "nodelink.refusals",
      });
    });
  }
});
