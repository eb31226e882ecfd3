/**
 * In-process cost of `POST /v1/verify` through the Hono app (no sockets): parsing, verification, reward and
 * JSON answer, for a single numeric answer and for a batch of 64. The loopback HTTP figure (requests per
 * second, p50 / p99) comes from `bench/edge_verify_load.ts`.
 *
 *   deno task bench bench/edge_verify_bench.ts
 *
 * @module
 */

import { verify } from "../core/verify/mod.ts";
import { createApp } from "../edge/app.ts";

const app = createApp({ verify });
const single = JSON.stringify({
  gold: "42",
  response: "Adding the parts gives 40 + 2, so the answer is \\boxed{42}.",
});
const batch = JSON.stringify({
  items: Array.from({ length: 64 }, (_, i) => ({ gold: `${i}`, response: `so the answer is \\boxed{${i}}` })),
});

async function call(body: string): Promise<void> {
  const res = await app.request("/v1/verify", { method: "POST", body });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

Deno.bench({ name: "verify route: one numeric answer", group: "verify", baseline: true }, async () => {
  await call(single);
});

Deno.bench({ name: "verify route: batch of 64 numeric answers", group: "verify" }, async () => {
  await call(batch);
});

Deno.bench({ name: "core verify alone: one numeric answer", group: "verify" }, () => {
  verify("42", "Adding the parts gives 40 + 2, so the answer is \\boxed{42}.");
});
