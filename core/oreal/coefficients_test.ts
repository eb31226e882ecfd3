import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { type PolicySample, tokenCoefficients } from "./coefficients.ts";
import { defaultMethodConfig, type Method, METHODS } from "./method.ts";

const f32 = (xs: number[]) => new Float32Array(xs);

function close(actual: Float32Array, expected: number[], tol = 1e-6) {
  assertEquals(actual.length, expected.length);
  actual.forEach((a, i) => assertAlmostEquals(a, expected[i], tol, `token ${i}`));
}

// One correct response (2 tokens) and one wrong response (3 tokens): N+ = 2, N- = 3, N = 5.
function pair(pos: Partial<PolicySample> = {}, neg: Partial<PolicySample> = {}): PolicySample[] {
  return [
    { correct: true, advantage: 2, logprobs: f32([-1, -0.5]), refLogprobs: f32([-1, -0.5]), ...pos },
    {
      correct: false,
      advantage: -1,
      logprobs: f32([-2, -1, -0.1]),
      refLogprobs: f32([-2, -1, -0.1]),
      ...neg,
    },
  ];
}

Deno.test("tokenCoefficients: oreal-no-rm by hand (omega = 1, ref = policy so KL = 0)", () => {
  const r = tokenCoefficients(pair(), defaultMethodConfig("oreal-no-rm"));
  // L+ = (f+/N+) A+ sum(-lp) = (1/2) * 2 * (1 + 0.5) = 1.5; g = -(1/2) * 2 = -1.
  assertAlmostEquals(r.parts.positive, 1.5, 1e-6);
  close(r.dLogp[0], [-1, -1]);
  // L- = -(f-/N-) A- sum(omega ratio) = -(0.5/3) * (-1) * 3 = 0.5; g = -(0.5/3) * (-1) = 1/6.
  assertAlmostEquals(r.parts.negative, 0.5, 1e-6);
  close(r.dLogp[1], [1 / 6, 1 / 6, 1 / 6]);
  assertEquals(r.parts.kl, 0);
  assertAlmostEquals(r.loss, 2, 1e-6);
});

Deno.test("tokenCoefficients: the KL term and posMultAdv = false", () => {
  // ref_0 - lp_0 = ln 2: k3 = e^ln2 - ln2 - 1 = 0.3068528; times beta/N = 0.01/5 -> 0.0006137056.
  // Its gradient (beta/N)(1 - e^ln2) = 0.002 * (1 - 2) = -0.002 is added to -1.
  const r = tokenCoefficients(
    pair({ refLogprobs: f32([-1 + Math.LN2, -0.5]) }),
    defaultMethodConfig("oreal-no-rm"),
  );
  assertAlmostEquals(r.parts.kl, 0.0006137056, 1e-8);
  close(r.dLogp[0], [-1.002, -1]);
  // posMultAdv false: L+ = (1/2) * 1 * 1.5 = 0.75, g = -0.5; the negative term is unchanged.
  const s = tokenCoefficients(pair(), { ...defaultMethodConfig("oreal-no-rm"), posMultAdv: false });
  assertAlmostEquals(s.parts.positive, 0.75, 1e-6);
  close(s.dLogp[0], [-0.5, -0.5]);
  assertAlmostEquals(s.parts.negative, 0.5, 1e-6);
});

Deno.test("tokenCoefficients: oreal with token RM weights by hand", () => {
  const r = tokenCoefficients(
    pair({ rmScores: f32([2, -2]) }, { rmScores: f32([-2, 0, 0]) }),
    defaultMethodConfig("oreal"),
  );
  // Positive: prefix means c = [2, 0] -> omega+ = [tanh(1), 0] = [0.7615942, 0].
  // L+ = (1/2) * 2 * (0.7615942 * 1 + 0 * 0.5) = 0.7615942; g = -(1/2) * 2 * omega+ = [-0.7615942, 0].
  assertAlmostEquals(r.parts.positive, 0.7615942, 1e-6);
  close(r.dLogp[0], [-0.7615942, 0]);
  // Negative: c = [-2, -1, -2/3] -> omega- = [tanh(1), tanh(0.5), tanh(1/3)] = [0.7615942, 0.4621172, 0.3215127].
  // L- = (0.5/3) * 1 * 1.5452241 = 0.2575374; g = (1/6) * omega- = [0.1269324, 0.0770195, 0.0535855].
  assertAlmostEquals(r.parts.negative, 0.2575374, 1e-6);
  close(r.dLogp[1], [0.1269324, 0.0770195, 0.0535855]);
  // Per-token mode for the wrong response: omega- = [tanh(1), 0, 0].
  const p = tokenCoefficients(
    pair({ rmScores: f32([2, -2]) }, { rmScores: f32([-2, 0, 0]) }),
    { ...defaultMethodConfig("oreal"), weightMode: "per-token" },
  );
  close(p.dLogp[1], [0.1269324, 0, 0]);
});

