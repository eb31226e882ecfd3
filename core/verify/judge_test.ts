import { assert, assertEquals, assertThrows } from "@std/assert";
import { createJudge, judgeFromEnv, parseJudgeReply } from "./judge.ts";
import { verify } from "./verify.ts";

interface Seen {
  auth: string | null;
  body: { model: string; temperature: number; messages: { role: string; content: string }[] };
}

/** A scripted OpenAI-compatible judge over real HTTP: `reply(prompt)` gives the message, or a Response. */
function scriptedJudge(reply: (prompt: string) => string | Response | Promise<string | Response>) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/chat/completions") {
      return new Response("not found", { status: 404 });
    }
    const body = await req.json();
    seen.push({ auth: req.headers.get("authorization"), body });
    const out = await reply(body.messages[0].content);
    if (out instanceof Response) return out;
    return Response.json({ choices: [{ index: 0, message: { role: "assistant", content: out } }] });
  });
  const url = `http://127.0.0.1:${server.addr.port}/v1`;
  return { seen, url, close: () => server.shutdown() };
}

Deno.test("judge: only wrong or unparseable verdicts are sent; A makes them correct, B keeps them", async () => {
  const s = scriptedJudge((prompt) => (prompt.includes("Candidate answer:\nseven") ? "A" : "B"));
  try {
    const judge = createJudge({ url: s.url, model: "judge-1", apiKey: "k-123", timeoutMs: 5000 });
    const right = await verify("7", "so \\boxed{7}", { judge });
    assertEquals([right.correct, right.judged, s.seen.length], [true, undefined, 0]);

    const words = await verify("7", "The answer is \\boxed{seven}", { judge, question: "What is 3 + 4?" });
    assertEquals([words.correct, words.status, words.judged], [true, "correct", "correct"]);
    assertEquals(s.seen.length, 1);
    const sent = s.seen[0];
    assertEquals([sent.auth, sent.body.model, sent.body.temperature], ["Bearer k-123", "judge-1", 0]);
    const prompt = sent.body.messages[0].content;
    assert(prompt.includes("What is 3 + 4?") && prompt.includes("Reference answer:\n7"), prompt);

    const wrong = await verify("7", "so \\boxed{8}", { judge });
    assertEquals([wrong.correct, wrong.status, wrong.judged], [false, "wrong", "wrong"]);

    const truncated = await verify("7", "so \\boxed{seven", { judge, truncated: true });
    assertEquals([truncated.correct, truncated.judged, s.seen.length], [false, undefined, 2]);
  } finally {
    await s.close();
  }
});

Deno.test("judge: answers are cached; concurrent equal queries share one request", async () => {
  const s = scriptedJudge(() => "A");
  try {
    const judge = createJudge({ url: s.url, model: "m" });
    const all = await Promise.all([1, 2, 3].map(() => verify("2", "\\boxed{two}", { judge })));
    assert(all.every((v) => v.correct));
    await verify("2", "\\boxed{two}", { judge });
    assertEquals([s.seen.length, judge.requests], [1, 1]);
  } finally {
    await s.close();
  }
});

Deno.test("judge: a failing judge leaves the rule verdict (timeout, HTTP error, junk reply)", async () => {
  const cases: [string, () => string | Response | Promise<string>][] = [
    ["no reply within", () => new Promise((resolve) => setTimeout(() => resolve("A"), 400))],
    ["HTTP 500", () => new Response("boom", { status: 500 })],
    ["neither A nor B", () => "Maybe. It depends."],
    ["has no message", () => Response.json({ choices: [] })],
  ];
  for (const [why, reply] of cases) {
    const s = scriptedJudge(reply);
    try {
      const judge = createJudge({ url: `${s.url}/chat/completions`, model: "m", timeoutMs: 150 });
      const v = await verify("7", "so \\boxed{seven}", { judge });
      assertEquals([v.correct, v.status, v.judged], [false, "wrong", "failed"], why);
      assert(v.reason.includes(why), `${why}: ${v.reason}`);
      // A failure is not cached: the next call asks again.
      await verify("7", "so \\boxed{seven}", { judge });
      assertEquals(judge.requests, 2, why);
    } finally {
      await s.close();
    }
  }
});

Deno.test("judge: unreachable endpoint, reply parsing and configuration from the environment", async () => {
  const judge = createJudge({ url: "http://127.0.0.1:9/v1", model: "m", timeoutMs: 2000 });
  const v = await verify("7", "\\boxed{seven}", { judge });
  assertEquals([v.status, v.judged], ["wrong", "failed"]);
  assertEquals(["A", "**B**", "A.", "Answer: B", "(A)", "A or B", "yes"].map(parseJudgeReply), [
    "A",
    "B",
    "A",
    "B",
    "A",
    null,
    null,
  ]);
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(judgeFromEnv(env({})), null);
  assert(judgeFromEnv(env({ OREAL_JUDGE_URL: "http://x/v1", OREAL_JUDGE_MODEL: "m" })) !== null);
  assert(judgeFromEnv(env({ OREAL_JUDGE_MODEL: "m" }), { url: "http://x/v1" }) !== null);
  assertThrows(() => judgeFromEnv(env({ OREAL_JUDGE_URL: "http://x" })), RangeError, "OREAL_JUDGE_MODEL");
  assertThrows(() => createJudge({ url: "file:///etc", model: "m" }), RangeError, "http(s)");
});
