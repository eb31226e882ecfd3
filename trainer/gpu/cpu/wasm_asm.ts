/**
 * A small WebAssembly assembler for the CPU backend's kernels: LEB128 encodings, the opcodes the kernels use,
 * structured-control helpers and a module builder (one imported memory, exported functions). Kernels are
 * written as arrays of bytes built from these helpers; there is no toolchain and no file on disk.
 *
 * @module
 */

/** Bytes of WebAssembly code. */
export type Code = number[];

/** Value types. */
export const I32 = 0x7f, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;

/** Unsigned LEB128. */
export function uleb(n: number): Code {
  const out: Code = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): Code {
  const out: Code = [];
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const SIMD = 0xfd;
const simd = (op: number): Code => [SIMD, ...uleb(op)];
const memarg = (offset: number): Code => [0, ...uleb(offset)];

/** `local.get`. */
export const get = (i: number): Code => [0x20, ...uleb(i)];
/** `local.set` of the value computed by `value`. */
export const set = (i: number, ...value: Code[]): Code => [...value.flat(), 0x21, ...uleb(i)];
/** `i32.const`. */
export const i32 = (n: number): Code => [0x41, ...sleb(n)];
/** `f32.const`. */
export function f32(x: number): Code {
  const bytes = new Uint8Array(new Float32Array([x]).buffer);
  return [0x43, ...bytes];
}
/** A binary i32 operation on two operand expressions. */
const bin = (op: number) => (a: Code, b: Code): Code => [...a, ...b, op];
/** i32 arithmetic and comparisons (signed comparisons: every quantity the kernels compare is below 2^31). */
export const add = bin(0x6a), sub = bin(0x6b), mul = bin(0x6c);
export const lt = bin(0x48), le = bin(0x4c), eq = bin(0x46);
/** i32 logical and. */
export const and = bin(0x71);
/** `local += by` (i32). */
export const inc = (i: number, by: Code | number): Code =>
  set(i, add(get(i), typeof by === "number" ? i32(by) : by));

/** `f32.load` at `addr + offset`. */
export const f32Load = (addr: Code, offset = 0): Code => [...addr, 0x2a, ...memarg(offset)];
/** `f32.store` of `value` at `addr + offset`. */
export const f32Store = (
  addr: Code,
  value: Code,
  offset = 0,
): Code => [...addr, ...value, 0x38, ...memarg(offset)];
/** `i32.load` at `addr + offset`. */
export const i32Load = (addr: Code, offset = 0): Code => [...addr, 0x28, ...memarg(offset)];
/** `v128.load` at `addr + offset`. */
export const vLoad = (addr: Code, offset = 0): Code => [...addr, ...simd(0x00), ...memarg(offset)];
/** `v128.load32_splat`: one f32 broadcast to four lanes. */
export const vLoadSplat = (addr: Code, offset = 0): Code => [...addr, ...simd(0x09), ...memarg(offset)];
/** `v128.store` of `value` at `addr + offset`. */
export const vStore = (addr: Code, value: Code, offset = 0): Code => [
  ...addr,
  ...value,
  ...simd(0x0b),
  ...memarg(offset),
];
/** `v128.store32_lane`: lane `lane` (0-3) of `value` as one f32 at `addr + offset`. */
export const vStore32Lane = (addr: Code, value: Code, lane: number, offset = 0): Code => [
  ...addr,
  ...value,
  ...simd(0x5a),
  ...memarg(offset),
  lane,
];
/** `f32x4.splat`. */
export const splat = (x: Code): Code => [...x, ...simd(0x13)];
/** `v128.const` with `x` in all four f32 lanes. */
export function vConst(x: number): Code {
  const bytes = new Uint8Array(new Float32Array([x, x, x, x]).buffer);
  return [...simd(0x0c), ...bytes];
}
/** `v128.const` with `n` in all four i32 lanes. */
export function vConstI32(n: number): Code {
  const bytes = new Uint8Array(new Int32Array([n, n, n, n]).buffer);
  return [...simd(0x0c), ...bytes];
}
/** `v128.const` of zeros. */
export const vZero: Code = [...simd(0x0c), ...new Array(16).fill(0)];
/** f32x4 arithmetic. */
export const vAdd = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe4)];
export const vSub = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe5)];
export const vMul = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe6)];
export const vMax = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe9)];
export const vDiv = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe7)];
/** `f32x4.pmin`: `b < a ? b : a` per lane (one instruction on x64, where `f32x4.min` takes several for NaN and -0). */
export const vPmin = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xea)];
/** `f32x4.pmax`: `a < b ? b : a` per lane. */
export const vPmax = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xeb)];
export const vNeg = (a: Code): Code => [...a, ...simd(0xe1)];
/** f32x4.nearest (round half to even). */
export const vNearest = (a: Code): Code => [...a, ...simd(0x6a)];
/** i32x4.trunc_sat_f32x4_s. */
export const vToInt = (a: Code): Code => [...a, ...simd(0xf8)];
/** i32x4 add and shift left. */
export const iAdd4 = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xae)];
export const iShl4 = (a: Code, by: Code): Code => [...a, ...by, ...simd(0xab)];
/** `f32x4.relaxed_madd(a, b, c) = a * b + c` (fused or not, at the runtime's choice). */
export const vMaddRelaxed = (a: Code, b: Code, c: Code): Code => [...a, ...b, ...c, ...simd(0x105)];
/** `a * b + c` as a separate multiply and add. */
export const vMaddPlain = (a: Code, b: Code, c: Code): Code => vAdd(vMul(a, b), c);
/** Sum of the four lanes of an f32x4 (as an f32). */
export function vHsum(v: Code): Code {
  const lane = (i: number): Code => [...simd(0x1f), i]; // f32x4.extract_lane
  return [...v, ...lane(0), ...v, ...lane(1), 0x92, ...v, ...lane(2), ...v, ...lane(3), 0x92, 0x92];
}
/** f32 arithmetic. */
export const fAdd = (a: Code, b: Code): Code => [...a, ...b, 0x92];
export const fMul = (a: Code, b: Code): Code => [...a, ...b, 0x94];
export const fDiv = (a: Code, b: Code): Code => [...a, ...b, 0x95];
export const fSqrt = (a: Code): Code => [...a, 0x91];
/** `f32.convert_i32_s`. */
export const i32ToF32 = (a: Code): Code => [...a, 0xb2];

