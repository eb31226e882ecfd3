/**
 * WebGPU adapter and device acquisition for the trainer.
 *
 * Requests the adapter's own limits (storage binding size, workgroup storage, invocations, storage buffers per
 * stage) instead of WebGPU's conservative defaults, enables the optional features the kernels can use, and keeps a
 * plain description of the adapter for reports and benchmarks.
 *
 * @module
 */

/** What a report needs to know about the adapter behind a device. */
export interface AdapterDescription {
  /** Human-readable adapter name, e.g. `NVIDIA H100 80GB HBM3` or `llvmpipe (LLVM 15.0.6, 256 bits)`. */
  description: string;
  /** Vendor string or id as the driver reports it. */
  vendor: string;
  /** Architecture string (often empty). */
  architecture: string;
  /** True for software (CPU) adapters such as llvmpipe. */
  isFallbackAdapter: boolean;
  /** Optional features enabled on the device (a subset of `shader-f16`, `timestamp-query`, `subgroups`). */
  features: string[];
  /** The limits the device was created with (the adapter's maxima). */
  limits: DeviceLimits;
}

/** The device limits the kernels care about. */
export interface DeviceLimits {
  /** Largest storage buffer binding, in bytes. */
  maxStorageBufferBindingSize: number;
  /** Largest buffer, in bytes. */
  maxBufferSize: number;
  /** Workgroup (shared) memory per workgroup, in bytes. */
  maxComputeWorkgroupStorageSize: number;
  /** Threads per workgroup. */
  maxComputeInvocationsPerWorkgroup: number;
  /** Largest workgroup size along x. */
  maxComputeWorkgroupSizeX: number;
  /** Workgroups per dispatch dimension. */
  maxComputeWorkgroupsPerDimension: number;
  /** Storage buffers bound in one shader stage. */
  maxStorageBuffersPerShaderStage: number;
}

/** A live WebGPU device with its adapter's description. */
export interface GpuContext {
  /** The adapter the device came from. */
  adapter: GPUAdapter;
  /** The device all buffers and pipelines of a backend live on. */
  device: GPUDevice;
  /** Adapter name, features and limits, for reports. */
  info: AdapterDescription;
}

/** Thrown when no WebGPU adapter can be obtained (no `navigator.gpu`, or the platform offers none). */
export class GpuUnavailableError extends Error {
  /** @param reason why no adapter is available */
  constructor(reason: string) {
    super(
      `WebGPU is not available: ${reason}. Use the CPU backend, or on Linux install Mesa (llvmpipe) or a GPU ` +
        `driver with Vulkan; DENO_WEBGPU_BACKEND=vulkan|gl selects the wgpu backend.`,
    );
    this.name = "GpuUnavailableError";
  }
}

/** Options for {@linkcode acquireGpu}. */
export interface AcquireOptions {
  /** Adapter preference; defaults to `high-performance`. */
  powerPreference?: GPUPowerPreference;
}

const OPTIONAL_FEATURES = ["shader-f16", "timestamp-query", "subgroups"] as const;

const LIMIT_NAMES = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
] as const;

/** Returns the WebGPU adapter, or `null` when the runtime has no WebGPU or no adapter. Never throws. */
export async function findAdapter(options: AcquireOptions = {}): Promise<GPUAdapter | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return null;
  try {
    return await gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
  } catch {
    return null;
  }
}

/**
 * Acquires an adapter and a device with the adapter's maximum limits and the optional features it offers.
 * Throws {@linkcode GpuUnavailableError} when there is no adapter.
 */
export async function acquireGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  if (!(globalThis.navigator as Navigator | undefined)?.gpu) {
    throw new GpuUnavailableError("navigator.gpu is undefined in this runtime");
  }
  const adapter = await findAdapter(options);
  if (!adapter) throw new GpuUnavailableError("navigator.gpu.requestAdapter() returned no adapter");
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  const limits = {} as DeviceLimits;
  for (const name of LIMIT_NAMES) limits[name] = device.limits[name];
  const ai = adapter.info;
  return {
    adapter,
    device,
    info: {
      description: ai.description || ai.device || "unknown adapter",
      vendor: ai.vendor,
      architecture: ai.architecture,
      isFallbackAdapter: ai.isFallbackAdapter ?? false,
      features: [...features],
      limits,
    },
  };
}

/** One line for logs and benchmark headers: the adapter name plus its enabled features. */
export function formatAdapter(info: AdapterDescription): string {
  const kind = info.isFallbackAdapter ? ", software" : "";
  const feats = info.features.length ? info.features.join(",") : "none";
  return `${info.description} (vendor ${info.vendor}${kind}; features ${feats})`;
}
