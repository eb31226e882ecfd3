/**
 * The tokenizer_config.json that goes beside a tokenizer.json, so that standard tools (transformers'
 * `AutoTokenizer` and `apply_chat_template`, our own loaders) know the special tokens and the chat template.
 *
 * @module
 */

import type { TokenizerConfig } from "./hf.ts";
import type { Tokenizer } from "./types.ts";

/** Options of {@linkcode tokenizerConfigFor}. */
export interface TokenizerConfigOptions {
  /** The chat template (Jinja) the model was trained with. */
  chatTemplate?: string;
  /** The longest input the model takes, in tokens. */
  modelMaxLength?: number;
  /** A tokenizer_config.json to start from (the source folder's), whose other fields are kept. */
  base?: TokenizerConfig;
}

interface AddedToken {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/**
 * A Hugging Face tokenizer_config.json object for `tokenizer`: its eos / pad / bos token strings (bos null when it
 * has none), the added tokens by id (`added_tokens_decoder`), the chat template, no space clean-up on decode and
 * no BOS/EOS added on encode (as {@linkcode Tokenizer.encode}). Unless `base` says otherwise, the model inputs
 * are `input_ids` and `attention_mask`, the unknown token the tokenizer.json's, and `tokenizer_class` is
 * PreTrainedTokenizerFast (transformers 4 then runs tokenizer.json as it is; transformers 5 uses its Qwen2
 * tokenizer for any `qwen2` model, which is why our tokenizer.json is in byte-level form).
 */
export function tokenizerConfigFor(
  tokenizer: Tokenizer,
  options: TokenizerConfigOptions = {},
): TokenizerConfig {
  const name = (id: number) => tokenizer.decode([id]);
  const json = tokenizer.toJSON() as { added_tokens?: AddedToken[]; model?: { unk_token?: unknown } };
  const decoder: Record<string, Omit<AddedToken, "id">> = {};
  for (const { id, ...token } of json.added_tokens ?? []) decoder[String(id)] = token;
  const config: TokenizerConfig = {
    tokenizer_class: "PreTrainedTokenizerFast",
    unk_token: typeof json.model?.unk_token === "string" ? json.model.unk_token : null,
    // A decoder takes no token_type_ids (PreTrainedTokenizerFast would return them, and generate() refuses them).
    model_input_names: ["input_ids", "attention_mask"],
    ...options.base,
    added_tokens_decoder: decoder,
    eos_token: name(tokenizer.eosId),
    pad_token: name(tokenizer.padId),
    bos_token: tokenizer.bosId === null ? null : name(tokenizer.bosId),
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
  };
  if (options.modelMaxLength !== undefined) config.model_max_length = options.modelMaxLength;
  if (options.chatTemplate !== undefined) config.chat_template = options.chatTemplate;
  return config;
}
