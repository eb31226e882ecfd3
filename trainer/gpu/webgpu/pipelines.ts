/**
 * Compute kernels as generated WGSL plus a binding list, and a pipeline cache keyed by the WGSL source.
 *
 * Kernels bake their shapes into the source as constants, so one source is one specialisation; the cache makes
 * each specialisation compile once per device.
 *
 * @module
 */

/** How a kernel binds one resource at `@group(0) @binding(i)`. */
export type BindingKind = "read" | "rw" | "uniform";

/** A generated compute kernel: WGSL with an entry point `main` and its bindings in binding order. */
export interface Kernel {
  /** A short name for labels and error messages. */
  name: string;
  /** The WGSL source; its text is the cache key. */
  code: string;
  /** Binding kinds, in binding-index order (index i is `@binding(i)`). */
  bindings: BindingKind[];
}

/** A compiled kernel: the pipeline and its bind group layout. */
export interface CompiledKernel {
  /** The compute pipeline. */
  pipeline: GPUComputePipeline;
  /** The layout of bind group 0. */
  layout: GPUBindGroupLayout;
}

/** Compiles each distinct kernel source once per device. */
export class PipelineCache {
  #device: GPUDevice;
  #cache = new Map<string, CompiledKernel>();

  /** @param device the device pipelines are created on */
  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Returns the compiled pipeline for `kernel`, compiling it on first use. */
  get(kernel: Kernel): CompiledKernel {
    const hit = this.#cache.get(kernel.code);
    if (hit) return hit;
    const device = this.#device;
    const layout = device.createBindGroupLayout({
      label: kernel.name,
      entries: kernel.bindings.map((kind, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: {
          type: kind === "uniform" ? "uniform" : kind === "read" ? "read-only-storage" : "storage",
        },
      })),
    });
    const module = device.createShaderModule({ label: kernel.name, code: kernel.code });
    const pipeline = device.createComputePipeline({
      label: kernel.name,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
    });
    const compiled = { pipeline, layout };
    this.#cache.set(kernel.code, compiled);
    return compiled;
  }

  /** Number of compiled pipelines. */
  get size(): number {
    return this.#cache.size;
  }
}
