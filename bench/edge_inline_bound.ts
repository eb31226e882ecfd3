/**
 * How long can `core/verify` take on a small item? `deno task serve` verifies items of at most
 * `INLINE_MAX_CHARS` characters (gold plus response) on the server's thread, so this bound is what one
 * request can hold the event loop for. This script searches for slow small items: random soups of the
 * verifier's hardest tokens (nested fractions and roots, towers of powers, factorials, sets, intervals,
 * answer cues, long digit runs), the slowest forms we know, and the pathological bodies of
 * `edge_servers.ts` cut to size. Every input is timed once; the slowest are timed again several times and
 * their fastest run is kept (a shared machine's other load only ever adds time). It prints the slowest
 * items and the bound.
 *
 *   deno run -A bench/edge_inline_bound.ts [--chars 1024] [--samples 20000] [--seed 1]
 *
 * @module
 */

import { verify } from "../core/verify/mod.ts";
import { INLINE_MAX_CHARS } from "../edge/verify_pool/inline.ts";
import { pathologicalBodies } from "./edge_servers.ts";
import { benchFlags } from "./flags.ts";

const TOKENS = [
  "0",
  "1",
  "7",
  "9",
  "12",
  "999999999999",
  "3.14159",
  "1e308",
  "-",
  "+",
  "*",
  "/",
  "^",
  "!",
  "=",
  ",",
  ".",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  "\\{",
  "\\}",
  "x",
  "y",
  "n",
  "e",
  "i",
  "\\pi",
  "\\infty",
  "\\frac{",
  "\\dfrac{",
  "\\sqrt{",
  "\\sqrt[3]{",
  "^{",
  "_{",
  "\\sin",
  "\\cos",
  "\\tan",
  "\\log",
  "\\ln",
  "\\cup",
  "\\cap",
  "\\pm",
  "\\cdot",
  "\\times",
  "\\div",
  "\\le",
  "\\ge",
  "\\ne",
  "\\in",
  "\\left(",
  "\\right)",
  "\\text{",
  "\\mathrm{",
  "\\boxed{",
  "$",
  "$$",
  "\\(",
  "\\)",
  "\\[",
  "\\]",
  " ",
  "  ",
  "\n",
  "The answer is",
  "answer:",
  "%",
  "^\\circ",
  "\\%",
  "9^9^9",
  "10^{4000}",
  "(x+1)^{60}",
  "!!!!",
  "\\binom{",
  "\\sum",
  "\\int",
  ":",
  ";",
  "\\\\",
  "&",
];

/** The slowest forms we know of, as `[gold, response]`. */
const HARD: [string, string][] = [
  ["(x+1)^{12}", "\\boxed{(x+1)^{11}(x+1)}"],
  ["2^{2^{2^{2^{2}}}}", "\\boxed{2^{65536}}"],
  ["4096^{4096}", "\\boxed{4095^{4095}}"],
  ["100!", "\\boxed{99!\\cdot 100}"],
  ["\\frac{1}{\\frac{1}{\\frac{1}{\\frac{1}{\\frac{1}{2}}}}}", "\\boxed{2}"],
  ["\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{2}}}}}", "\\boxed{2^{1/32}}"],
  ["[1, 2] \\cup [3, 4] \\cup [5, 6] \\cup [7, 8]", "\\boxed{[7,8]\\cup[5,6]\\cup[3,4]\\cup[1,2]}"],
  ["\\sin(x)^2 + \\cos(x)^2", "\\boxed{1}"],
  ["x^{60} - 1", "\\boxed{(x^{30}-1)(x^{30}+1)}"],
];

