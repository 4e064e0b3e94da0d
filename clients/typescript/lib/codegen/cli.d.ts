#!/usr/bin/env node
/**
 * nodelink-codegen <schema.json> <out-dir> [--runtime <module>]
 *
 * Reads a protocol schema (what `Protocol::schema()` prints in Rust) and writes
 * `<out-dir>/protocol.ts`: typed states, events and a `Client` class.
 */
export {};
