/**
 * `deno task verify [FILE]`: checks JSONL lines `{ "gold": ..., "pred": ... }` (or `"response"` instead of
 * `"pred"`, optional `"truncated": true`) read from FILE or stdin, and writes one JSON verdict per input line,
 * in order. A malformed line gets `{ "error": "..." }` and the run goes on.
 * `deno task verify --gold X --response Y` checks one pair. A line may also carry `"question"` (shown to the
 * judge) and `"form"` (the answer form its question asks for, e.g. `"factored"`).
 *
 * With `--judge-url URL` (or `OREAL_JUDGE_URL`), the rules' "wrong"/"unparseable" verdicts go to an
 * OpenAI-compatible judge model: `--judge-model` or `OREAL_JUDGE_MODEL` names it, `OREAL_JUDGE_API_KEY` is its
 * key, `OREAL_JUDGE_TIMEOUT_MS` its time limit.
 *
 * @module
 */

import { HELP_FLAG, parseFlags, UsageError, usageText } from "../../core/cli/mod.ts";
import { ANSWER_FORMS, judgeFromEnv, verify } from "../../core/verify/mod.ts";
import type { AnswerForm, Judge, Verdict, VerifyOptions } from "../../core/verify/mod.ts";

const FLAGS = {
  gold: { type: "string", arg: "X", help: "gold answer of a single pair" },
  response: { type: "string", arg: "Y", help: "response of a single pair" },
  pred: { type: "string", arg: "Y", help: "same as --response" },
  truncated: { type: "boolean", help: "the single pair's response was cut off by the length limit (wrong)" },
  "timeout-ms": { type: "string", arg: "N", help: "time budget per verification (default 2000)" },
  "judge-url": {
    type: "string",
    arg: "URL",
    help: 'send "wrong"/"unparseable" verdicts to this OpenAI-compatible endpoint',
  },
  "judge-model": {
    type: "string",
    arg: "NAME",
    help: "the judge model (default: OREAL_JUDGE_MODEL); key from OREAL_JUDGE_API_KEY",
  },
  ...HELP_FLAG,
} as const;

const USAGE = usageText(
  `usage: deno task verify [FILE]                       (JSONL on FILE or stdin)
       deno task verify --gold X --response Y [--truncated]`,
  FLAGS,
);

/** Parsed command line. */
export interface CliArgs {
  /** JSONL file to read (stdin when absent and no single pair is given). */
  file?: string;
  /** Gold answer of a single pair. */
  gold?: string;
  /** Response of a single pair. */
  response?: string;
  /** Options applied to every verification. */
  options: VerifyOptions;
  /** Judge endpoint given on the command line. */
  judgeUrl?: string;
  /** Judge model given on the command line. */
  judgeModel?: string;
  /** `--help`: print the usage and exit. */
  help?: boolean;
}

