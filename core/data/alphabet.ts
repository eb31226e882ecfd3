/**
 * The characters the problem generator can emit, for building character-level vocabularies.
 *
 * @module
 */

/** Every character generated prompts and solutions may contain: printable ASCII (space to `~`) and newline. */
export const GENERATOR_ALPHABET: string = "\n" +
  Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("");
