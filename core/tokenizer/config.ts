/**
 * The tokenizer_config.json that goes beside a tokenizer.json, so that standard tools (transformers'
 * `AutoTokenizer`, our own `tokenizerFromJson`) know the special tokens.
 *
 * @module
 */

import type { TokenizerConfig } from "./hf.ts";
import type { Tokenizer } from "./types.ts";

/**
 * A Hugging Face tokenizer_config.json object for `tokenizer`: `tokenizer_class` PreTrainedTokenizerFast, its
 * eos / pad / bos token strings (bos null when it has none), no space clean-up on decode, and no BOS/EOS added on
 * encode (as {@linkcode Tokenizer.encode}).
 */
export function tokenizerConfigFor(tokenizer: Tokenizer): TokenizerConfig {
  const name = (id: number) => tokenizer.decode([id]);
  return {
    tokenizer_class: "PreTrainedTokenizerFast",
    eos_token: name(tokenizer.eosId),
    pad_token: name(tokenizer.padId),
    bos_token: tokenizer.bosId === null ? null : name(tokenizer.bosId),
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
  };
}