Deno.test("tokenCoefficients: grpo, reinforce and rft by hand", () => {
  // grpo, A = ±0.8660254, N = 5: positive = -(1/5) * 0.8660254 * 2 = -0.3464102, g = -0.1732051;
  // negative = -(1/5) * (-0.8660254) * 3 = 0.5196152, g = +0.1732051.
  const g = tokenCoefficients(
    pair({ advantage: 0.8660254 }, { advantage: -0.8660254 }),
    defaultMethodConfig("grpo"),
  );
  assertAlmostEquals(g.parts.positive, -0.3464102, 1e-6);
  assertAlmostEquals(g.parts.negative, 0.5196152, 1e-6);
  close(g.dLogp[0], [-0.1732051, -0.1732051]);
  close(g.dLogp[1], [0.1732051, 0.1732051, 0.1732051]);
  // reinforce, r = ±1: positive = -(1/5) * 2 = -0.4, negative = (1/5) * 3 = 0.6, g = ∓0.2.
  const r = tokenCoefficients(pair({ advantage: 1 }, { advantage: -1 }), defaultMethodConfig("reinforce"));
  assertAlmostEquals(r.parts.positive, -0.4, 1e-6);
  assertAlmostEquals(r.parts.negative, 0.6, 1e-6);
  close(r.dLogp[1], [0.2, 0.2, 0.2]);
  // rft, correct sample only: L = (1/N+) sum(-lp) = (1/2) * 1.5 = 0.75, g = -1/2; the advantage is ignored.
  const f = tokenCoefficients([pair()[0]], defaultMethodConfig("rft"));
  assertAlmostEquals(f.loss, 0.75, 1e-6);
  close(f.dLogp[0], [-0.5, -0.5]);
});

Deno.test("tokenCoefficients: dLogp matches finite differences of loss, every method", () => {
  const base: PolicySample[] = [
    {
      correct: true,
      advantage: 1.5,
      logprobs: f32([-0.7, -1.3, -0.2]),
      refLogprobs: f32([-0.9, -1.0, -0.4]),
    },
    { correct: false, advantage: -0.5, logprobs: f32([-2.1, -0.4]), refLogprobs: f32([-1.8, -0.6]) },
    { correct: true, advantage: 1.5, logprobs: f32([-0.05]), refLogprobs: f32([-0.3]) },
    {
      correct: false,
      advantage: -0.5,
      logprobs: f32([-3.0, -1.1, -0.6, -0.9]),
      refLogprobs: f32([-2, -1, -1, -1]),
    },
  ].map((s, i) => ({ ...s, rmScores: f32(Array.from(s.logprobs, (_, t) => Math.sin(3 * i + t))) }));
  const withOmega = base.map((s) => ({ ...s, omega: s.rmScores!.map((w) => 1 / (1 + Math.exp(-w))) }));
  for (const method of METHODS) {
    const samples = method === "oreal-oracle" ? withOmega : base;
    const batch = method === "rft" ? samples.filter((s) => s.correct) : samples;
    // Behaviour log-probs are held at the current values, as stop-gradient does.
    const fixed = batch.map((s) => ({ ...s, behaviourLogprobs: s.logprobs.slice() }));
    const config = { ...defaultMethodConfig(method as Method), klCoef: 0.3 };
    const { dLogp } = tokenCoefficients(fixed, config);
    fixed.forEach((s, i) => {
      for (let t = 0; t < s.logprobs.length; t++) {
        const shifted = (h: number) => {
          const lp = s.logprobs.slice();
          lp[t] += h;
          return {
            lp,
            loss: tokenCoefficients(fixed.map((x, j) => (j === i ? { ...x, logprobs: lp } : x)), config).loss,
          };
        };
        const p = shifted(1e-3);
        const m = shifted(-1e-3);
        const fd = (p.loss - m.loss) / (p.lp[t] - m.lp[t]);
        assertAlmostEquals(dLogp[i][t], fd, 1e-4, `${method} sample ${i} token ${t}`);
      }
    });
  }
});

Deno.test("tokenCoefficients: empty batch, zero-length responses, one-sided batches", () => {
  const e = tokenCoefficients([], defaultMethodConfig("oreal"));
  assertEquals([e.loss, e.dLogp.length], [0, 0]);
  const z = tokenCoefficients(
    [{ correct: true, advantage: 1, logprobs: f32([]), refLogprobs: f32([]), rmScores: f32([]) }],
    defaultMethodConfig("oreal"),
  );
  assertEquals([z.loss, z.dLogp[0].length], [0, 0]);
  // A zero-length response next to a normal one: it changes nothing.
  const withEmpty = tokenCoefficients(
    [...pair(), { correct: false, advantage: -1, logprobs: f32([]), refLogprobs: f32([]) }],
    defaultMethodConfig("oreal-no-rm"),
  );
  assertAlmostEquals(withEmpty.loss, 2, 1e-6);
  // Only correct responses: N- = 0 and the negative part is 0, not NaN.
  const onlyPos = tokenCoefficients([pair()[0]], defaultMethodConfig("oreal-no-rm"));
  assertEquals(onlyPos.parts.negative, 0);
  assertAlmostEquals(onlyPos.loss, 1.5, 1e-6);
});

Deno.test("tokenCoefficients: bad input throws naming the sample", () => {
  const cfg = defaultMethodConfig("oreal-no-rm");
  assertThrows(
    () => tokenCoefficients(pair({}, { logprobs: f32([-1, NaN, -1]) }), cfg),
    RangeError,
    "sample 1",
  );
  assertThrows(() => tokenCoefficients(pair({ refLogprobs: f32([-1]) }), cfg), RangeError, "sample 0");
  assertThrows(() => tokenCoefficients(pair({ advantage: NaN }), cfg), RangeError, "sample 0: advantage");
  assertThrows(
    () => tokenCoefficients(pair({}, { rmScores: f32([0, 0, 0]) }), defaultMethodConfig("oreal")),
    RangeError,
    "sample 0",
  );
  assertThrows(() => tokenCoefficients(pair(), defaultMethodConfig("rft")), RangeError, "sample 1");
  assertThrows(
    () => tokenCoefficients(pair({ behaviourLogprobs: f32([0, Infinity]) }), cfg),
    RangeError,
    "sample 0: behaviourLogprobs",
  );
  assertThrows(
    () => tokenCoefficients(pair(), { ...cfg, method: "ppo" as never }),
    RangeError,
    "unknown method",
  );
  assertThrows(() => tokenCoefficients(pair(), { ...cfg, klCoef: NaN }), RangeError, "klCoef");
});
