/**
 * The tokenizer of a Hugging Face model folder from its files: `tokenizer.json`, `tokenizer_config.json` (special
 * tokens, chat template), `generation_config.json` and `config.json` (their `eos_token_id`s), and
 * `chat_template.jinja` (where transformers 4.43 and later save the chat template). No I/O here: the caller reads
 * the files.
 *
 * @module
 */

import { type TokenizerConfig, tokenizerFromJson, tokenizerFromOwnedJson } from "./hf.ts";
import type { Tokenizer } from "./types.ts";

/** The parsed files of a model folder (a missing file is undefined). */
export interface TokenizerFiles {
  /**
   * tokenizer.json: its text (cheapest: parsed once, with no copy, and cheap to post to a worker) or its parsed
   * object.
   */
  tokenizer: unknown;
  /** tokenizer_config.json. */
  tokenizerConfig?: unknown;
  /** generation_config.json. */
  generationConfig?: unknown;
  /** config.json. */
  config?: unknown;
  /** The text of chat_template.jinja. */
  chatTemplate?: string;
}

/** What a model folder says about tokenizing and prompting its model. */
export interface FolderTokenizer {
  /** The tokenizer; its `stopIds` hold every EOS id the folder names. */
  tokenizer: Tokenizer;
  /** The folder's chat template (Jinja), or null when it has none. */
  chatTemplate: string | null;
  /** tokenizer_config.json as read (empty when there is none), to carry over into a saved copy. */
  tokenizerConfig: TokenizerConfig;
  /** generation_config.json as read (empty when there is none): its sampling defaults carry over too. */
  generationConfig: Record<string, unknown>;
}

function object(value: unknown, file: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${file}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** An `eos_token_id` field (an id, a list of ids, or absent) as a list; throws on anything else. */
export function eosIdList(value: unknown, file: string): number[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  for (const id of list) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
      throw new TypeError(
        `${file}: eos_token_id must be a token id or a list of them, got ${JSON.stringify(value)}`,
      );
    }
  }
  return list as number[];
}

function chatTemplateOf(config: Record<string, unknown>, jinja: string | undefined): string | null {
  if (jinja !== undefined) return jinja;
  const t = config.chat_template;
  if (typeof t === "string") return t;
  // The older list form: [{name, template}], of which "default" is the chat template.
  if (Array.isArray(t)) {
    const named = t.find((x) => x?.name === "default")?.template;
    if (typeof named === "string") return named;
  }
  if (t !== undefined && t !== null) {
    throw new TypeError("tokenizer_config.json: chat_template is not a string");
  }
  return null;
}

function parseTokenizerJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TypeError(`tokenizer.json is not valid JSON: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * The tokenizer, chat template and stop ids of a folder's files. EOS is tokenizer_config.json's `eos_token`
 * (else guessed from the vocabulary, see `tokenizerFromJson`); the stop ids add every `eos_token_id` of
 * generation_config.json and config.json, as transformers' `generate` stops at all of them (Qwen2.5-Instruct:
 * `<|im_end|>` and `<|endoftext|>`). Throws a TypeError or RangeError naming the file at fault.
 */
export function tokenizerFromFiles(files: TokenizerFiles): FolderTokenizer {
  const tokenizerConfig = object(files.tokenizerConfig, "tokenizer_config.json") as TokenizerConfig;
  const generationConfig = object(files.generationConfig, "generation_config.json");
  const more = [
    ...eosIdList(
      generationConfig.eos_token_id,
      "generation_config.json",
    ),
    ...eosIdList(object(files.config, "config.json").eos_token_id, "config.json"),
  ];
  return {
    tokenizer: typeof files.tokenizer === "string"
      ? tokenizerFromOwnedJson(parseTokenizerJson(files.tokenizer), tokenizerConfig, more)
      : tokenizerFromJson(files.tokenizer, tokenizerConfig, more),
    chatTemplate: chatTemplateOf(tokenizerConfig, files.chatTemplate),
    tokenizerConfig,
    generationConfig,
  };
}
