/**
 * A served language model: ONNX decoders (one per generation slot), a tokenizer and a queue of slots. Routes
 * call {@linkcode LanguageModel.generate} while holding a slot from {@linkcode LanguageModel.queue}.
 *
 * @module
 */

import { type SamplingParams, StopTokens } from "../../core/sampling/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import { ChatTemplate } from "./chat_template.ts";
import type { DecoderConfig } from "./model_config.ts";
import type { TokenGenerator } from "./onnx_decoder.ts";
import { SlotQueue } from "./queue.ts";
import { generateText, type TextGenerationResult } from "./text_generation.ts";

/** One generation: how many tokens, how to sample, where to stop. */
export interface GenerationParams {
  /** Most completion tokens. */
  maxTokens: number;
  /** Temperature / top-p. */
  sampling: SamplingParams;
  /** Random seed. */
  seed: number;
  /** Stop strings. */
  stop: readonly string[];
  /** Aborts generation between tokens (client gone, time limit). */
  signal?: AbortSignal;
}

/** A model the OpenAI-compatible routes can serve. */
export class LanguageModel {
  /** The model id clients name in `model`. */
  readonly id: string;
  /** Unix time (seconds) the model was loaded, for `/v1/models`. */
  readonly created: number;
  /** The tokenizer. */
  readonly tokenizer: Tokenizer;
  /** Generation slots, one per decoder: hold one while calling {@linkcode generate}. */
  readonly queue: SlotQueue;
  /** The decoders' shapes and special ids. */
  readonly config: DecoderConfig;
  /** How chat requests are turned into a prompt. */
  readonly chat: ChatTemplate;
  readonly #decoders: TokenGenerator[];
  readonly #idle: TokenGenerator[];
  readonly #endOfSequence: StopTokens;

  /**
   * Serves `decoders` (loaded copies of one model; as many generations run at once as there are decoders)
   * with `tokenizer` under the name `id`; `maxWaiting` requests may wait for a slot. Chat requests are formatted
   * with `chat` (default: ChatML). Generation stops at the tokenizer's stop ids and the config's EOS ids.
   */
  constructor(
    id: string,
    decoders: TokenGenerator[],
    tokenizer: Tokenizer,
    maxWaiting: number,
    chat?: ChatTemplate,
  ) {
    if (decoders.length === 0) throw new RangeError("LanguageModel: at least one decoder is needed");
    this.id = id;
    this.created = Math.floor(Date.now() / 1000);
    this.tokenizer = tokenizer;
    this.config = decoders[0].config;
    this.queue = new SlotQueue(decoders.length, maxWaiting);
    this.#decoders = decoders;
    this.#idle = [...decoders];
    this.#endOfSequence = new StopTokens([...this.config.eosTokenIds, ...tokenizer.stopIds]);
    this.chat = chat ?? new ChatTemplate(null, tokenizer);
  }

  /** The longest prompt plus completion, in tokens. */
  get contextLength(): number {
    return this.config.contextLength;
  }

  /** Token ids of a prompt (with the tokenizer's BOS token first when it has one). */
  encode(text: string): number[] {
    const ids = Array.from(this.tokenizer.encode(text));
    return this.tokenizer.bosId === null ? ids : [this.tokenizer.bosId, ...ids];
  }

  /**
   * Generates one choice for `promptIds`, streaming text pieces to `onDelta`. Call it while holding a slot of
   * {@linkcode queue}; it throws when every decoder is busy.
   */
  async generate(
    promptIds: readonly number[],
    params: GenerationParams,
    onDelta: (text: string) => void | Promise<void>,
  ): Promise<TextGenerationResult> {
    const decoder = this.#idle.pop();
    if (!decoder) throw new Error("LanguageModel.generate: every decoder is busy; hold a queue slot first");
    try {
      const tokens = decoder.generate(promptIds, {
        maxTokens: params.maxTokens,
        sampling: params.sampling,
        seed: params.seed,
        signal: params.signal,
      });
      const decode = this.tokenizer.createStreamDecoder();
      return await generateText(tokens, decode, this.#endOfSequence, params.stop, onDelta);
    } finally {
      this.#idle.push(decoder);
    }
  }

  /** Frees every decoder (stops their workers). */
  async close(): Promise<void> {
    await Promise.all(this.#decoders.map((d) => d.release()));
  }
}
