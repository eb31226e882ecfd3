/**
 * The LLM judge against our own OpenAI-compatible server (the edge app with the toy ONNX model over real
 * HTTP): the judge's request is accepted, and the toy model's reply (a run of the alphabet, neither A nor B)
 * leaves the rule verdict in place.
 */

import { assert, assertEquals } from "@std/assert";
import { createJudge, verify } from "../core/verify/mod.ts";
import { loadModelDir } from "../edge/inference/load_model_dir.ts";
import { startServer, writeToyModelDir } from "./edge_harness.ts";

Deno.test("judge: our own /v1/chat/completions serves the judge's request; a reply that is no letter keeps the rules", async () => {
  const dir = await Deno.makeTempDir({ prefix: "judge_serve_" });
  await writeToyModelDir(`${dir}/toy`, 2048);
  const model = await loadModelDir(`${dir}/toy`, { concurrency: 1, workers: false });
  const server = startServer({ model });
  try {
    const judge = createJudge({ url: `${server.url}/v1`, model: "toy", timeoutMs: 60_000 });
    const v = await verify("7", "so \\boxed{seven}", { judge, question: "What is 3 + 4?" });
    assertEquals([v.correct, v.status, v.judged], [false, "wrong", "failed"]);
    assert(v.reason.includes("neither A nor B"), v.reason);
    assertEquals(judge.requests, 1);
  } finally {
    await server.close();
    await model.close?.();
    await Deno.remove(dir, { recursive: true });
  }
});