/** A deterministic pseudo-random stream (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function soup(next: () => number, chars: number): string {
  let out = "";
  for (;;) {
    const token = TOKENS[Math.floor(next() * TOKENS.length)];
    if (out.length + token.length > chars) return out;
    out += token;
  }
}

/** A random well-formed expression of about `size` characters, so that parsing and comparing run deep. */
function expression(next: () => number, size: number): string {
  if (size < 4) return ["x", "y", "2", "17", "\\pi"][Math.floor(next() * 5)];
  const half = Math.floor(size / 2) - 4;
  const a = () => expression(next, half);
  switch (Math.floor(next() * 8)) {
    case 0:
      return `\\frac{${a()}}{${a()}}`;
    case 1:
      return `\\sqrt{${a()}}`;
    case 2:
      return `(${a()})^{${Math.floor(next() * 12)}}`;
    case 3:
      return `${a()}\\cdot ${a()}`;
    case 4:
      return `\\sin(${a()})`;
    case 5:
      return `(${a()}, ${a()})`;
    case 6:
      return `${a()}-${a()}`;
    default:
      return `${a()}+${a()}`;
  }
}

/** Inputs of at most `chars` characters in all. */
function* inputs(chars: number, samples: number, seed: number): Generator<[string, string]> {
  for (const [gold, response] of HARD) if (gold.length + response.length <= chars) yield [gold, response];
  for (const body of pathologicalBodies(chars + 40)) {
    const { gold, response } = JSON.parse(body);
    yield [gold, response.slice(0, chars - gold.length)];
  }
  const next = random(seed);
  for (let i = 0; i < samples / 4; i++) {
    const gold = expression(next, 8 + Math.floor(next() * 56));
    const response = `\\boxed{${expression(next, Math.floor(next() * (chars - gold.length - 8)))}}`;
    if (gold.length + response.length <= chars) yield [gold, response];
    if (2 * gold.length + 8 <= chars) yield [gold, `\\boxed{${gold}}`];
  }
  for (let i = 0; i < samples; i++) {
    const goldChars = 1 + Math.floor(next() * Math.min(64, chars / 4));
    const gold = soup(next, goldChars);
    const body = soup(next, chars - gold.length - 8);
    // Half the responses box their soup, so that it is parsed and compared, not only scanned.
    yield [gold, next() < 0.5 ? `\\boxed{${body}}` : body];
  }
}

/** The fastest of `runs` timings of one verification, in milliseconds. */
function timeOne(gold: string, response: string, runs = 1): number {
  let best = Infinity;
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    verify(gold, response, { timeoutMs: 60_000 });
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

if (import.meta.main) {
  const { values } = benchFlags("Run: deno run -A bench/edge_inline_bound.ts [flags]", {
    chars: { type: "string", arg: "N", help: `gold + response length (default ${INLINE_MAX_CHARS})` },
    samples: { type: "string", arg: "N", help: "random inputs (default 20000)" },
    seed: { type: "string", arg: "N", help: "random seed (default 1)" },
  });
  const chars = Number(values.chars ?? INLINE_MAX_CHARS);
  const samples = Number(values.samples ?? 20_000);
  const seed = Number(values.seed ?? 1);
  for (const [gold, response] of HARD) timeOne(gold, response); // warm up: JIT, caches
  const timed: { ms: number; gold: string; response: string }[] = [];
  for (const [gold, response] of inputs(chars, samples, seed)) {
    timed.push({ ms: timeOne(gold, response, 2), gold, response });
  }
  timed.sort((a, b) => b.ms - a.ms);
  const slowest = timed.slice(0, 20).map((t) => ({
    ...t,
    ms: Math.min(t.ms, timeOne(t.gold, t.response, 5)),
  }))
    .sort((a, b) => b.ms - a.ms);
  const all = timed.map((t) => t.ms).sort((a, b) => a - b);
  console.log(
    `${timed.length} items of at most ${chars} characters (fastest of 2 runs each): median ${
      all[all.length >> 1].toFixed(3)
    } ms, ` +
      `p99 ${all[Math.floor(all.length * 0.99)].toFixed(3)} ms; slowest (fastest of 7 runs each):`,
  );
  for (const t of slowest.slice(0, 8)) {
    console.log(
      `  ${t.ms.toFixed(3)} ms  gold ${JSON.stringify(t.gold)}  response ${
        JSON.stringify(t.response.slice(0, 100))
      }`,
    );
  }
  console.log(
    `bound: ${slowest[0].ms.toFixed(3)} ms (${Deno.loadavg?.().map((x) => x.toFixed(1)).join(" ")} load)`,
  );
}
