/**
 * Ending the busy loop of {@linkcode ../tests/edge_spin_verify_worker.ts}'s `SPIN` items once a test is done with
 * them. Deno 2.9's `Worker.terminate()` does not stop a thread in a busy loop (denoland/deno#35657): without a
 * release, every stuck worker a test makes would keep a core busy for the rest of the test process, which under
 * `deno test --parallel` is the rest of the suite.
 *
 * @module
 */

/** A `SPIN` item's response text and the call that ends its loop. */
export interface SpinItem {
  /** The response to verify: the spin worker loops on it until {@linkcode SpinItem.release}. */
  response: string;
  /** Ends the loop (after the test has closed its pool) and waits up to 2 s for the worker to see it. */
  release(): Promise<void>;
}

/** The release file of a `SPIN <file>` response, or null for any other response. */
export function spinReleaseFile(response: string): string | null {
  return response.startsWith("SPIN ") ? response.slice(5) : null;
}

/** A fresh `SPIN` item, with its own release file in a new temporary folder. */
export async function spinItem(): Promise<SpinItem> {
  const dir = await Deno.makeTempDir({ prefix: "edge_spin_" });
  const file = `${dir}/release`;
  return {
    response: `SPIN ${file}`,
    async release() {
      await Deno.writeTextFile(file, "");
      // The worker removes the file when it leaves its loop.
      for (let i = 0; i < 100 && await Deno.stat(file).then(() => true, () => false); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await Deno.remove(dir, { recursive: true });
    },
  };
}
