/**
 * The code generator: a protocol schema in, one readable TypeScript module out,
 * with an interface per state and user type (and a `…Delta` interface per nested
 * state, and per state with a field sent in parts: what a sync says changed), an
 * events map and a discriminated union per direction, the match options and
 * metadata types, and a `Client` class whose `send`/`on` only accept the
 * protocol's events with their exact payloads, and whose static `create`, `join`,
 * `find` and `list` ask for matches of the protocol's kind with typed options and
 * listings.
 */
/** How to generate. */
export interface GenerateOptions {
    /** The module the generated code imports the runtime from. Default `"nodelink-client"`. */
    runtime?: string;
    /** The schema's file name, for the header. */
    source?: string;
}
/** `player_moved` → `PlayerMoved`. */
export declare function pascalCase(wireName: string): string;
/**
 * Generates the TypeScript module for a schema (parsed JSON). Throws a
 * {@link SchemaError} naming the path of a problem, including a `fingerprint`
 * that does not match the schema's contents.
 */
export declare function generate(input: unknown, options?: GenerateOptions): string;
