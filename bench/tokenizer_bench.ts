/**
 * Tokenizer encode throughput: `deno bench bench/tokenizer_bench.ts`. Each iteration encodes the same ~1 MB of
 * generated problem text (prompt + solution), document by document, so MB/s = size / (time per iteration); the size is printed once.
 * The byte-level BPE is a small Qwen2.5-style tokenizer.json (core/tokenizer/testing.ts: 256 byte tokens + a few hundred merges
 * learned greedily from the text), run through @huggingface/tokenizers.
 */
import { formatPrompt, generateProblems } from "../core/data/mod.ts";
import { createCharTokenizer, tokenizerFromJson } from "../core/tokenizer/mod.ts";
import { byteLevelBpeJson, bytesToUnicode } from "../core/tokenizer/testing.ts";

const problems = generateProblems({ seed: 1, count: 12_000, split: "train" });
const docs = problems.map((p) => formatPrompt(p, "plain") + p.solution);
const megabytes = new TextEncoder().encode(docs.join("")).length / 1e6;
console.log(`tokenizer_bench: ${megabytes.toFixed(2)} MB of text per iteration, ${docs.length} documents`);

/** A byte-level BPE tokenizer.json whose merges are the most frequent adjacent pairs of a text sample. */
function byteLevelBpe(sample: string, merges: number) {
  const byte = bytesToUnicode();
  const words = sample.match(/ ?[A-Za-z]+| ?\d| ?[^\sA-Za-z\d]+|\s+/g) ?? [];
  let seqs = words.map((w) => Array.from(new TextEncoder().encode(w), (b) => byte[b]));
  const mergeList: [string, string][] = [];
  for (let m = 0; m < merges; m++) {
    const counts = new Map<string, number>();
    for (const s of seqs) {
      for (let i = 0; i + 1 < s.length; i++) {
        counts.set(s[i] + "\u0000" + s[i + 1], (counts.get(s[i] + "\u0000" + s[i + 1]) ?? 0) + 1);
      }
    }
    let best = "";
    let bestCount = 1;
    for (const [k, c] of counts) if (c > bestCount) [best, bestCount] = [k, c];
    if (best === "") break;
    const [a, b] = best.split("\u0000");
    mergeList.push([a, b]);
    seqs = seqs.map((s) => {
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]);
      }
      return out;
    });
  }
  return byteLevelBpeJson({ merges: mergeList, specials: ["<|endoftext|>"] });
}

const char = createCharTokenizer();
const bpe = tokenizerFromJson(byteLevelBpe(docs.slice(0, 500).join("\n"), 300));

const charIds = docs.map((d) => char.encode(d));

Deno.bench(`char tokenizer encode (${megabytes.toFixed(2)} MB)`, { group: "encode" }, () => {
  for (const d of docs) char.encode(d);
});

Deno.bench(`byte-level BPE (@huggingface/tokenizers) encode (${megabytes.toFixed(2)} MB)`, {
  group: "encode",
}, () => {
  for (const d of docs) bpe.encode(d);
});

Deno.bench(`char tokenizer decode (${megabytes.toFixed(2)} MB)`, { group: "decode" }, () => {
  for (const ids of charIds) char.decode(ids);
});
