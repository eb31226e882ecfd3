import { assert, assertEquals } from "@std/assert";
import { createRng } from "../random/mod.ts";
import { verify } from "./mod.ts";
import type { VerifyOptions } from "./types.ts";

const ok = (gold: string, response: string, options?: VerifyOptions) =>
  verify(gold, response, options).correct;

Deno.test("verify: verdict shape and statuses", () => {
  assertEquals(verify("42", "so \\boxed{42}"), {
    correct: true,
    status: "correct",
    extracted: "42",
    reason: "equal numbers",
  });
  const wrong = verify("42", "so \\boxed{41}");
  assertEquals([wrong.correct, wrong.status, wrong.extracted], [false, "wrong", "41"]);
  assertEquals(verify("42", "I have no idea.").status, "no_answer");
  assertEquals(verify("42", "\\boxed{(1]}").status, "unparseable");
  assertEquals(verify("", "\\boxed{1}").status, "unparseable");
});

Deno.test("verify: truncated responses are wrong whatever they say", () => {
  const v = verify("42", "\\boxed{42}", { truncated: true });
  assertEquals([v.correct, v.status], [false, "wrong"]);
  assert(v.reason.includes("truncated"));
});

Deno.test("verify: the time budget gives status timeout", () => {
  const big = Array.from({ length: 60 }, (_, k) => `${k + 1}x^{${k % 5}}`).join("+");
  const v = verify(big, `\\boxed{${big}+1}`, { timeoutMs: 0 });
  assertEquals(v.status, "timeout");
  assertEquals(v.correct, false);
});

Deno.test("verify: hostile input never throws and never blows up", () => {
  assertEquals(verify("1", "\\boxed{10^{10^{10}}}").correct, false);
  assertEquals(verify("10^{10^{10}}", "\\boxed{10^{10^{11}}}").correct, false);
  assertEquals(verify("1", `\\boxed{${"(".repeat(5000)}1${")".repeat(5000)}}`).status, "unparseable");
  assertEquals(verify("1", "\\boxed{" + "x+".repeat(3000) + "1}").status, "unparseable");
  assertEquals(verify("1", "\\boxed{2^{3^{4^{5^{6}}}}}").correct, false);
  assertEquals(verify("1", "\\boxed{1000000!}").correct, false);
  // deno-lint-ignore no-explicit-any
  assertEquals(verify(null as any, undefined as any).status, "unparseable");
  const t0 = performance.now();
  for (
    const evil of [
      "\\boxed{".repeat(30_000),
      "final answer is ".repeat(12_000),
      "\\[".repeat(50_000),
      "$2 ".repeat(60_000),
    ]
  ) {
    assert(["no_answer", "unparseable", "wrong"].includes(verify("1", evil).status));
  }
  assert(performance.now() - t0 < 5000, "pathological responses must stay fast");
  const long = "a".repeat(1_000_000) + " so \\boxed{7}";
  assertEquals(verify("7", long).correct, true);
  const rng = createRng(7);
  const alphabet =
    "0123456789+-*/^_{}()[]\\|$,.=<>!%&xyzabc \\frac\\sqrt\\boxed\\begin{pmatrix}\\end\\left\\right";
  for (let k = 0; k < 300; k++) {
    let s = "";
    for (let j = 0; j < 40; j++) s += alphabet[rng.nextInt(alphabet.length)];
    const v = verify(s.slice(0, 20), s);
    assert(["correct", "wrong", "no_answer", "unparseable", "timeout"].includes(v.status));
  }
});

Deno.test("verify: numbers, formats and units (with false cases)", () => {
  assert(ok("1/2", "\\boxed{0.5}"));
  assert(ok("14916", "\\boxed{14{,}916}"));
  assert(ok("11111111100", "\\boxed{11,\\! 111,\\! 111,\\! 100}"));
  assert(!ok("32349", "\\boxed{32, 349}"));
  assert(ok("\\boxed{+033}", "33"));
  assert(ok("\\boxed{-0}", "0"));
  assert(ok("$125$ miles", "The distance is $\\boxed{125\\textnormal{ miles}}.$"));
  assert(!ok("10", "\\boxed{10cm}"));
  assert(ok("4\\frac{1}{2}", "\\boxed{4.5}"));
  assert(ok("40/9", "The answer is 4 4/9."));
  assert(!ok("12", "11 6/6"));
  assert(ok("2.314814814815 \\times 10^{-3}", "\\boxed{\\frac{1}{432}}"));
  assert(!ok("1", "The answer is $1/3.$"));
  assert(!ok("2", "$2^{10}.$"));
  assert(ok("\\text{Evelyn}", "\\boxed{\\text{Evelyn}}"));
  assert(ok("5", "\\boxed{\\text{5}}"));
});

Deno.test("verify: a verifier that says correct too easily gets hacked: these are all wrong", () => {
  for (
    const bad of [
      "\\boxed{x}",
      "\\boxed{1, 2, 3, 4, 5, 6, 7, 8, 9}",
      "\\boxed{5} or \\boxed{6}",
      "\\boxed{\\pm 5}",
      "\\boxed{5 + 0.001}",
      "\\boxed{\\infty}",
      "\\boxed{0/0}",
      "\\boxed{}",
      "\\boxed{5, \\dots}",
      "\\boxed{[5, 5]}",
      "\\boxed{x \\ge 5}",
    ]
  ) {
    assertEquals(verify("5", bad).correct, false, bad);
  }
  assert(!ok("x^2+1", "\\boxed{x^2+1.0001}"));
  assert(!ok("(1, 2)", "\\boxed{(2, 1)}"));
  assert(!ok("\\{1, 2\\}", "\\boxed{\\{1, 2, 3\\}}"));
  assert(!ok("\\frac{\\pi}{2}", "\\boxed{1.57}"));
});

Deno.test("verify: options map onto tolerance and relation handling; results repeat", () => {
  assert(!ok("\\frac{1}{3}", "\\boxed{0.333}"));
  assert(ok("\\frac{1}{3}", "\\boxed{0.333}", { decimalPlaces: 3 }));
  assert(ok("100", "\\boxed{100.5}", { relTol: 0.01 }));
  assert(!ok("(1,2)", "\\boxed{1 < x < 2}"));
  assert(ok("(1,2)", "\\boxed{1 < x < 2}", { relationAsSet: true }));
  const a = verify("(x+1)^2", "\\boxed{x^2+2x+1}", { seed: 3 });
  assertEquals(verify("(x+1)^2", "\\boxed{x^2+2x+1}", { seed: 3 }), a);
});
