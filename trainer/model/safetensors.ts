/**
 * A reader and writer for the safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
 * header mapping each tensor name to `{dtype, shape, data_offsets}` (plus optional `__metadata__` strings), then
 * the raw little-endian data. Reads and writes F32, F16 and BF16 (values are f32 in memory).
 *
 * @module
 */

/** Element types read or written. */
export type SafetensorsDType = "F32" | "F16" | "BF16";

const BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2 };

/** One tensor of a parsed file; `toF32` decodes its data. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Number of elements. */
  size: number;
  /** Decodes the tensor to f32. */
  toF32(): Float32Array;
}

/** A parsed safetensors file. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** A tensor to write: f32 values and a shape whose product is their length. */
export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half (bits) to number. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Number to IEEE half bits, rounding to nearest even; overflow gives infinity. */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // may carry into the exponent: still correct
  return sign | half;
}

/** Parses a safetensors file held in memory. Tensors are decoded lazily by `toF32`. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new Error("safetensors: file shorter than its 8-byte header length");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (8 + headerLen > bytes.length) {
    throw new Error(`safetensors: header length ${headerLen} exceeds the file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`safetensors: header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(info.dtype in BYTES)) {
      throw new Error(`safetensors: tensor "${name}" has dtype ${info.dtype} (supported: F32, F16, BF16)`);
    }
    const dtype = info.dtype as SafetensorsDType;
    const size = info.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = info.data_offsets;
    if (end - begin !== size * BYTES[dtype] || dataStart + end > bytes.length || begin < 0) {
      throw new Error(
        `safetensors: tensor "${name}" has inconsistent offsets [${begin}, ${end}) for ${info.shape}`,
      );
    }
    const at = dataStart + begin;
    tensors.set(name, {
      name,
      dtype,
      shape: info.shape,
      size,
      toF32: () => decode(dv, at, size, dtype),
    });
  }
  return { tensors, metadata };
}

function decode(dv: DataView, at: number, size: number, dtype: SafetensorsDType): Float32Array {
  const out = new Float32Array(size);
  if (dtype === "F32") {
    // Copy the bytes (the source may be unaligned), then reinterpret: the platform is little-endian.
    new Uint8Array(out.buffer).set(new Uint8Array(dv.buffer, dv.byteOffset + at, 4 * size));
  } else if (dtype === "F16") {
    for (let i = 0; i < size; i++) out[i] = f16ToF32(dv.getUint16(at + 2 * i, true));
  } else {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < size; i++) u[i] = dv.getUint16(at + 2 * i, true) << 16;
  }
  return out;
}

/**
 * Encodes tensors as a safetensors file in `dtype`, in the given order. Throws a RangeError naming the tensor when
 * a finite value does not fit in F16 (beyond ±65504 it would become infinity); BF16 has f32's range.
 */
export function encodeSafetensors(
  tensors: readonly TensorToWrite[],
  dtype: SafetensorsDType,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new RangeError(`safetensors: "${t.name}" has ${t.data.length} values for ${t.shape}`);
    }
    if (seen.has(t.name)) throw new Error(`safetensors: duplicate tensor name "${t.name}"`);
    seen.add(t.name);
    const bytes = size * BYTES[dtype];
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors) {
    if (dtype === "F32") {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
      at += t.data.byteLength;
    } else {
      const enc = dtype === "F16" ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < t.data.length; i++, at += 2) {
        const h = enc(t.data[i]);
        if (dtype === "F16" && (h & 0x7fff) === 0x7c00 && Number.isFinite(t.data[i])) {
          throw new RangeError(
            `safetensors: "${t.name}"[${i}] = ${
              t.data[i]
            } overflows float16 (largest 65504); save as bf16 or f32`,
          );
        }
        dv.setUint16(at, h, true);
      }
    }
  }
  return out;
}

/** Number to bfloat16 bits (round to nearest even). */
export function f32ToBf16(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
