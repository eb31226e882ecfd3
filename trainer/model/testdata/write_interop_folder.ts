/**
 * Writes a checkpoint folder with our writer (a random tiny model, the character tokenizer in byte-level form and
 * the "plain" chat template, or with a second argument the tokenizer of that model folder and the "qwen-math"
 * template) and `expected.json` (our token ids for sample texts, our logits, our rendered prompt, our EOS ids), for
 * check_transformers.py to compare against transformers 4 and 5. A development check: it needs Python.
 *
 *     deno run -A trainer/model/testdata/write_interop_folder.ts /tmp/interop [QWEN_DIR]
 *     python3 trainer/model/testdata/check_transformers.py /tmp/interop
 */

import { HELP_FLAG, parseFlags, UsageError, usageText } from "../../../core/cli/mod.ts";
import { CHAT_TEMPLATES, formatPrompt } from "../../../core/data/mod.ts";
import { createCharTokenizer, type FolderTokenizer } from "../../../core/tokenizer/mod.ts";
import { createCpuBackend } from "../../gpu/cpu/mod.ts";
import { loadFolderTokenizer, saveCheckpoint } from "../checkpoint.ts";
import { presetConfig } from "../config.ts";
import { createModel } from "../model.ts";

const USAGE = usageText(
  "usage: deno run -A trainer/model/testdata/write_interop_folder.ts DIR [QWEN_DIR]",
  HELP_FLAG,
  "DIR receives the checkpoint and expected.json; QWEN_DIR, when given, lends its tokenizer.",
);
function parseCommandLine(): string[] {
  try {
    const { values, positionals } = parseFlags(Deno.args, HELP_FLAG, { positionals: true });
    if (values.help) {
      console.log(USAGE);
      Deno.exit(0);
    }
    if (positionals.length < 1 || positionals.length > 2) {
      throw new UsageError("needs DIR and at most QWEN_DIR");
    }
    return positionals;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${USAGE}`);
    Deno.exit(2);
  }
}
const [dir, qwenDir] = parseCommandLine();
const source: FolderTokenizer = qwenDir
  ? await loadFolderTokenizer(qwenDir)
  : { tokenizer: createCharTokenizer(), chatTemplate: null, tokenizerConfig: {}, generationConfig: {} };
const tokenizer = source.tokenizer;
const template = qwenDir ? "qwen-math" : "plain";
const be = createCpuBackend();
const model = createModel(
  { ...presetConfig("bench", { vocabSize: tokenizer.vocabSize }), rope_theta: 1e6 },
  be,
  {
    seed: 3,
  },
);
await saveCheckpoint(dir, model, {
  tokenizer,
  chatTemplate: CHAT_TEMPLATES[template],
  tokenizerConfig: source.tokenizerConfig,
  generationConfig: source.generationConfig,
});
const texts = [
  "Q: What is 3/4 + 1/4?\nA: 3/4 + 1/4 = 4/4 = \\boxed{1}",
  "  two  spaces,\ttab\r\nCRLF and caf\u00e9 \u2615 e\u0301 <|im_start|>user\n<|im_end|><|endoftext|>",
  "x=(-b\u00b1\u221a(b^2-4ac))/2a; 12345 + 0.5e-3 {}[]|~`'\"",
];
const ids = Array.from(tokenizer.encode(texts[0]));
const T = ids.length;
const cache = model.createKvCache(1, T);
const logits = await be.download(
  model.lmLogits(model.forwardCached(cache, Int32Array.from(ids), T, new Int32Array(1)), T),
);
await Deno.writeTextFile(
  `${dir}/expected.json`,
  JSON.stringify({
    texts,
    ids: texts.map((t) => Array.from(tokenizer.encode(t))),
    decoded: texts.map((t) => tokenizer.decode(tokenizer.encode(t))),
    logits: Array.from(logits),
    prompt: formatPrompt({ prompt: "What is 1 + 2?" }, template),
    eos: [...tokenizer.stopIds],
  }),
);
console.log(`wrote ${dir}`);
