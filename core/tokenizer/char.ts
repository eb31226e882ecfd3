/**
 * The character-level tokenizer of the small models: one id per character of an alphabet, plus special tokens.
 * It serialises as a Hugging Face tokenizer.json (a BPE model with no merges, so every character is a token, and
 * a Fuse decoder), which standard tools load with the same ids.
 *
 * @module
 */

import { GENERATOR_ALPHABET } from "../data/alphabet.ts";
import type { StreamDecoder, Tokenizer } from "./types.ts";

/** The special tokens of the character tokenizer, with ids 0..4 in this order. */
export const CHAR_SPECIAL_TOKENS = {
  pad: "<|pad|>",
  eos: "<|endoftext|>",
  imStart: "<|im_start|>",
  imEnd: "<|im_end|>",
  unk: "<|unk|>",
} as const;

/** Names of the special token strings of {@linkcode CHAR_SPECIAL_TOKENS}, in id order. */
const SPECIALS: readonly string[] = Object.values(CHAR_SPECIAL_TOKENS);

/** A tokenizer.json `added_tokens` entry for a special token (not normalised, no stripping). */
export function specialAddedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** Options of {@linkcode createCharTokenizer}. */
export interface CharTokenizerOptions {
  /** Characters of the vocabulary, in id order after the specials (default: the generator's alphabet). */
  alphabet?: string;
}

/** What a char tokenizer is built from: the specials' strings (id order) and the characters. */
interface CharSpec {
  specials: readonly string[];
  chars: readonly string[];
  eos: string;
  pad: string;
  unk: string;
  bos: string | null;
}

class CharTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number;
  readonly padId: number;
  readonly #tokens: string[];
  readonly #ascii = new Int32Array(128).fill(-1);
  readonly #other = new Map<number, number>();
  readonly #specials: { text: string; id: number }[];
  readonly #unkId: number;
  /** 1 at the UTF-16 code units a special token starts with. */
  readonly #specialStarts = new Uint8Array(65536);

  constructor(private readonly spec: CharSpec) {
    this.#tokens = [...spec.specials, ...spec.chars];
    this.vocabSize = this.#tokens.length;
    const idOf = (t: string) => this.#tokens.indexOf(t);
    this.eosId = idOf(spec.eos);
    this.padId = idOf(spec.pad);
    this.#unkId = idOf(spec.unk);
    this.bosId = spec.bos === null ? null : idOf(spec.bos);
    // Longest first, as the Hugging Face added-token matcher prefers the longest match.
    this.#specials = spec.specials.map((text, id) => ({ text, id })).sort((a, b) =>
      b.text.length - a.text.length
    );
    for (const s of spec.specials) this.#specialStarts[s.charCodeAt(0)] = 1;
    spec.chars.forEach((ch, i) => {
      const cp = ch.codePointAt(0) as number;
      if (cp < 128) this.#ascii[cp] = spec.specials.length + i;
      else this.#other.set(cp, spec.specials.length + i);
    });
  }

  encode(text: string): Uint32Array {
    const ascii = this.#ascii;
    const starts = this.#specialStarts;
    const unk = this.#unkId;
    const out = new Uint32Array(text.length);
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      let cp = text.charCodeAt(i);
      if (starts[cp] === 1) {
        const hit = this.#matchSpecial(text, i);
        if (hit) {
          out[n++] = hit.id;
          i += hit.text.length - 1;
          continue;
        }
      }
      if (cp < 128) {
        const id = ascii[cp];
        out[n++] = id < 0 ? unk : id;
        continue;
      }
      if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < text.length) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          i++;
        }
      }
      out[n++] = this.#other.get(cp) ?? unk;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  #matchSpecial(text: string, at: number): { text: string; id: number } | undefined {
    for (const s of this.#specials) if (text.startsWith(s.text, at)) return s;
    return undefined;
  }

  decode(ids: ArrayLike<number>): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) s += this.#token(ids[i], i);
    return s;
  }

  #token(id: number, at: number): string {
    const t = Number.isInteger(id) ? this.#tokens[id] : undefined;
    if (t === undefined) throw new RangeError(`decode: id ${id} at position ${at} is outside the vocabulary`);
    return t;
  }

  toJSON(): unknown {
    const added = this.spec.specials.map((content, id) => specialAddedToken(id, content));
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: { type: "Fuse" },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: this.spec.unk,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: Object.fromEntries(this.#tokens.map((t, id) => [t, id])),
        merges: [],
      },
    };
  }

  createStreamDecoder(): StreamDecoder {
    let at = 0;
    return {
      push: (id: number) => this.#token(id, at++),
      flush: () => {
        at = 0;
        return "";
      },
    };
  }
}

