/**
 * `deno task export-onnx`: exports a Qwen2 / Qwen2.5 checkpoint folder (a Hugging Face release or one of ours) to
 * ONNX beside its weights, so that `deno task serve --model DIR` serves it. A model over protobuf's 2 GiB keeps its
 * weights in `model.onnx_data`.
 *
 *     deno task export-onnx --model DIR [--max-positions N]
 * @module
 */

import { HELP_FLAG, parseFlags, UsageError, usageText } from "../../core/cli/mod.ts";
import { exportCheckpointOnnx } from "../model/onnx_export.ts";

const FLAGS = {
  model: { type: "string", arg: "DIR", help: "a Qwen2 / Qwen2.5 folder in Hugging Face layout" },
  "max-positions": {
    type: "string",
    arg: "N",
    help: "longest sequence the export serves (default: the config's max_position_embeddings)",
  },
  ...HELP_FLAG,
} as const;

const USAGE = usageText(
  "Usage: deno task export-onnx --model DIR [--max-positions N]\n\n" +
    "Writes DIR/model.onnx (and DIR/model.onnx_data for a model over 2 GiB) from DIR's config.json and safetensors.",
  FLAGS,
);

/** Runs the CLI with `args`; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    values = parseFlags(args, FLAGS).values;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const maxPositions = values["max-positions"] === undefined ? undefined : Number(values["max-positions"]);
  if (
    !values.model || (maxPositions !== undefined && !(Number.isInteger(maxPositions) && maxPositions > 0))
  ) {
    console.error(
      `${values.model ? "--max-positions must be a positive integer" : "--model is required"}\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    const files = await exportCheckpointOnnx(values.model, values.model, { maxPositions });
    console.log(`wrote ${files.map((f) => `${values.model}/${f}`).join(", ")}`);
    return 0;
  } catch (e) {
    console.error(`export-onnx: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
