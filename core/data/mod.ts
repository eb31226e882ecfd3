/**
 * Problems: the record type, the seeded generator, JSONL dataset readers and prompt templates.
 *
 * @module
 */

export type { Problem } from "./problem.ts";
export {
  FAMILIES,
  type Family,
  type GenerateOptions,
  generateProblems,
  problemSplit,
  type Split,
  TEST_FRACTION_DENOMINATOR,
} from "./generator.ts";
export { type Level, LEVELS } from "./families/common.ts";
export { latexFraction } from "./families/fraction.ts";
export { GENERATOR_ALPHABET } from "./alphabet.ts";
export { type JsonlLayout, parseJsonl } from "./jsonl.ts";
export { type ChainDeparture, chainDeparture } from "./chain.ts";
export {
  CHAT_TEMPLATES,
  chatMLTemplate,
  formatPrompt,
  type PromptTemplate,
  QWEN_MATH_SYSTEM,
} from "./template.ts";
