/**
 * Servers and inputs for the edge load benchmarks: `edge/cli/serve.ts` in a subprocess (the product), and a
 * reference subprocess that serves the same app the way it was served before the hardening (`Deno.serve`,
 * verification on the server's thread), so a benchmark can report a ratio measured in one run.
 *
 * @module
 */

import { readListeningUrl } from "../tests/edge_harness.ts";

/** A server subprocess. */
export interface ServerProcess {
  /** Base URL. */
  url: string;
  /** Stops it. */
  stop(): Promise<void>;
}

/**
 * Request bodies of at most `bytes` bytes that are the slowest to verify that we know of, old and new: an
 * answer cue and a long run of spaces (it made the pre-hardening extraction backtrack catastrophically: 400
 * spaces took ~8 s, 64 KB never ended; now ~70 ms), and thousands of `\boxed{1}` (~110 ms at 64 KB), each
 * measured on one core of a shared 2-core machine.
 */
export function pathologicalBodies(bytes: number): string[] {
  const cue = "The final answer is";
  const bodies = [
    { gold: "1", response: cue + " ".repeat(Math.max(0, bytes - cue.length - 40)) },
    { gold: "1", response: "\\boxed{1}".repeat(Math.floor((bytes - 40) / 11)) },
  ];
  return bodies.map((b) => JSON.stringify(b));
}

async function started(child: Deno.ChildProcess): Promise<ServerProcess> {
  const stdout = child.stdout.pipeThrough(new TextDecoderStream());
  const url = await readListeningUrl(stdout);
  const drain = stdout.pipeTo(new WritableStream()).catch(() => {});
  return {
    url,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      await drain;
    },
  };
}

/** Starts `edge/cli/serve.ts --port 0` with `args`. */
export function startServe(args: string[] = []): Promise<ServerProcess> {
  const serve = new URL("../edge/cli/serve.ts", import.meta.url).pathname;
  return started(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", serve, "--port", "0", ...args],
      stdout: "piped",
      stderr: "inherit",
    }).spawn(),
  );
}

/** Starts the reference: the same app on `Deno.serve`, verifying on the server's thread. */
export function startReference(): Promise<ServerProcess> {
  const root = new URL("..", import.meta.url);
  const code = `
    import { verify } from ${JSON.stringify(new URL("core/verify/mod.ts", root).href)};
    import { createApp } from ${JSON.stringify(new URL("edge/app.ts", root).href)};
    const app = createApp({ verify });
    Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) =>
      console.log("edge: listening on http://127.0.0.1:" + port) }, app.fetch);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  writer.write(new TextEncoder().encode(code)).then(() => writer.close());
  return started(child);
}

/** Waits until a verification answers (the verification workers have loaded). */
export async function waitForVerifier(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`${url}/v1/verify`, {
      method: "POST",
      body: JSON.stringify({ gold: "1", response: "\\boxed{1}" }),
    });
    if (res.status === 200 && (await res.json()).status === "correct") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}: the verifier did not answer`);
}

/** The q-quantile of sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
