/**
 * `edge/verifier.ts` runs with no permissions at all: a subprocess `deno run --no-prompt` with zero --allow
 * flags imports it and answers verify requests through its fetch handler (as Deno Deploy or a Worker would).
 */

import { assertEquals } from "@std/assert";

const ROOT = new URL("..", import.meta.url);

const SCRIPT = `
import verifier from ${JSON.stringify(new URL("edge/verifier.ts", ROOT).href)};
const names = ["read", "write", "net", "env", "run", "sys", "ffi", "import"];
const granted = names.filter((name) => {
  try { return Deno.permissions.querySync({ name }).state === "granted"; } catch { return false; }
});
const call = async (path, body, bindings) => {
  const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body) };
  const res = await verifier.fetch(new Request("https://edge.example" + path, init), bindings);
  return { status: res.status, body: await res.json() };
};
const single = await call("/v1/verify", { gold: "42", response: "The answer is \\\\boxed{42}." });
const batch = await call("/v1/verify?reward_format=zero_one", { items: [{ gold: "1/2", response: "\\\\boxed{0.5}" }, { gold: "3", response: "\\\\boxed{4}" }] });
const health = await call("/healthz");
const locked = await call("/v1/verify", { gold: "1", response: "1" }, { OREAL_API_KEY: "k" });
console.log(JSON.stringify({ granted, single, batch, health, locked }));
`;

Deno.test("edge/verifier.ts answers with no permissions granted", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(SCRIPT));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  assertEquals(code, 0, err);
  const out = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").pop()!);
  assertEquals(out.granted, []);
  assertEquals([out.single.status, out.single.body.status, out.single.body.reward], [200, "correct", 1]);
  assertEquals(out.batch.body.results.map((r: { reward: number }) => r.reward), [1, 0]);
  assertEquals(out.health, { status: 200, body: { status: "ok" } });
  assertEquals([out.locked.status, out.locked.body.error.code], [401, "missing_api_key"]);
});
