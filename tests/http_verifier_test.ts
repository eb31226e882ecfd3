import { assertEquals, assertRejects } from "@std/assert";
import { verify } from "../core/verify/mod.ts";
import verifier from "../edge/verifier.ts";
import { localVerifier, type VerifyRequest } from "../trainer/rl/rollout.ts";
import { httpVerifier, verifyEndpoint } from "../trainer/workers/http_verifier.ts";

Deno.test("http verifier: /v1/verify over real HTTP gives core/verify's verdicts, with a bearer token", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) => verifier.fetch(req, { OREAL_API_KEY: "secret" }),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const requests: VerifyRequest[] = [
      { gold: "\\frac12", response: "so \\boxed{0.5}", truncated: false },
      { gold: "4", response: "\\boxed{5}", truncated: false },
      { gold: "4", response: "\\boxed{4}", truncated: true },
      { gold: "(x+1)^2", response: "\\boxed{x^2+2x+1}", truncated: false, form: "factored" },
      ...Array.from(
        { length: 300 },
        (_, i) => ({ gold: String(i), response: `\\boxed{${i % 7}}`, truncated: false }),
      ),
    ];
    const remote = await httpVerifier({ url: `${base}/`, apiKey: "secret" })(requests);
    const local = await localVerifier(requests);
    assertEquals(remote, local);
    assertEquals(remote.slice(0, 4).map((v) => v.correct), [true, false, false, false]);
    assertEquals(verify("(x+1)^2", "\\boxed{x^2+2x+1}", { form: "factored" }).correct, false);
    await assertRejects(
      () => httpVerifier({ url: base, apiKey: "wrong" })(requests.slice(0, 1)),
      Error,
      "401",
    );
    assertEquals(verifyEndpoint("http://h:1/base/"), "http://h:1/base/v1/verify");
  } finally {
    await server.shutdown();
  }
});