/** f64 arithmetic, and conversions between f32 and f64. */
export const dAdd = (a: Code, b: Code): Code => [...a, ...b, 0xa0];
export const dSub = (a: Code, b: Code): Code => [...a, ...b, 0xa1];
export const dMul = (a: Code, b: Code): Code => [...a, ...b, 0xa2];
export const promote = (a: Code): Code => [...a, 0xbb];
export const demote = (a: Code): Code => [...a, 0xb6];
/** `f64.const`. */
export function f64(x: number): Code {
  return [0x44, ...new Uint8Array(new Float64Array([x]).buffer)];
}

/** `i8x16.shuffle` of two vectors by 16 byte indices (0-15 from `a`, 16-31 from `b`). */
export const vShuffle = (
  a: Code,
  b: Code,
  bytes: number[],
): Code => [...a, ...b, SIMD, ...uleb(0x0d), ...bytes];
/** The byte indices of `vShuffle` that pick f32 lanes (0-3 from `a`, 4-7 from `b`). */
export const lanes = (...l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);

/** `call` of function `index` of the module (the position in `buildModule`'s list) with argument expressions. */
export const call = (index: number, ...args: Code[]): Code => [...args.flat(), 0x10, ...uleb(index)];

/** `if (cond) { then } else { other }` as a statement. */
export const ifElse = (cond: Code, then: Code, other: Code = []): Code => [
  ...cond,
  0x04,
  0x40,
  ...then,
  ...(other.length ? [0x05, ...other] : []),
  0x0b,
];
/** `cond ? a : b` yielding an f32, evaluating only the chosen side. */
export const ifF32 = (cond: Code, a: Code, b: Code): Code => [...cond, 0x04, F32, ...a, 0x05, ...b, 0x0b];

/** `for (local = from; local < to; local += step) body` (signed comparison, `to` re-evaluated each pass). */
export function forLoop(local: number, from: Code, to: Code, step: Code | number, body: Code): Code {
  return [
    ...set(local, from),
    0x02,
    0x40, // block
    0x03,
    0x40, // loop
    ...lt(get(local), to),
    0x45, // i32.eqz
    0x0d,
    1, // br_if out of the block
    ...body,
    ...inc(local, step),
    0x0c,
    0, // br to the loop head
    0x0b,
    0x0b,
  ];
}

/** `do { body } while (cond)`. */
export const doWhile = (body: Code, cond: Code): Code => [0x03, 0x40, ...body, ...cond, 0x0d, 0, 0x0b];

/** One function of a module. */
export interface Func {
  name: string;
  params: number[];
  /** Types of the extra locals, numbered after the parameters. */
  locals: number[];
  body: Code;
}

function section(id: number, body: Code): Code {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: Code[]): Code {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): Code {
  const bytes = new TextEncoder().encode(s);
  return [...uleb(bytes.length), ...bytes];
}

/**
 * A module importing `env.mem` (a shared memory of at most 4 GiB when `shared`) and exporting it again as `mem`
 * with `funcs`, none of which returns a value.
 */
export function buildModule(funcs: Func[], shared: boolean): Uint8Array<ArrayBuffer> {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const imports = [1, ...name("env"), ...name("mem"), 0x02, ...limits];
  const exports = [...funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]), [...name("mem"), 0x02, 0]];
  const bodies = funcs.map((f) => {
    const groups = f.locals.map((t) => [1, t]);
    const body = [...vec(groups), ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
}
