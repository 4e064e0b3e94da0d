/** The code generator, for build scripts: `generate(schemaJson)` returns the module's source. */
export { generate, pascalCase } from "./generate.js";
export type { GenerateOptions } from "./generate.js";
