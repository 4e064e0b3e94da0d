#!/usr/bin/env node
/**
 * nodelink-codegen <schema.json> <out-dir> [--runtime <module>]
 *
 * Reads a protocol schema (what `Protocol::schema()` prints in Rust) and writes
 * `<out-dir>/protocol.ts`: typed states, events and a `Client` class.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { NodelinkError } from "../errors.js";
import { generate } from "./generate.js";
const USAGE = `usage: nodelink-codegen <schema.json> <out-dir> [--runtime <module>]

Writes <out-dir>/protocol.ts from a nodelink protocol schema. The generated module
imports the runtime from "nodelink-client" unless --runtime names another module.`;
function fail(message) {
    process.stderr.write(`nodelink-codegen: ${message}\n`);
    process.exit(1);
}
function main(args) {
    const positional = [];
    let runtime;
    for (let i = 0; i < args.length; i += 1) {
        const arg = args[i];
        if (arg === "--help" || arg === "-h") {
            process.stdout.write(`${USAGE}\n`);
            return;
        }
        if (arg === "--runtime") {
            runtime = args[i + 1];
            if (runtime === undefined)
                fail("--runtime needs a module name");
            i += 1;
        }
        else if (arg.startsWith("-")) {
            fail(`unknown option ${arg}\n\n${USAGE}`);
        }
        else {
            positional.push(arg);
        }
    }
    if (positional.length !== 2)
        fail(`expected a schema file and an output directory\n\n${USAGE}`);
    const [schemaPath, outDir] = positional;
    let text;
    try {
        text = readFileSync(schemaPath, "utf8");
    }
    catch (error) {
        fail(`cannot read ${schemaPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
    let json;
    try {
        json = JSON.parse(text);
    }
    catch (error) {
        fail(`${schemaPath} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    let source;
    try {
        source = generate(json, { source: basename(schemaPath), ...(runtime === undefined ? {} : { runtime }) });
    }
    catch (error) {
        if (error instanceof NodelinkError)
            fail(`${schemaPath}: ${error.message}`);
        throw error;
    }
    mkdirSync(outDir, { recursive: true });
    const outPath = join(outDir, "protocol.ts");
    writeFileSync(outPath, source);
    process.stdout.write(`wrote ${outPath}\n`);
}
main(process.argv.slice(2));
