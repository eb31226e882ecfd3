/**
 * The character-level tokenizer of the small models: one id per character of an alphabet, plus special tokens.
 * It serialises as a Hugging Face tokenizer.json: a BPE model with no merges, so every character is a token.
 *
 * Two forms. An alphabet of single-byte (ASCII) characters is written in byte-level form, as Qwen2's tokenizer
 * is: NFC, Qwen2's split pattern, byte-level characters in the vocabulary (a space is "Ġ") and a ByteLevel
 * decoder. transformers 4 (which reads tokenizer.json) and transformers 5 (which rebuilds Qwen2's pipeline from
 * the vocabulary of any `qwen2` model) then both give our ids. Characters outside the alphabet encode to
 * nothing, as in those tokenizers (their BPE model has no unknown token). Other alphabets are written in the
 * raw form (the characters themselves, a Fuse decoder, no pre-tokenizer), where an unknown character is
 * `<|unk|>`; transformers 5 does not read that form correctly.
 *
 * @module
 */

import { GENERATOR_ALPHABET } from "../data/mod.ts";
import { byteLevelStep, bytesToUnicode, qwenPreTokenizer } from "./byte_level.ts";
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
  /** The unknown token (raw form); null in the byte-level form, which drops unknown characters. */
  unk: string | null;
  bos: string | null;
  moreStopIds?: readonly number[];
  /** Byte-level form (single-byte characters only): NFC first, unknown characters dropped. */
  byteLevel: boolean;
}

const BYTE_CHARS = bytesToUnicode();

/** Whether every UTF-16 unit of `text` is ASCII. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 128) return false;
  return true;
}

class CharTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number;
  readonly padId: number;
  readonly stopIds: readonly number[];
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
    this.#unkId = spec.unk === null ? -1 : idOf(spec.unk);
    this.bosId = spec.bos === null ? null : idOf(spec.bos);
    this.stopIds = stopIdsOf(this.eosId, spec.moreStopIds);
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
    if (!this.spec.byteLevel || isAscii(text)) return this.#encodeRaw(text);
    // Byte-level form: NFC applies to the text between special tokens (which are matched first), as in the
    // Hugging Face pipeline.
    const parts: Uint32Array[] = [];
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const hit = this.#specialStarts[text.charCodeAt(i)] === 1 ? this.#matchSpecial(text, i) : undefined;
      if (!hit) continue;
      parts.push(this.#encodeRaw(text.slice(from, i).normalize("NFC")), Uint32Array.of(hit.id));
      i += hit.text.length - 1;
      from = i + 1;
    }
    parts.push(this.#encodeRaw(text.slice(from).normalize("NFC")));
    const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  #encodeRaw(text: string): Uint32Array {
    const ascii = this.#ascii;
    const starts = this.#specialStarts;
    const unk = this.#unkId; // -1: characters outside the alphabet are dropped (byte-level form)
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
        const id = ascii[cp] < 0 ? unk : ascii[cp];
        if (id >= 0) out[n++] = id;
        continue;
      }
      if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < text.length) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          i++;
        }
      }
      const id = this.#other.get(cp) ?? unk;
      if (id >= 0) out[n++] = id;
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
    const byteLevel = this.spec.byteLevel;
    const specials = this.spec.specials.length;
    const spell = (t: string, id: number) => byteLevel && id >= specials ? BYTE_CHARS[t.charCodeAt(0)] : t;
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: byteLevel ? { type: "NFC" } : null,
      pre_tokenizer: byteLevel ? qwenPreTokenizer() : null,
      post_processor: null,
      decoder: byteLevel ? byteLevelStep() : { type: "Fuse" },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: this.spec.unk,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: Object.fromEntries(this.#tokens.map((t, id) => [spell(t, id), id])),
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
 * the text encode as their ids. Characters outside the alphabet encode to nothing when the alphabet is ASCII
 * (the byte-level form, as the default alphabet is), to `<|unk|>` otherwise. No BOS. Throws when the alphabet is
 * empty.
 */
