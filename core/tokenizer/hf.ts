/**
 * Loading any Hugging Face tokenizer.json (byte-level BPE as Qwen2.5 ships, and the other models
 * `@huggingface/tokenizers` supports) behind the project's {@linkcode Tokenizer} interface.
 *
 * @module
 */

import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { charTokenizerFromJson, type SpecialRoles, stopIdsOf } from "./char.ts";
import { streamDecoderFrom } from "./stream.ts";
import type { StreamDecoder, Tokenizer } from "./types.ts";

/** The fields of a Hugging Face tokenizer_config.json that matter here (all optional). */
export interface TokenizerConfig {
  /** EOS token, as a string or an added-token object with `content`. */
  eos_token?: string | { content: string } | null;
  /** BOS token (null: none). */
  bos_token?: string | { content: string } | null;
  /** Padding token. */
  pad_token?: string | { content: string } | null;
  /** Whether decode removes spaces before punctuation (transformers' option; default false here). */
  clean_up_tokenization_spaces?: boolean;
  [key: string]: unknown;
}

const EOS_GUESSES = ["<|endoftext|>", "<|im_end|>", "</s>", "<|end_of_text|>", "<eos>"];
const PAD_GUESSES = ["<|pad|>", "<pad>", "<|endoftext|>"];
const BOS_GUESSES = ["<s>", "<|begin_of_text|>", "<bos>"];

function tokenName(v: string | { content: string } | null | undefined): string | null | undefined {
  if (v === null || v === undefined) return v;
  return typeof v === "string" ? v : v.content;
}

function resolveRoles(vocab: Map<string, number>, config: TokenizerConfig): SpecialRoles {
  const need = (role: string, name: string): string => {
    if (!vocab.has(name)) {
      throw new RangeError(`tokenizerFromJson: ${role} token "${name}" is not in the vocabulary`);
    }
    return name;
  };
  const cfgEos = tokenName(config.eos_token);
  const eos = cfgEos ? need("eos", cfgEos) : EOS_GUESSES.find((t) => vocab.has(t));
  if (!eos) {
    throw new RangeError(
      `tokenizerFromJson: no EOS token found (tried ${
        EOS_GUESSES.join(", ")
      }); pass tokenizer_config's eos_token`,
    );
  }
  const cfgPad = tokenName(config.pad_token);
  const pad = cfgPad ? need("pad", cfgPad) : PAD_GUESSES.find((t) => vocab.has(t)) ?? eos;
  const cfgBos = tokenName(config.bos_token);
  const bos = cfgBos
    ? need("bos", cfgBos)
    : cfgBos === null
    ? null
    : BOS_GUESSES.find((t) => vocab.has(t)) ?? null;
  return { eos, pad, bos };
}

class HfBackedTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number;
  readonly padId: number;
  readonly stopIds: readonly number[];
  readonly #hf: HfTokenizer;
  readonly #cleanUp: boolean;

  constructor(
    private readonly json: Record<string, unknown>,
    config: TokenizerConfig,
    vocab: Map<string, number>,
    roles: SpecialRoles,
  ) {
    this.#cleanUp = config.clean_up_tokenization_spaces ?? false;
    this.#hf = new HfTokenizer(json, { ...config, clean_up_tokenization_spaces: this.#cleanUp });
    let max = -1;
    for (const id of vocab.values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    this.eosId = vocab.get(roles.eos) as number;
    this.padId = vocab.get(roles.pad) as number;
    this.bosId = roles.bos === null ? null : vocab.get(roles.bos) as number;
    this.stopIds = stopIdsOf(this.eosId, roles.moreStopIds);
  }

  encode(text: string): Uint32Array {
    return Uint32Array.from(this.#hf.encode(text, { add_special_tokens: false }).ids);
  }

  decode(ids: ArrayLike<number>): string {
    const list = Array.from(ids);
    if (list.length === 0) return "";
    list.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.#hf.id_to_token(id) === undefined) {
        throw new RangeError(`decode: id ${id} at position ${i} is outside the vocabulary`);
      }
    });
    return this.#hf.decode(list, { skip_special_tokens: false, clean_up_tokenization_spaces: this.#cleanUp });
  }

  /** The tokenizer.json object, frozen at load: shared, never copied (a copy of Qwen's takes 0.5 s). */
  toJSON(): unknown {
    return this.json;
  }

  createStreamDecoder(): StreamDecoder {
    return streamDecoderFrom((ids) => this.decode(ids));
  }
}

