/**
 * `GET /metrics`: the inference side's counters in Prometheus' text format, so that an operator (and the
 * tests) can see that concurrent generations share decode steps: `oreal_decode_rows_total /
 * oreal_decode_steps_total` is the mean decode batch.
 *
 * @module
 */

import { Hono } from "hono";
import type { LanguageModel } from "../inference/language_model.ts";

/** One sample: name, type, help text and value. */
type Sample = [name: string, type: "counter" | "gauge", help: string, value: number];

/** The samples of `model`, or none while no model is loaded. */
export function inferenceSamples(model: LanguageModel | undefined): Sample[] {
  if (!model) return [];
  const stats = model.decodeStats();
  return [
    [
      "oreal_decode_steps_total",
      "counter",
      "Decode steps run (each advances every row of a batch)",
      stats.steps,
    ],
    [
      "oreal_decode_rows_total",
      "counter",
      "Rows summed over decode steps (tokens they produced)",
      stats.sequenceSteps,
    ],
    ["oreal_decode_batch_peak", "gauge", "Most rows one decode step ran", stats.peakBatch],
    [
      "oreal_prefills_total",
      "counter",
      "Prompt runs (one per distinct prompt joining a batch)",
      stats.prefills,
    ],
    ["oreal_generation_slots", "gauge", "Generations that may run at once", model.capacity],
    ["oreal_generation_active", "gauge", "Generations under way", model.queue.active],
    ["oreal_generation_waiting", "gauge", "Requests waiting for a slot", model.queue.waiting],
  ];
}

/** Prometheus' text exposition format of `samples`. */
export function formatSamples(samples: readonly Sample[]): string {
  return samples.map(([name, type, help, value]) =>
    `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`
  )
    .join("");
}

/** The Hono sub-app serving `GET /metrics` for the model `model()` returns. */
export function metricsRoutes(model: () => LanguageModel | undefined): Hono {
  const app = new Hono();
  app.get("/metrics", (c) =>
    c.body(formatSamples(inferenceSamples(model())), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }));
  return app;
}
