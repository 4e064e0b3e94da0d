/** Type-level helpers that tie a generated protocol to the generic client. */
export {};
