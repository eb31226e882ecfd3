/**
 * Command batching: many dispatches, copies and uploads recorded into one command encoder and submitted together,
 * with small read-backs.
 *
 * Everything goes through the command stream in recording order, uploads included (they are staged in a mapped
 * buffer and copied by the encoder rather than written with `queue.writeBuffer`, which would jump ahead of
 * commands recorded but not yet submitted).
 *
 * @module
 */

import type { Kernel, PipelineCache } from "./pipelines.ts";

/** Typed arrays that can be uploaded or used as uniform parameters. */
export type HostArray = Float32Array | Uint32Array | Int32Array;

/** A buffer range bound to one binding (offset and size in bytes; default: the whole buffer). */
export interface BufferRange {
  /** The buffer. */
  buffer: GPUBuffer;
  /** Byte offset (a multiple of the device's storage offset alignment, 256). */
  offset?: number;
  /** Byte size. */
  size?: number;
}

/** What one binding of a dispatch receives: a buffer, a range of one, or host data uploaded for this dispatch. */
export type Binding = GPUBuffer | BufferRange | HostArray;

/** Workgroup counts of one dispatch. */
export type Groups = [number, number?, number?];

/** Records and submits GPU work for one device. */
export class CommandBatch {
  #device: GPUDevice;
  #pipelines: PipelineCache;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #transient: GPUBuffer[] = [];
  #recorded = 0;
  #maxGroups: number;
  #error: string | null = null;
  /** Dispatches recorded since construction (for benchmarks and tests). */
  dispatches = 0;
  /** Submits since construction. */
  submits = 0;
  /** Recorded commands after which the batch submits on its own, to bound encoder memory. */
  autoFlushAfter = 1024;

  /**
   * @param device the device
   * @param pipelines the pipeline cache kernels are compiled through
   */
  constructor(device: GPUDevice, pipelines: PipelineCache) {
    this.#device = device;
    this.#pipelines = pipelines;
    this.#maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    device.addEventListener("uncapturederror", (e) => {
      this.#error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
  }

