/**
 * A served language model: ONNX decoders (each decodes up to its `maxBatch` generations together), a tokenizer
 * and a queue of slots, one per generation that may run at once. Routes call
 * {@linkcode LanguageModel.generate} while holding a slot from {@linkcode LanguageModel.queue}.
 *
 * @module
 */

import { type SamplingParams, StopTokens } from "../../core/sampling/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import { ChatTemplate, type PromptSegment } from "./chat_template.ts";
import type { DecodeStats } from "./decode_batch.ts";
import {
  addedTokenTexts,
  encodePrompt,
  localEncoder,
  type PromptEncoder,
  type PromptInput,
} from "./prompt_encoding.ts";
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
  /** Generation slots, one per row of every decoder's batch: hold one while calling {@linkcode generate}. */
  readonly queue: SlotQueue;
  /** The decoders' shapes and special ids. */
  readonly config: DecoderConfig;
  /** How chat requests are turned into a prompt. */
  readonly chat: ChatTemplate;
  readonly #decoders: TokenGenerator[];
  /** Generations under way per decoder. */
  readonly #running: number[];
  readonly #endOfSequence: StopTokens;
  readonly #stopIds: number[];
  readonly #addedTokens: string[];
  readonly #encoder: PromptEncoder;

  /**
   * Serves `decoders` (loaded copies of one model; as many generations run at once as their batches hold)
   * with `tokenizer` under the name `id`; `maxWaiting` requests may wait for a slot. Chat requests are formatted
   * with `chat` (default: ChatML). Generation stops at the tokenizer's stop ids and the config's EOS ids.
   * {@linkcode tokenize} uses `encoder` (default: `tokenizer` on the calling thread).
   */
  constructor(
    id: string,
    decoders: TokenGenerator[],
    tokenizer: Tokenizer,
    maxWaiting: number,
    chat?: ChatTemplate,
    encoder?: PromptEncoder,
  ) {
    if (decoders.length === 0) throw new RangeError("LanguageModel: at least one decoder is needed");
    this.id = id;
    this.created = Math.floor(Date.now() / 1000);
    this.tokenizer = tokenizer;
    this.config = decoders[0].config;
    this.queue = new SlotQueue(decoders.reduce((sum, d) => sum + d.maxBatch, 0), maxWaiting);
    this.#decoders = decoders;
    this.#running = decoders.map(() => 0);
    this.#stopIds = [...new Set([...this.config.eosTokenIds, ...tokenizer.stopIds])];
    this.#endOfSequence = new StopTokens(this.#stopIds);
    this.#addedTokens = addedTokenTexts(tokenizer);
    this.#encoder = encoder ?? localEncoder(tokenizer);
    this.chat = chat ?? new ChatTemplate(null, tokenizer);
  }

  /** Generations that may run at once (the queue's slots). */
  get capacity(): number {
    return this.#decoders.reduce((sum, d) => sum + d.maxBatch, 0);
  }

  /** The decoders' decode steps so far, summed (`peakBatch` is the largest of any one decoder). */
  decodeStats(): DecodeStats {
    const total: DecodeStats = { steps: 0, sequenceSteps: 0, peakBatch: 0, prefills: 0 };
    for (const { stats } of this.#decoders) {
      total.steps += stats.steps;
      total.sequenceSteps += stats.sequenceSteps;
      total.peakBatch = Math.max(total.peakBatch, stats.peakBatch);
      total.prefills += stats.prefills;
    }
    return total;
  }

  /** The longest prompt plus completion, in tokens. */
  get contextLength(): number {
    return this.config.contextLength;
  }

  /** Token ids of a prompt (with the tokenizer's BOS token first when it has one), on this thread. */
  encode(text: string): number[] {
    return encodePrompt(this.tokenizer, this.#addedTokens, { text });
  }

  /**
   * Token ids of a prompt made of segments, on this thread: control segments are encoded as
   * {@linkcode encode} does, content segments with every special-token string spelled as plain text. BOS
   * comes first when the tokenizer has one and the template did not write it.
   */
  encodeSegments(segments: readonly PromptSegment[]): number[] {
    return encodePrompt(this.tokenizer, this.#addedTokens, { segments });
  }

  /**
   * The ids {@linkcode encode} or {@linkcode encodeSegments} give, computed by the model's encoder (in a
   * worker when the model was loaded with workers), so that a long prompt does not hold the event loop.
   */
  tokenize(prompt: PromptInput): Promise<Uint32Array> {
    return this.#encoder.encode(prompt);
  }

  /**
   * Generates one choice for `promptIds`, streaming text pieces to `onDelta`, as a row of the decode batch of
   * the decoder with the most room. Call it while holding a slot of {@linkcode queue}; it throws when every
   * decoder's batch is full.
   */
  async generate(
    promptIds: readonly number[],
    params: GenerationParams,
    onDelta: (text: string) => void | Promise<void>,
  ): Promise<TextGenerationResult> {
    let best = -1;
    this.#decoders.forEach((d, i) => {
      const room = d.maxBatch - this.#running[i];
      if (room > 0 && (best < 0 || room > this.#decoders[best].maxBatch - this.#running[best])) best = i;
    });
    if (best < 0) throw new Error("LanguageModel.generate: every decoder is busy; hold a queue slot first");
    this.#running[best]++;
    try {
      const tokens = this.#decoders[best].generate(promptIds, {
        maxTokens: params.maxTokens,
        sampling: params.sampling,
        seed: params.seed,
        stopIds: this.#stopIds,
        signal: params.signal,
      });
      const decode = this.tokenizer.createStreamDecoder();
      return await generateText(tokens, decode, this.#endOfSequence, params.stop, onDelta);
    } finally {
      this.#running[best]--;
    }
  }

  /** Frees every decoder and the encoder (stops their workers). */
  async close(): Promise<void> {
    this.#encoder.close();
    await Promise.all(this.#decoders.map((d) => d.release()));
  }
}
