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
  /** Its process id (to read its CPU time). */
  pid: number;
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
    pid: child.pid,
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

/** Runs `code` (a module, with the repository's import map) in a subprocess that prints its listening URL. */
function startModule(code: string): Promise<ServerProcess> {
  const root = new URL("..", import.meta.url);
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

const LISTEN = `{ hostname: "127.0.0.1", port: 0, onListen: ({ port }) =>
  console.log("edge: listening on http://127.0.0.1:" + port) }`;

/**
 * Starts the reference: the same app on `Deno.serve`, verifying on the server's thread (`core/verify`), or
 * with `stubVerify` a verifier that answers "correct" without looking (what the app and `Deno.serve` cost
 * without verification).
 */
export function startReference(options: { stubVerify?: boolean } = {}): Promise<ServerProcess> {
  const root = new URL("..", import.meta.url);
  const verifier = options.stubVerify
    ? `const verify = () => ({ correct: true, status: "correct", extracted: null, reason: "stub" });`
    : `import { verify } from ${JSON.stringify(new URL("core/verify/mod.ts", root).href)};`;
  return startModule(`
    ${verifier}
    import { createApp } from ${JSON.stringify(new URL("edge/app.ts", root).href)};
    const app = createApp({ verify });
    Deno.serve(${LISTEN}, app.fetch);
  `);
}

/**
 * Starts the least a `Deno.serve` server can do per request: read the body and answer a fixed JSON verdict
 * (the ceiling for any app served by `Deno.serve` on this machine).
 */
export function startMinimal(): Promise<ServerProcess> {
  return startModule(`
    const answer = JSON.stringify({ correct: true, status: "correct", extracted: "42", reason: "", reward: 1 });
    const headers = { "content-type": "application/json" };
    Deno.serve(${LISTEN}, async (request) => {
      await request.arrayBuffer();
      return new Response(answer, { headers });
    });
  `);
}

/** CPU time a process has used so far (all its threads, user and system), in seconds; NaN off Linux. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
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