function vocabOf(json: Record<string, unknown>): Map<string, number> {
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = new Map<string, number>();
  const v = model?.vocab;
  if (Array.isArray(v)) {
    // Unigram: [[piece, score], ...], ids by position.
    v.forEach((entry, id) => {
      if (Array.isArray(entry) && typeof entry[0] === "string") vocab.set(entry[0], id);
    });
  } else if (typeof v === "object" && v !== null) {
    // for...in, not Object.entries: no pair array per token (a 151k-token vocabulary loads 0.15 s faster).
    const byToken = v as Record<string, unknown>;
    for (const token in byToken) {
      const id = byToken[token];
      if (typeof id === "number") vocab.set(token, id);
    }
  } else {
    throw new TypeError("tokenizerFromJson: tokenizer.json has no model.vocab");
  }
  for (const t of (json.added_tokens ?? []) as { id?: unknown; content?: unknown }[]) {
    if (typeof t.content === "string" && typeof t.id === "number") vocab.set(t.content, t.id);
  }
  return vocab;
}

/** Freezes the JSON value `root` all the way down (for...in, not Object.values: no array per object). */
function deepFreeze(root: object): void {
  const stack: object[] = [root];
  while (stack.length > 0) {
    const o = stack.pop() as Record<string, unknown>;
    Object.freeze(o);
    if (Array.isArray(o)) {
      for (const v of o) if (typeof v === "object" && v !== null) stack.push(v);
    } else {
      for (const key in o) {
        const v = o[key];
        if (typeof v === "object" && v !== null) stack.push(v);
      }
    }
  }
}

/**
 * Loads a Hugging Face tokenizer.json object (and optionally its tokenizer_config.json) as a
 * {@linkcode Tokenizer}, like {@linkcode tokenizerFromJson}, taking the object over instead of copying it: it is
 * frozen and becomes what the tokenizer's `toJSON` returns. For an object nothing else holds, such as one just
 * parsed from the file, which saves a copy (0.3 s for Qwen's 151k-token tokenizer.json).
 */
export function tokenizerFromOwnedJson(
  json: unknown,
  config: TokenizerConfig = {},
  moreStopIds: readonly number[] = [],
): Tokenizer {
  const obj = tokenizerObject(json);
  deepFreeze(obj);
  const vocab = vocabOf(obj);
  const ids = new Set(vocab.values());
  for (const id of moreStopIds) {
    if (!ids.has(id)) throw new RangeError(`tokenizerFromJson: stop id ${id} is not in the vocabulary`);
  }
  const roles = { ...resolveRoles(vocab, config), moreStopIds };
  return charTokenizerFromJson(obj, roles) ?? new HfBackedTokenizer(obj, config, vocab, roles);
}

/**
 * Loads a Hugging Face tokenizer.json object (and optionally its tokenizer_config.json) as a
 * {@linkcode Tokenizer}. The character-tokenizer layout this project writes comes back as the native character
 * tokenizer; anything else (byte-level BPE, WordPiece, Unigram...) runs through `@huggingface/tokenizers`.
 * Special tokens come from `config` (eos_token, bos_token, pad_token) or, without it, from the vocabulary:
 * EOS is the first of <|endoftext|>, <|im_end|>, </s>, <|end_of_text|>, <eos>; pad the first of <|pad|>, <pad>,
 * <|endoftext|>, else EOS; BOS the first of <s>, <|begin_of_text|>, <bos>, else none. Throws on a value that is
 * not a tokenizer.json object, a model the library cannot build, or no EOS token. `moreStopIds` are further ids
 * that end a sequence (the tokenizer's `stopIds` are EOS and these); one outside the vocabulary is a RangeError.
 */
export function tokenizerFromJson(
  json: unknown,
  config: TokenizerConfig = {},
  moreStopIds: readonly number[] = [],
): Tokenizer {
  // A copy of its own (through JSON text: cheaper than structuredClone), so that the caller's object stays theirs.
  return tokenizerFromOwnedJson(JSON.parse(JSON.stringify(tokenizerObject(json))), config, moreStopIds);
}

// `json` as a tokenizer.json object, or a TypeError.
function tokenizerObject(json: unknown): Record<string, unknown> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new TypeError("tokenizerFromJson: expected a tokenizer.json object");
  }
  return json as Record<string, unknown>;
}