export function createCharTokenizer(options: CharTokenizerOptions = {}): Tokenizer {
  const chars = [...new Set(Array.from(options.alphabet ?? GENERATOR_ALPHABET))];
  if (chars.length === 0) throw new RangeError("createCharTokenizer: the alphabet is empty");
  const byteLevel = chars.every((c) => c.codePointAt(0)! < 128);
  return new CharTokenizer({
    specials: SPECIALS,
    chars,
    eos: CHAR_SPECIAL_TOKENS.eos,
    pad: CHAR_SPECIAL_TOKENS.pad,
    unk: byteLevel ? null : CHAR_SPECIAL_TOKENS.unk,
    bos: null,
    byteLevel,
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
  /** More ids that end a sequence besides EOS (e.g. generation_config.json's other `eos_token_id`s). */
  moreStopIds?: readonly number[];
}

/** `eosId` then the other stop ids, without repeats. */
export function stopIdsOf(eosId: number, more: readonly number[] = []): readonly number[] {
  return Object.freeze([...new Set([eosId, ...more])]);
}

/** JSON text of `v` with object keys sorted, to compare tokenizer.json parts whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const same = (a: unknown, b: unknown) => canonical(a ?? null) === canonical(b ?? null);

/** The pipeline parts of the byte-level form this tokenizer writes (and the variants that tokenise alike). */
function isByteLevelForm(json: Record<string, unknown>, model: Record<string, unknown>): boolean {
  return model.unk_token === null && same(json.decoder, byteLevelStep()) &&
    (json.normalizer === null || same(json.normalizer, { type: "NFC" })) &&
    (same(json.pre_tokenizer, qwenPreTokenizer()) || same(json.pre_tokenizer, byteLevelStep())) &&
    (json.post_processor === null || same(json.post_processor, byteLevelStep()));
}

function isRawForm(json: Record<string, unknown>, model: Record<string, unknown>): boolean {
  const decoder = json.decoder as Record<string, unknown> | null | undefined;
  return decoder?.type === "Fuse" && !json.normalizer && !json.pre_tokenizer && !json.post_processor &&
    typeof model.unk_token === "string";
}

/**
 * Recognises the character-tokenizer layouts written by {@linkcode createCharTokenizer}'s `toJSON` (a BPE model
 * without merges, special tokens first and single-character tokens after, in the byte-level or the raw form of
 * the module comment) and rebuilds the fast native tokenizer; null for any other tokenizer.json.
 */
export function charTokenizerFromJson(json: Record<string, unknown>, roles: SpecialRoles): Tokenizer | null {
  const model = json.model as Record<string, unknown> | undefined;
  if (
    !model || model.type !== "BPE" || !Array.isArray(model.merges) || model.merges.length !== 0 ||
    model.fuse_unk || model.byte_fallback || typeof model.vocab !== "object" || model.vocab === null ||
    !Array.isArray(json.added_tokens)
  ) return null;
  const byteLevel = isByteLevelForm(json, model);
  if (!byteLevel && !isRawForm(json, model)) return null;
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
  let chars = byId.slice(added.length);
  if (!addedOk || !chars.every((c) => Array.from(c).length === 1) || chars.length === 0) return null;
  if (byteLevel) {
    // Byte characters back to the characters they stand for: single bytes only (ASCII).
    const bytes = chars.map((c) => BYTE_CHARS.indexOf(c));
    if (bytes.some((b) => b < 0 || b >= 128)) return null;
    chars = bytes.map((b) => String.fromCharCode(b));
  } else if (!specials.includes(model.unk_token as string)) return null;
  return new CharTokenizer({
    specials,
    chars,
    eos: roles.eos,
    pad: roles.pad,
    unk: byteLevel ? null : model.unk_token as string,
    bos: roles.bos,
    moreStopIds: roles.moreStopIds,
    byteLevel,
  });
}
