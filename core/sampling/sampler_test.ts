import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { createRng, type Rng } from "../random/mod.ts";
import {
  argmax,
  logSoftmax,
  resolveSamplingParams,
  sampleToken,
  type SamplingParams,
  TokenSampler,
} from "./sampler.ts";

/** Reference: the exact truncated, renormalised distribution, by a full sort (test oracle). */
function referenceDistribution(logits: number[], p: SamplingParams): { order: number[]; probs: number[] } {
  const { temperature, topP = 1, topK = 0 } = p;
  let order = logits.map((_, i) => i).filter((i) => logits[i] > -Infinity);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  if (topK > 0) order = order.slice(0, topK);
  const max = logits[order[0]];
  let w = order.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = w.reduce((s, x) => s + x, 0);
  let cum = 0;
  let keep = w.length;
  for (let j = 0; j < w.length; j++) {
    cum += w[j];
    if (cum >= topP * total) {
      keep = j + 1;
      break;
    }
  }
  order = order.slice(0, keep);
  w = w.slice(0, keep);
  const kept = w.reduce((s, x) => s + x, 0);
  return { order, probs: w.map((x) => x / kept) };
}

/** Reference draws with the same single uniform per token as the sampler under test. */
function referenceDrawer(logits: number[], p: SamplingParams): (rng: Rng) => number {
  let { order } = referenceDistribution(logits, p);
  // Without top-k and top-p, the sampler walks the tokens in id order (no sort needed).
  if (!p.topK && (p.topP ?? 1) === 1) order = [...order].sort((a, b) => a - b);
  const max = Math.max(...order.map((i) => logits[i]));
  const w = order.map((i) => Math.exp((logits[i] - max) * (1 / p.temperature)));
  const total = w.reduce((s, x) => s + x, 0);
  return (rng) => {
    let u = rng.next() * total;
    for (let j = 0; j < order.length - 1; j++) {
      u -= w[j];
      if (u < 0) return order[j];
    }
    return order[order.length - 1];
  };
}

/** Pearson's chi-square of observed counts against expected probabilities (over the expected support). */
function chiSquare(counts: Map<number, number>, order: number[], probs: number[], n: number): number {
  let chi = 0;
  for (let j = 0; j < order.length; j++) {
    const e = probs[j] * n;
    const o = counts.get(order[j]) ?? 0;
    chi += (o - e) ** 2 / e;
  }
  // Any draw outside the expected support makes the statistic infinite.
  for (const id of counts.keys()) if (!order.includes(id)) return Infinity;
  return chi;
}

const TABLE = [1.2, -0.3, 2.5, 0.9, -Infinity, 2.1, 0.0, -1.7, 1.9, 0.4, -Infinity, 1.1];

// Chi-square with at most 9 degrees of freedom exceeds 45 with probability about 1e-6. A correct sampler passes
// with a fixed seed; the wrong distributions below score over five times that.
const CHI_LIMIT = 45;
const DRAWS = 40_000;