  /** Throws the first device error (shader compilation, validation, out of memory) reported since the last check. */
  #check(): void {
    const err = this.#error;
    if (err !== null) {
      this.#error = null;
      throw new Error(`WebGPU error: ${err}`);
    }
  }

  #enc(): GPUCommandEncoder {
    return this.#encoder ??= this.#device.createCommandEncoder();
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  #counted(): void {
    if (++this.#recorded >= this.autoFlushAfter) this.flush();
  }

  /**
   * Records one dispatch of `kernel` with `bindings` bound in binding order. Host arrays are uploaded into a
   * buffer of their own (uniform or storage, as the kernel declares). When one buffer is bound more than once and
   * one of those bindings is writable, the read-only ones are rebound as read-write (WebGPU forbids mixing the two
   * on one buffer in a dispatch), which compiles a variant of the kernel.
   */
  dispatch(kernel: Kernel, bindings: Binding[], groups: Groups): void {
    if (bindings.length !== kernel.bindings.length) {
      throw new Error(`${kernel.name}: ${kernel.bindings.length} bindings, got ${bindings.length}`);
    }
    const [x, y = 1, z = 1] = groups;
    for (const g of [x, y, z]) {
      if (!Number.isInteger(g) || g < 0 || g > this.#maxGroups) {
        throw new RangeError(`${kernel.name}: workgroup count ${g} outside [0, ${this.#maxGroups}]`);
      }
    }
    if (x === 0 || y === 0 || z === 0) return;
    const ranges: BufferRange[] = bindings.map((b, i) =>
      b instanceof GPUBuffer
        ? { buffer: b }
        : ArrayBuffer.isView(b)
        ? { buffer: this.#hostBuffer(b, kernel.bindings[i] === "uniform") }
        : b
    );
    const { pipeline, layout } = this.#pipelines.get(resolveAliasing(kernel, ranges));
    const entries = ranges.map((resource, binding) => ({ binding, resource }));
    const bindGroup = this.#device.createBindGroup({ layout, entries });
    const pass = this.#pass ??= this.#enc().beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    this.#counted();
  }

  #hostBuffer(data: HostArray, uniform: boolean): GPUBuffer {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const usage = uniform ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE;
    const buf = this.#device.createBuffer({ size, usage, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    this.#transient.push(buf);
    return buf;
  }

  /** Records a copy of `bytes` bytes (a multiple of 4) between buffers. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.#endPass();
    this.#enc().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.#counted();
  }

  /** Records zeroing `bytes` bytes of `buf` from `offset` (both multiples of 4; default: the whole buffer). */
  clear(buf: GPUBuffer, offset = 0, bytes?: number): void {
    this.#endPass();
    this.#enc().clearBuffer(buf, offset, bytes);
    this.#counted();
  }

  /** Records an upload of `data` into `dst` at byte `dstOffset`, ordered after everything recorded before. */
  upload(dst: GPUBuffer, data: HostArray, dstOffset = 0): void {
    if (data.byteLength === 0) return;
    if (data.byteLength % 4 !== 0) throw new RangeError("upload size must be a multiple of 4 bytes");
    const staging = this.#device.createBuffer({
      size: data.byteLength,
      usage: GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true,
    });
    new Uint8Array(staging.getMappedRange()).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    staging.unmap();
    this.#transient.push(staging);
    this.copy(staging, 0, dst, dstOffset, data.byteLength);
  }

  /** Submits everything recorded so far (no wait). */
  flush(): void {
    this.#endPass();
    if (this.#encoder) {
      this.#device.queue.submit([this.#encoder.finish()]);
      this.#encoder = null;
      this.submits++;
    }
    this.#recorded = 0;
    if (this.#transient.length) {
      const old = this.#transient;
      this.#transient = [];
      this.#device.queue.onSubmittedWorkDone().then(() => old.forEach((b) => b.destroy()));
    }
  }

  /** Submits and waits until the GPU has finished all submitted work; throws if the device reported an error. */
  async done(): Promise<void> {
    this.flush();
    await this.#device.queue.onSubmittedWorkDone();
    this.#check();
  }

  /**
   * Submits, then reads `bytes` bytes of `src` from byte `offset` back to the host. Meant for small results
   * (token ids, per-token scalars, a loss), never for weights.
   */
  async read(src: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    if (bytes === 0) return new ArrayBuffer(0);
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.#device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.copy(src, offset, staging, 0, size);
    this.flush();
    await this.#device.queue.onSubmittedWorkDone();
    this.#check();
    await staging.mapAsync(GPUMapMode.READ);
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Reads `count` f32 values of `src` starting at element `offset`. */
  async readF32(src: GPUBuffer, offset = 0, count = (src.size / 4) - offset): Promise<Float32Array> {
    return new Float32Array(await this.read(src, offset * 4, count * 4));
  }
}

/**
 * Returns `kernel`, or a variant with read-only storage bindings turned read-write where they share a buffer with
 * a writable binding. The kernel's declarations must read `@binding(i) var<storage, read>`.
 */
export function resolveAliasing(kernel: Kernel, ranges: BufferRange[]): Kernel {
  let kinds = kernel.bindings;
  for (let i = 0; i < ranges.length; i++) {
    if (kinds[i] !== "read") continue;
    const shared = ranges.some((r, j) =>
      j !== i && r.buffer === ranges[i].buffer && kernel.bindings[j] === "rw"
    );
    if (shared) {
      if (kinds === kernel.bindings) kinds = [...kinds];
      kinds[i] = "rw";
    }
  }
  if (kinds === kernel.bindings) return kernel;
  let code = kernel.code;
  kinds.forEach((k, i) => {
    if (k !== kernel.bindings[i]) {
      const from = `@binding(${i}) var<storage, read>`;
      if (!code.includes(from)) {
        throw new Error(`${kernel.name}: cannot find the declaration of binding ${i}`);
      }
      code = code.replace(from, `@binding(${i}) var<storage, read_write>`);
    }
  });
  return { name: kernel.name, code, bindings: kinds };
}
