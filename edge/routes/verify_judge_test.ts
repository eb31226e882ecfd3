import { assertEquals } from "@std/assert";
import { createJudge, verify } from "../../core/verify/mod.ts";
import { createApp } from "../app.ts";

Deno.test("/v1/verify with a judge: only wrong verdicts are asked about, over real HTTP on both sides", async () => {
  let asked = 0;
  const judgeServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    asked++;
    const content = body.messages[0].content.includes("Candidate answer:\nseven") ? "A" : "B";
    return Response.json({ choices: [{ message: { role: "assistant", content } }] });
  });
  const judge = createJudge({
    url: `http://127.0.0.1:${judgeServer.addr.port}/v1`,
    model: "j",
    timeoutMs: 5000,
  });
  const app = createApp({ verify, judge });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/v1/verify`, {
      method: "POST",
      body: JSON.stringify({
        items: [
          { gold: "7", response: "\\boxed{7}" },
          { gold: "7", response: "\\boxed{seven}" },
          { gold: "7", response: "\\boxed{8}" },
          { gold: "7", response: "\\boxed{seven", truncated: true },
        ],
      }),
    });
    const { results } = await res.json();
    assertEquals(results.map((r: { reward: number; judged?: string }) => [r.reward, r.judged ?? null]), [
      [1, null],
      [1, "correct"],
      [-1, "wrong"],
      [-1, null],
    ]);
    assertEquals(asked, 2);
  } finally {
    await server.shutdown();
    await judgeServer.shutdown();
  }
});
