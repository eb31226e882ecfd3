import { assert, assertEquals, assertThrows } from "@std/assert";
import { main, parseArgs, verifyLine } from "./verify.ts";

const SCRIPT = new URL("./verify.ts", import.meta.url).pathname;

async function runCli(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", SCRIPT, ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli: JSONL on stdin gives one verdict per line, in order, errors inline", async () => {
  const input = [
    JSON.stringify({ gold: "\\frac{1}{2}", pred: "so $\\boxed{0.5}$" }),
    "{not json",
    JSON.stringify({ gold: "3", response: "The answer is 4." }),
    JSON.stringify({ gold: "3" }),
    JSON.stringify({ gold: "7", pred: "\\boxed{7}", truncated: true }),
    JSON.stringify({ gold: "x^2+2x+1", pred: "$(x+1)^2$" }),
  ].join("\n") + "\n";
  const { code, stdout } = await runCli([], input);
  assertEquals(code, 0);
  const rows = stdout.trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(rows.length, 6);
  assertEquals([rows[0].correct, rows[0].status, rows[0].extracted], [true, "correct", "0.5"]);
  assert(typeof rows[1].error === "string" && rows[1].error.includes("invalid JSON"));
  assertEquals([rows[2].correct, rows[2].status, rows[2].extracted], [false, "wrong", "4"]);
  assert(rows[3].error.includes("pred"));
  assertEquals([rows[4].correct, rows[4].status], [false, "wrong"]);
  assert(rows[4].reason.includes("truncated"));
  assertEquals(rows[5].correct, true);
});

Deno.test("cli: reads a FILE argument", async () => {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(
      file,
      '{"gold":"12","pred":"\\\\boxed{12}"}\r\n{"gold":"12","pred":"\\\\boxed{13}"}',
    );
    const { code, stdout } = await runCli([file]);
    assertEquals(code, 0);
    assertEquals(stdout.trim().split("\n").map((l) => JSON.parse(l).correct), [true, false]);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("cli: --gold/--response checks one pair", async () => {
  const one = await runCli(["--gold", "(x+1)^2", "--response", "x^2+2x+1"]);
  assertEquals(one.code, 0);
  assertEquals(JSON.parse(one.stdout).status, "correct");
});

Deno.test("cli: bad usage exits 2, an unreadable FILE exits 1", async () => {
  const quiet = console.error;
  console.error = () => {};
  try {
    assertEquals(await main(["--gold", "1"]), 2);
    assertEquals(await main(["--nope"]), 2);
    assertEquals(await main(["/nonexistent/file.jsonl"]), 1);
  } finally {
    console.error = quiet;
  }
});

Deno.test("cli: argument parsing and line checking", () => {
  assertEquals(parseArgs(["--gold", "1", "--pred", "2", "--timeout-ms", "50"]), {
    gold: "1",
    response: "2",
    options: { timeoutMs: 50 },
  });
  assertThrows(() => parseArgs(["a", "b"]), Error, "only one FILE");
  assertThrows(() => parseArgs(["--timeout-ms=-1"]), Error, "positive");
  assertThrows(() => parseArgs(["--bogus"]), Error, "unknown flag --bogus");
  assertEquals(verifyLine("[1]", {}), { error: "a line must be a JSON object" });
  assertEquals(verifyLine('{"gold":"1","pred":"1","truncated":"yes"}', {}), {
    error: '"truncated" must be a boolean',
  });
});

Deno.test("cli: --judge-url sends the rules' wrong verdicts to an OpenAI-compatible judge over HTTP", async () => {
  const prompts: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    prompts.push(body.messages[0].content);
    const content = body.messages[0].content.includes("Candidate answer:\nseven") ? "A" : "B";
    return Response.json({ choices: [{ message: { role: "assistant", content } }] });
  });
  try {
    const input = [
      { gold: "7", pred: "\\boxed{7}" },
      { gold: "7", pred: "\\boxed{seven}", question: "What is 3 + 4?" },
      { gold: "7", pred: "\\boxed{8}" },
      { gold: "(x-1)(x+1)", pred: "\\boxed{x^2-1}", form: "factored" },
    ].map((r) => JSON.stringify(r)).join("\n");
    const cmd = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-net=127.0.0.1",
        "--allow-env",
        SCRIPT,
        "--judge-url",
        `http://127.0.0.1:${server.addr.port}/v1`,
        "--judge-model",
        "judge-1",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { OREAL_JUDGE_URL: "", OREAL_JUDGE_MODEL: "" },
    });
    const child = cmd.spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
    const out = await child.output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const rows = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(rows.map((r) => [r.correct, r.judged ?? null]), [
      [true, null],
      [true, "correct"],
      [false, "wrong"],
      [false, "wrong"],
    ]);
    assertEquals(prompts.length, 3);
    assert(prompts[0].includes("What is 3 + 4?"));
  } finally {
    await server.shutdown();
  }
});