/** Parses the command line; throws an Error with a usage message on bad arguments. */
export function parseArgs(args: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseFlags(args, FLAGS, { positionals: true });
  } catch (e) {
    if (e instanceof UsageError) throw new Error(`${e.message}\n${USAGE}`);
    throw e;
  }
  const { values, positionals } = parsed;
  const out: CliArgs = { options: {} };
  if (values.help) out.help = true;
  if (values.gold !== undefined) out.gold = values.gold;
  const response = values.response ?? values.pred;
  if (response !== undefined) out.response = response;
  if (values.truncated) out.options.truncated = true;
  if (values["timeout-ms"] !== undefined) {
    const n = Number(values["timeout-ms"]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--timeout-ms must be a positive number\n${USAGE}`);
    out.options.timeoutMs = n;
  }
  if (values["judge-url"] !== undefined) out.judgeUrl = values["judge-url"];
  if (values["judge-model"] !== undefined) out.judgeModel = values["judge-model"];
  if (positionals.length > 1) throw new Error(`only one FILE may be given\n${USAGE}`);
  if (positionals.length === 1) out.file = positionals[0];
  if ((out.gold === undefined) !== (out.response === undefined)) {
    throw new Error(`--gold and --response go together\n${USAGE}`);
  }
  if (out.gold !== undefined && out.file !== undefined) {
    throw new Error(`give FILE or --gold/--response\n${USAGE}`);
  }
  return out;
}

/** The verdict (or error) object for one JSONL input line; a promise when a judge is given. */
export function verifyLine(line: string, options: VerifyOptions): Record<string, unknown>;
export function verifyLine(
  line: string,
  options: VerifyOptions,
  judge: Judge | null,
): Record<string, unknown> | Promise<Record<string, unknown>>;
export function verifyLine(
  line: string,
  options: VerifyOptions,
  judge: Judge | null = null,
): Record<string, unknown> | Promise<Record<string, unknown>> {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (e) {
    return { error: `invalid JSON: ${(e as Error).message}` };
  }
  if (typeof row !== "object" || row === null || Array.isArray(row)) {
    return { error: "a line must be a JSON object" };
  }
  const r = row as Record<string, unknown>;
  const response = r.pred ?? r.response;
  if (typeof r.gold !== "string") return { error: 'missing string field "gold"' };
  if (typeof response !== "string") return { error: 'missing string field "pred" (or "response")' };
  if (r.truncated !== undefined && typeof r.truncated !== "boolean") {
    return { error: '"truncated" must be a boolean' };
  }
  if (r.question !== undefined && typeof r.question !== "string") {
    return { error: '"question" must be a string' };
  }
  if (r.form !== undefined && !ANSWER_FORMS.includes(r.form as AnswerForm)) {
    return { error: `"form" must be one of ${ANSWER_FORMS.join(", ")}` };
  }
  const lineOptions: VerifyOptions = { ...options, truncated: r.truncated === true || options.truncated };
  if (r.form !== undefined) lineOptions.form = r.form as AnswerForm;
  if (judge === null) return { ...verify(r.gold, response, lineOptions) };
  const question = r.question as string | undefined;
  return verify(r.gold, response, { ...lineOptions, judge, question }).then((v: Verdict) => ({ ...v }));
}

/** An environment variable, or undefined when it is unset or may not be read (no `--allow-env`). */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Lines judged at once when a judge is used (their verdicts are still written in input order). */
const JUDGE_CONCURRENCY = 8;

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    const parts = rest.split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest !== "") yield rest;
}

/** Runs the CLI with the given arguments and returns the exit status (0 ok, 1 unreadable FILE, 2 usage). */
export async function main(args: string[]): Promise<number> {
  let cli: CliArgs;
  try {
    cli = parseArgs(args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  let judge: Judge | null;
  try {
    judge = judgeFromEnv(readEnv, { url: cli.judgeUrl, model: cli.judgeModel });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (cli.gold !== undefined) {
    const v = judge === null
      ? verify(cli.gold, cli.response!, cli.options)
      : await verify(cli.gold, cli.response!, { ...cli.options, judge });
    console.log(JSON.stringify(v));
    return 0;
  }
  let input: ReadableStream<Uint8Array>;
  try {
    input = cli.file === undefined ? Deno.stdin.readable : (await Deno.open(cli.file)).readable;
  } catch (e) {
    console.error(`cannot read ${cli.file}: ${(e as Error).message}`);
    return 1;
  }
  const encoder = new TextEncoder();
  const writer = Deno.stdout.writable.getWriter();
  let buffer = "";
  let batch: (Record<string, unknown> | Promise<Record<string, unknown>>)[] = [];
  const flush = async (force: boolean) => {
    for (const out of await Promise.all(batch)) buffer += JSON.stringify(out) + "\n";
    batch = [];
    if (force || buffer.length > 1 << 16) {
      await writer.write(encoder.encode(buffer));
      buffer = "";
    }
  };
  for await (const raw of lines(input)) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    batch.push(line.trim() === "" ? { error: "empty line" } : verifyLine(line, cli.options, judge));
    if (judge === null || batch.length >= JUDGE_CONCURRENCY) await flush(false);
  }
  await flush(true);
  writer.releaseLock();
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
