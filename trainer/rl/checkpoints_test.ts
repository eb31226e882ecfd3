import { assert, assertEquals, assertRejects } from "@std/assert";
import { checkpointDir, latestCheckpoint, StepCheckpoints, type StepFolder } from "./checkpoints.ts";
import { stepFiles } from "./testdata/commit_loop.ts";

const CHILD = new URL("./testdata/commit_loop.ts", import.meta.url).pathname;

/** Commits step `step` with the test files of that step. */
function commitTestStep(checkpoints: StepCheckpoints, step: number): Promise<string> {
  return checkpoints.commit(step, (folder: StepFolder) => {
    for (const [name, data] of stepFiles(step)) folder.put(name, data);
    return Promise.resolve();
  });
}

/** Everything under `dir` by relative path: a file with its contents, a folder (`name/`) with no bytes. */
function folderFiles(dir: string, prefix = ""): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) {
      out.set(`${prefix}${e.name}/`, new Uint8Array());
      for (const [k, v] of folderFiles(`${dir}/${e.name}`, `${prefix}${e.name}/`)) out.set(k, v);
    } else out.set(prefix + e.name, Deno.readFileSync(`${dir}/${e.name}`));
  }
  return out;
}

/** Asserts that folder `dir` holds exactly the files (and their folders) of step `step`. */
function assertStepFolder(dir: string, step: number): void {
  const want = new Map<string, Uint8Array>();
  for (const [k, v] of stepFiles(step)) {
    want.set(k, typeof v === "string" ? new TextEncoder().encode(v) : v);
    if (k.includes("/")) want.set(k.slice(0, k.indexOf("/") + 1), new Uint8Array());
  }
  const got = folderFiles(dir);
  assertEquals([...got.keys()].sort(), [...want.keys()].sort(), `files of step ${step}`);
  for (const [k, v] of want) assertEquals(got.get(k), v, `${k} of step ${step}`);
}

function ckptNames(out: string): string[] {
  return [...Deno.readDirSync(`${out}/ckpt`)].map((e) => e.name).sort();
}

Deno.test("StepCheckpoints: the pointer names the newest complete folder; the one before is reused", async () => {
  const out = await Deno.makeTempDir();
  assertEquals(await latestCheckpoint(out), null);
  const checkpoints = new StepCheckpoints(out);
  const stat = (step: number, name: string) => Deno.statSync(`${checkpointDir(out, step)}/${name}`);
  for (let step = 0; step <= 24; step++) {
    // The folder of step - 2 is reused: mark its config.json as written long ago.
    const reused = step >= 2 ? stat(step - 2, "model/weights.bin").ino : null;
    if (step >= 2) Deno.utimeSync(`${checkpointDir(out, step - 2)}/model/config.json`, 0, 0);
    const dir = await commitTestStep(checkpoints, step);
    assertEquals(dir, checkpointDir(out, step));
    assertEquals(await latestCheckpoint(out), { step, dir });
    assertStepFolder(dir, step);
    // The latest folder and the one before it, both complete.
    assertEquals(
      ckptNames(out),
      step === 0 ? ["step-000000"] : [`step-${pad(step - 1)}`, `step-${pad(step)}`],
    );
    if (step > 0) assertStepFolder(checkpointDir(out, step - 1), step - 1);
    if (reused === null) continue;
    // The reused folder's files are written in place; its config.json only when its text changed.
    assertEquals(stat(step, "model/weights.bin").ino, reused);
    const unchanged = Math.floor(step / 10) === Math.floor((step - 2) / 10);
    assertEquals(stat(step, "model/config.json").mtime?.getTime() === 0, unchanged, `step ${step}`);
  }
  await Deno.remove(out, { recursive: true });
});

Deno.test("StepCheckpoints: a new process keeps the checkpoint it resumed from and clears leftovers", async () => {
  const out = await Deno.makeTempDir();
  const first = new StepCheckpoints(out);
  for (let step = 0; step <= 4; step++) await commitTestStep(first, step);
  // Leftovers of a process killed during the commit of step 5, after the rename of its folder (the pointer was
  // not yet written), and of an earlier interrupted write.
  await Deno.mkdir(checkpointDir(out, 5), { recursive: true });
  await Deno.mkdir(`${checkpointDir(out, 2)}.tmp`, { recursive: true });
  const latest = await latestCheckpoint(out);
  assertEquals(latest?.step, 4);
  const second = new StepCheckpoints(out, latest!.dir);
  const dir5 = await commitTestStep(second, 5);
  assertStepFolder(dir5, 5);
  assertEquals(ckptNames(out), ["step-000005"]);
  await commitTestStep(second, 6);
  await commitTestStep(second, 7);
  assertEquals(ckptNames(out), ["step-000006", "step-000007"]);
  assertStepFolder(checkpointDir(out, 7), 7);
  await Deno.remove(out, { recursive: true });
});

Deno.test("StepCheckpoints: a commit that fails while writing leaves the latest checkpoint", async () => {
  const out = await Deno.makeTempDir();
  const checkpoints = new StepCheckpoints(out);
  for (let step = 0; step <= 3; step++) await commitTestStep(checkpoints, step);
  await assertRejects(
    () =>
      checkpoints.commit(4, (folder) => {
        folder.put("model/weights.bin", new Uint8Array(10));
        return Promise.reject(new Error("disk full"));
      }),
    Error,
    "disk full",
  );
  const latest = await latestCheckpoint(out);
  assertEquals(latest?.step, 3);
  assertStepFolder(latest!.dir, 3);
  const next = new StepCheckpoints(out, latest!.dir);
  assertStepFolder(await commitTestStep(next, 4), 4);
  assertEquals(ckptNames(out), ["step-000004"]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("StepCheckpoints: a file put twice in one commit is refused", async () => {
  const out = await Deno.makeTempDir();
  await assertRejects(
    () =>
      new StepCheckpoints(out).commit(0, (folder) => {
        folder.put("a", "1");
        folder.put("a", "2");
        return Promise.resolve();
      }),
    Error,
    "put twice",
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("StepCheckpoints: killed at random instants, each resume finds a complete checkpoint", async () => {
  const out = await Deno.makeTempDir();
  let previous = -1;
  for (let round = 0; round < 10; round++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", CHILD, out],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    assert(text.includes("ready"), "the child did not start");
    await new Promise((r) => setTimeout(r, 3 * round));
    child.kill("SIGKILL");
    await reader.cancel();
    assertEquals((await child.status).signal, "SIGKILL");
    const latest = await latestCheckpoint(out);
    if (latest === null) throw new Error(`round ${round}: no checkpoint`);
    assert(latest.step > previous, `round ${round}: step ${latest.step} after ${previous}`);
    assertStepFolder(latest.dir, latest.step);
    previous = latest.step;
  }
  // A last process continues from there to the end, and leaves the last two steps.
  const end = previous + 5;
  const last = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", CHILD, out, String(end)],
  }).output();
  assertEquals(last.code, 0);
  assertEquals((await latestCheckpoint(out))?.step, end);
  assertEquals(ckptNames(out), [`step-${pad(end - 1)}`, `step-${pad(end)}`]);
  assertStepFolder(checkpointDir(out, end), end);
  assertStepFolder(checkpointDir(out, end - 1), end - 1);
  await Deno.remove(out, { recursive: true });
});

function pad(step: number): string {
  return String(step).padStart(6, "0");
}