/**
 * A character tokenizer: ids 0..4 are `<|pad|>` (pad), `<|endoftext|>` (eos), `<|im_start|>`, `<|im_end|>`,
 * `<|unk|>`, then one id per distinct character of `alphabet` (code points, in order). Special-token strings in
 * the text encode as their ids; characters outside the alphabet encode as `<|unk|>`. No BOS. Throws when the
 * alphabet is empty.
 */
export function createCharTokenizer(options: CharTokenizerOptions = {}): Tokenizer {
  const chars = [...new Set(Array.from(options.alphabet ?? GENERATOR_ALPHABET))];
  if (chars.length === 0) throw new RangeError("createCharTokenizer: the alphabet is empty");
  return new CharTokenizer({
    specials: SPECIALS,
    chars,
    eos: CHAR_SPECIAL_TOKENS.eos,
    pad: CHAR_SPECIAL_TOKENS.pad,
    unk: CHAR_SPECIAL_TOKENS.unk,
    bos: null,
  });
}

/** Special-token roles resolved for a tokenizer.json (see `tokenizerFromJson`). */
export interface SpecialRoles {
  /** The EOS token string. */
  eos: string;
  /** The padding token string. */
  pad: string;
  /** The BOS token string, or null. */
  bos: string | null;
}

/**
 * Recognises the character-tokenizer layout written by {@linkcode createCharTokenizer}'s `toJSON` (a BPE model
 * without merges, a Fuse decoder, no normalizer / pre-tokenizer / post-processor, special tokens first and
 * single-character tokens after) and rebuilds the fast native tokenizer; null for any other tokenizer.json.
 */
export function charTokenizerFromJson(json: Record<string, unknown>, roles: SpecialRoles): Tokenizer | null {
  const model = json.model as Record<string, unknown> | undefined;
  const decoder = json.decoder as Record<string, unknown> | null | undefined;
  if (
    !model || model.type !== "BPE" || !Array.isArray(model.merges) || model.merges.length !== 0 ||
    decoder?.type !== "Fuse" || json.normalizer || json.pre_tokenizer || json.post_processor ||
    typeof model.unk_token !== "string" || model.fuse_unk || model.byte_fallback ||
    typeof model.vocab !== "object" || model.vocab === null || !Array.isArray(json.added_tokens)
  ) return null;
  const added = json.added_tokens as { id: unknown; content: unknown; special?: unknown }[];
  const vocab = Object.entries(model.vocab as Record<string, unknown>);
  const byId: string[] = [];
  for (const [token, id] of vocab) {
    if (!Number.isInteger(id) || byId[id as number] !== undefined) return null;
    byId[id as number] = token;
  }
  if (byId.length !== vocab.length || added.length === 0) return null;
  const specials = byId.slice(0, added.length);
  const addedOk = added.every((t, i) => t.id === i && t.content === byId[i] && t.special === true);
  const chars = byId.slice(added.length);
  if (!addedOk || !chars.every((c) => Array.from(c).length === 1) || chars.length === 0) return null;
  if (!specials.includes(model.unk_token)) return null;
  return new CharTokenizer({
    specials,
    chars,
    eos: roles.eos,
    pad: roles.pad,
    unk: model.unk_token,
    bos: roles.bos,
  });
}
