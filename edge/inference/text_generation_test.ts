import { assertEquals } from "@std/assert";
import { StopTokens } from "../../core/sampling/mod.ts";
import { generateText, type StreamDecoder } from "./text_generation.ts";

const EOS = 0;
/** Token id i > 0 is the character at i - 1 of the alphabet. */
const ALPHABET = "abcdefghij<|>";
const id = (ch: string) => ALPHABET.indexOf(ch) + 1;

function decoder(): StreamDecoder {
  return { push: (i) => ALPHABET[i - 1], flush: () => "" };
}

async function* tokens(text: string, eos = false): AsyncGenerator<number> {
  for (const ch of text) yield id(ch);
  if (eos) yield EOS;
}

async function run(text: string, stops: string[], eos = false) {
  const deltas: string[] = [];
  const result = await generateText(tokens(text, eos), decoder(), new StopTokens([EOS]), stops, (d) => {
    deltas.push(d);
  });
  return { ...result, deltas };
}

Deno.test("generateText: without stops every token's text is sent at once; the end is 'length'", async () => {
  const r = await run("abc", []);
  assertEquals(r, { text: "abc", finishReason: "length", completionTokens: 3, deltas: ["a", "b", "c"] });
});

Deno.test("generateText: an end-of-sequence token ends with 'stop' and is counted but not shown", async () => {
  const r = await run("ab", [], true);
  assertEquals(r, { text: "ab", finishReason: "stop", completionTokens: 3, deltas: ["a", "b"] });
});

Deno.test("generateText: a stop string cuts the text, and its prefix is held back until resolved", async () => {
  const r = await run("abc<|>def", ["<|>"]);
  assertEquals(r.text, "abc");
  assertEquals(r.finishReason, "stop");
  assertEquals(r.completionTokens, 6); // nothing is sampled after the stop string completes
  assertEquals(r.deltas, ["a", "b", "c"]);
  const partial = await run("ab<|c", ["<|>"]);
  assertEquals(partial.text, "ab<|c");
  assertEquals(partial.deltas, ["a", "b", "<|c"]); // "<" and "<|" waited until "c" proved them no stop
  assertEquals(partial.deltas.join(""), partial.text);
});

Deno.test("generateText: the earliest of several stop strings wins, and held text is sent at the end", async () => {
  const r = await run("abcdef", ["de", "cd"]);
  assertEquals(r.text, "ab");
  const tail = await run("abc", ["cd"]);
  assertEquals(tail, { text: "abc", finishReason: "length", completionTokens: 3, deltas: ["a", "b", "c"] });
});