function drawCounts(p: SamplingParams, seed: number): Map<number, number> {
  const sampler = new TokenSampler(TABLE.length, p);
  const logits = Float32Array.from(TABLE);
  const rng = createRng(seed);
  const counts = new Map<number, number>();
  for (let i = 0; i < DRAWS; i++) {
    const id = sampler.sample(logits, rng);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const CASES: { name: string; params: SamplingParams; wrong: SamplingParams[] }[] = [
  {
    name: "temperature only",
    params: { temperature: 0.8 },
    wrong: [{ temperature: 1 }, { temperature: 0.8, topK: 8 }],
  },
  {
    name: "top-k",
    params: { temperature: 1, topK: 4 },
    wrong: [{ temperature: 1, topK: 5 }, { temperature: 1.3, topK: 4 }],
  },
  {
    name: "top-p",
    params: { temperature: 0.9, topP: 0.8 },
    wrong: [{ temperature: 0.9, topP: 0.9 }, { temperature: 0.9, topP: 0.7 }, { temperature: 0.9 }],
  },
  {
    name: "top-k then top-p",
    params: { temperature: 1.5, topK: 6, topP: 0.85 },
    wrong: [{ temperature: 1.5, topP: 0.85 }, { temperature: 1.5, topK: 6 }, {
      temperature: 1,
      topK: 6,
      topP: 0.85,
    }],
  },
];

for (const c of CASES) {
  Deno.test(`sampling distribution matches the exact one (chi-square): ${c.name}`, () => {
    const counts = drawCounts(c.params, 1234);
    const ref = referenceDistribution(TABLE, c.params);
    assert(ref.order.length >= 3 && ref.order.length <= 10, "the case must leave a few tokens");
    const chi = chiSquare(counts, ref.order, ref.probs, DRAWS);
    assert(chi < CHI_LIMIT, `chi-square ${chi.toFixed(2)} >= ${CHI_LIMIT}`);
    // The test has power: the same draws are rejected against nearby wrong distributions.
    for (const w of c.wrong) {
      const bad = referenceDistribution(TABLE, w);
      const chiBad = chiSquare(counts, bad.order, bad.probs, DRAWS);
      assert(chiBad > 5 * CHI_LIMIT, `wrong ${JSON.stringify(w)} not rejected: ${chiBad}`);
    }
  });
}

Deno.test("large vocabulary: draws equal the full-sort reference draw for draw", () => {
  const v = 3000;
  const gen = createRng(5);
  const table = Array.from({ length: v }, (_, i) => (i % 97 === 0 ? -Infinity : 1.5 * gen.nextNormal()));
  const logits = Float32Array.from(table);
  const asF32 = Array.from(logits); // the reference sees the same float32-rounded values
  for (
    const p of [
      { temperature: 1, topP: 0.9 },
      { temperature: 2, topP: 0.999 },
      { temperature: 0.7, topK: 50, topP: 0.95 },
      { temperature: 1.2, topK: 200 },
      { temperature: 1 },
    ]
  ) {
    const sampler = new TokenSampler(v, p);
    const reference = referenceDrawer(asF32, p);
    const a = createRng(99), b = createRng(99);
    for (let i = 0; i < 500; i++) {
      assertEquals(sampler.sample(logits, a), reference(b), `${JSON.stringify(p)} draw ${i}`);
    }
  }
});

Deno.test("sampling reads a row at an offset and is reproducible for a seed", () => {
  const rows = new Float32Array(3 * TABLE.length).fill(-5);
  rows.set(TABLE, TABLE.length);
  const p = { temperature: 1, topP: 0.9 };
  const s = new TokenSampler(TABLE.length, p);
  const r1 = createRng(3), r2 = createRng(3);
  const direct = new TokenSampler(TABLE.length, p);
  const t = Float32Array.from(TABLE);
  for (let i = 0; i < 200; i++) assertEquals(s.sample(rows, r1, TABLE.length), direct.sample(t, r2));
  assertEquals(sampleToken(t, p, createRng(8)), sampleToken(t, p, createRng(8)));
});

Deno.test("temperature 0 is argmax, lowest id on ties, and consumes no randomness", () => {
  const rng = createRng(1);
  const before = rng.state();
  assertEquals(sampleToken(Float32Array.from([1, 3, 3, -Infinity]), { temperature: 0 }, rng), 1);
  assertEquals(rng.state(), before);
  assertEquals(argmax([-Infinity, -Infinity, -2]), 2);
  assertEquals(argmax([0, 5, 1, 9], 1, 2), 0);
});

Deno.test("-Infinity logits are never drawn; all -Infinity, NaN and +Infinity throw", () => {
  const logits = Float32Array.from([-Infinity, 0, -Infinity, 0.5, -Infinity]);
  const rng = createRng(2);
  const s = new TokenSampler(5, { temperature: 50 });
  for (let i = 0; i < 2000; i++) {
    const id = s.sample(logits, rng);
    assert(id === 1 || id === 3, `drew masked token ${id}`);
  }
  assertThrows(() => s.sample(new Float32Array(5).fill(-Infinity), rng), RangeError, "every logit");
  assertThrows(() => s.sample(Float32Array.from([0, NaN, 0, 0, 0]), rng), RangeError, "NaN");
  assertThrows(() => s.sample(Float32Array.from([0, Infinity, 0, 0, 0]), rng), RangeError, "Infinity");
  assertThrows(() => s.sample(new Float32Array(4), rng), RangeError, "outside");
});

Deno.test("a single remaining token is always chosen; top-k 1 is greedy", () => {
  const rng = createRng(4);
  const t = Float32Array.from(TABLE);
  for (let i = 0; i < 100; i++) {
    assertEquals(sampleToken(t, { temperature: 1, topK: 1 }, rng), 2);
    assertEquals(sampleToken(t, { temperature: 1, topP: 1e-6 }, rng), 2);
  }
});

Deno.test("resolveSamplingParams fills defaults and rejects bad values", () => {
  assertEquals(resolveSamplingParams({ temperature: 0.5 }), { temperature: 0.5, topP: 1, topK: 0 });
  assertThrows(() => resolveSamplingParams({ temperature: -1 }), RangeError, "temperature");
  assertThrows(() => resolveSamplingParams({ temperature: NaN }), RangeError, "temperature");
  assertThrows(() => resolveSamplingParams({ temperature: 1, topP: 0 }), RangeError, "topP");
  assertThrows(() => resolveSamplingParams({ temperature: 1, topP: 1.5 }), RangeError, "topP");
  assertThrows(() => resolveSamplingParams({ temperature: 1, topK: 2.5 }), RangeError, "topK");
  assertThrows(() => new TokenSampler(0, { temperature: 1 }), RangeError, "vocabSize");
});

Deno.test("logSoftmax: exp sums to 1, matches the definition, keeps -Infinity, no NaN", () => {
  const x = [3, -1, -Infinity, 0.5, 1000];
  const out = logSoftmax(x);
  let sum = 0;
  for (const v of out) {
    assert(!Number.isNaN(v));
    sum += Math.exp(v);
  }
  assertAlmostEquals(sum, 1, 1e-6);
  assertEquals(out[2], -Infinity);
  assertAlmostEquals(out[4], 0, 1e-6);
  const y = [0.1, 0.2, 0.3];
  const z = Math.log(y.reduce((s, v) => s + Math.exp(v), 0));
  const ly = logSoftmax(Float32Array.from([9, 9, ...y]), new Float32Array(3), 2, 3);
  for (let i = 0; i < 3; i++) assertAlmostEquals(ly[i], y[i] - z, 1e-6);
  assertThrows(() => logSoftmax([1, 2], new Float32Array(1)), RangeError, "out");
});

Deno.test("many tied logits: the best-first order (lower id first on ties) equals the reference draw for draw", () => {
  const v = 1500;
  const gen = createRng(8);
  // Few distinct values, so runs and merges meet ties at every level.
  const logits = Float32Array.from({ length: v }, () => Math.round(2 * gen.nextNormal()) / 2);
  const asF32 = Array.from(logits);
  for (const p of [{ temperature: 1, topP: 0.9 }, { temperature: 0.8, topK: 300, topP: 0.97 }]) {
    const sampler = new TokenSampler(v, p);
    const reference = referenceDrawer(asF32, p);
    const a = createRng(3), b = createRng(3);
    for (let i = 0; i < 300; i++) {
      assertEquals(sampler.sample(logits, a), reference(b), `${JSON.stringify(p)} draw ${i}`);
    }
  }
});
