/**
 * A pool of GPU storage buffers reused by size class.
 *
 * Buffers are rounded up to a size class (four classes per power of two, so at most 25% waste) and returned to a
 * free list on release. Reuse is safe inside one command stream: a buffer released after the last command that
 * uses it was recorded can be handed to later commands, which the GPU executes after the earlier ones.
 * Recycled buffers hold stale data; callers clear what they need zeroed.
 *
 * @module
 */

/** The usage every pooled buffer gets: storage, and both ends of copies. */
export const POOL_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

const MIN_CLASS = 256;

/** Counters of a {@linkcode BufferPool}. */
export interface PoolStats {
  /** Bytes in all buffers the pool created and has not destroyed. */
  allocatedBytes: number;
  /** Bytes in buffers currently handed out. */
  liveBytes: number;
  /** Highest `liveBytes` seen. */
  peakLiveBytes: number;
  /** Number of `acquire` calls served from the free lists. */
  reused: number;
  /** Number of buffers created. */
  created: number;
}

const BIG = 64 * 2 ** 20;
const BIG_STEP = 4 * 2 ** 20;

/**
 * Rounds a byte count up to its size class: at least 256 bytes, then 1, 1.25, 1.5 or 1.75 times a power of two
 * (always a multiple of 16 bytes); above 64 MiB, the next multiple of 4 MiB (so that huge buffers stay within the
 * device's maximum buffer size).
 */
export function sizeClass(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`buffer size must be >= 0, got ${bytes}`);
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  if (bytes > BIG) return Math.ceil(bytes / BIG_STEP) * BIG_STEP;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

/** A size-class buffer pool bound to one device. */
export class BufferPool {
  #device: GPUDevice;
  #free = new Map<number, GPUBuffer[]>();
  #live = new Set<GPUBuffer>();
  #stats: PoolStats = { allocatedBytes: 0, liveBytes: 0, peakLiveBytes: 0, reused: 0, created: 0 };

  /** @param device the device buffers are created on */
  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Returns a buffer of at least `bytes` bytes (its `size` is the size class), reusing a free one if possible. */
  acquire(bytes: number, label?: string): GPUBuffer {
    const size = sizeClass(bytes);
    let buf = this.#free.get(size)?.pop();
    if (buf) {
      this.#stats.reused++;
    } else {
      buf = this.#device.createBuffer({ size, usage: POOL_USAGE, label });
      this.#stats.created++;
      this.#stats.allocatedBytes += size;
    }
    this.#live.add(buf);
    this.#stats.liveBytes += size;
    this.#stats.peakLiveBytes = Math.max(this.#stats.peakLiveBytes, this.#stats.liveBytes);
    return buf;
  }

  /** Returns a buffer to its free list. Throws if the buffer is not live in this pool (double release). */
  release(buf: GPUBuffer): void {
    if (!this.#live.delete(buf)) throw new Error("BufferPool.release: buffer is not live in this pool");
    this.#stats.liveBytes -= buf.size;
    const list = this.#free.get(buf.size);
    if (list) list.push(buf);
    else this.#free.set(buf.size, [buf]);
  }

  /** Destroys every free buffer (live ones stay), returning the bytes freed. */
  trim(): number {
    let freed = 0;
    for (const list of this.#free.values()) {
      for (const b of list) {
        freed += b.size;
        b.destroy();
      }
    }
    this.#free.clear();
    this.#stats.allocatedBytes -= freed;
    return freed;
  }

  /** Destroys all buffers, live and free. */
  destroy(): void {
    this.trim();
    for (const b of this.#live) b.destroy();
    this.#live.clear();
    this.#stats.allocatedBytes = 0;
    this.#stats.liveBytes = 0;
  }

  /** A snapshot of the pool's counters. */
  get stats(): PoolStats {
    return { ...this.#stats };
  }
}
