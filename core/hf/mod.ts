/**
 * Hugging Face folder formats that the trainer and the edge server both read. No I/O.
 *
 * ```ts
 * import { readDecoderShape } from "./mod.ts";
 * const shape = readDecoderShape({ num_hidden_layers: 2, num_attention_heads: 4, hidden_size: 64, vocab_size: 100 });
 * shape.headDim; // 16
 * ```
 *
 * @module
 */

export { type DecoderShape, DEFAULT_CONTEXT_LENGTH, readDecoderShape } from "./config.ts";
