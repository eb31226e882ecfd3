/**
 * Backend selection: `cpu`, `webgpu`, or `auto`. `auto` uses a hardware WebGPU adapter when one exists; on a
 * software adapter (llvmpipe) it keeps the CPU backend for small shapes (measured: a tiny-model MLP matmul chain
 * runs several times faster on the CPU backend, dispatch and shader overhead dominating) and measures both on
 * large shapes; with no adapter it uses the CPU backend. It always says which adapter it found.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { createCpuBackend } from "./cpu/mod.ts";
import { createWebGpuBackend, type WebGpuBackend } from "./webgpu/mod.ts";

/** What the user may ask for. */
export type BackendChoice = "auto" | "webgpu" | "cpu";

/** The names of the choices, for CLI validation. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "webgpu", "cpu"];

/** The backend picked, with what was found and why. */
export interface ChosenBackend {
  backend: Backend;
  /** `"cpu"` or `"webgpu"`. */
  name: "cpu" | "webgpu";
  /** The adapter's description (for WebGPU), or the CPU backend's, whichever was picked. */
  adapter: string;
  /** The WebGPU adapter found, or null when none exists (also when the CPU backend was picked). */
  gpuAdapter: string | null;
  /** One line on why this backend was picked (with the measured times under `auto`). */
  reason: string;
}

/** The shapes `auto` measures: rows of activations and the model's hidden and MLP widths. */
export interface ProbeShape {
  rows: number;
  hidden: number;
  intermediate: number;
}

/** Options of {@linkcode createBackend}. */
export interface CreateBackendOptions {
  /**
   * Work timed on each candidate when `auto` measures (e.g. one training step of the real model); it must
   * enqueue its work on the given backend. Default: a matmul chain of {@linkcode ProbeShape} (`shape`).
   */
  probe?: (backend: Backend) => Promise<void>;
  /** The shapes at hand (default: 1024 rows, hidden 128, intermediate 384: the bench preset). */
  shape?: ProbeShape;
  /** Threads of the CPU backend when it is picked (default: the machine's cores). */
  threads?: number;
}

/** A probe like one MLP block forward: x[rows, hidden] -> [rows, intermediate] -> [rows, hidden], four times. */
export function matmulProbe(shape: ProbeShape): (backend: Backend) => Promise<void> {
  return (be: Backend) => {
    const { rows, hidden: C, intermediate: I } = shape;
    const x = be.alloc(rows * C), w1 = be.alloc(I * C), w2 = be.alloc(C * I), h = be.alloc(rows * I);
    be.fill(x, 0.01);
    be.fill(w1, 0.01);
    be.fill(w2, 0.01);
    for (let i = 0; i < 4; i++) {
      be.matmul({ a: x, b: w1, out: h, m: rows, n: I, k: C, transB: true });
      be.matmul({ a: h, b: w2, out: x, m: rows, n: C, k: I, transB: true });
    }
    for (const t of [x, w1, w2, h]) be.free(t);
    return Promise.resolve();
  };
}

async function timeProbe(be: Backend, probe: (b: Backend) => Promise<void>): Promise<number> {
  await probe(be); // warm-up: pipelines compile, JIT warms
  await be.flush();
  const t0 = performance.now();
  await probe(be);
  await be.flush();
  return performance.now() - t0;
}

/** Per-matmul work (2 * rows * hidden * intermediate) from which `auto` measures a software adapter. */
export const SOFTWARE_ADAPTER_MIN_FLOPS = 1e9;

/**
 * The rule `auto` follows: no adapter: CPU; a hardware adapter: WebGPU; a software adapter (llvmpipe, lavapipe):
 * CPU for small shapes, where dispatch overhead dominates, and a measurement of both for large ones.
 */
export function autoRule(
  adapter: { software: boolean } | null,
  shape: ProbeShape,
): "cpu" | "webgpu" | "measure" {
  if (!adapter) return "cpu";
  if (!adapter.software) return "webgpu";
  return 2 * shape.rows * shape.hidden * shape.intermediate >= SOFTWARE_ADAPTER_MIN_FLOPS ? "measure" : "cpu";
}

/** Creates the backend asked for; `webgpu` throws when no adapter exists, `auto` falls back to the CPU. */
export async function createBackend(
  choice: BackendChoice = "auto",
  opts: CreateBackendOptions = {},
): Promise<ChosenBackend> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`unknown backend "${choice}" (choose one of ${BACKEND_CHOICES.join(", ")})`);
  }
  const cpu = (gpuAdapter: string | null, reason: string): ChosenBackend => {
    const backend = createCpuBackend({ threads: opts.threads });
    return { backend, name: "cpu", adapter: backend.device, gpuAdapter, reason };
  };
  if (choice === "cpu") return cpu(null, "asked for the CPU backend");
  if (choice === "webgpu") {
    const backend = await createWebGpuBackend();
    return {
      backend,
      name: "webgpu",
      adapter: backend.device,
      gpuAdapter: backend.device,
      reason: "asked for WebGPU",
    };
  }
  let gpu: WebGpuBackend;
  try {
    gpu = await createWebGpuBackend();
  } catch (e) {
    return cpu(null, `no WebGPU adapter (${(e as Error).message.split(":")[0]})`);
  }
  const adapter = gpu.device;
  const shape = opts.shape ?? { rows: 1024, hidden: 128, intermediate: 384 };
  const rule = autoRule({ software: gpu.context.info.isFallbackAdapter }, shape);
  if (rule === "webgpu") {
    return { backend: gpu, name: "webgpu", adapter, gpuAdapter: adapter, reason: "hardware adapter" };
  }
  if (rule === "cpu") {
    gpu.destroy();
    return cpu(adapter, `software adapter ${adapter}: the CPU backend is faster for these small shapes`);
  }
  const probe = opts.probe ?? matmulProbe(shape);
  let gpuMs: number;
  try {
    gpuMs = await timeProbe(gpu, probe);
  } catch (e) {
    gpu.destroy();
    return cpu(adapter, `WebGPU adapter failed the probe (${(e as Error).message})`);
  }
  const cpuBackend = createCpuBackend({ threads: opts.threads });
  let cpuMs: number;
  try {
    cpuMs = await timeProbe(cpuBackend, probe);
  } catch (e) {
    gpu.destroy();
    cpuBackend.destroy();
    throw e;
  }
  const times = `probe: webgpu ${gpuMs.toFixed(1)} ms, cpu ${cpuMs.toFixed(1)} ms`;
  if (gpuMs < cpuMs) {
    return {
      backend: gpu,
      name: "webgpu",
      adapter,
      gpuAdapter: adapter,
      reason: `WebGPU is faster (${times})`,
    };
  }
  gpu.destroy();
  return {
    backend: cpuBackend,
    name: "cpu",
    adapter: cpuBackend.device,
    gpuAdapter: adapter,
    reason: `the CPU backend is faster on ${adapter} (${times})`,
  };
}
