/**
 * The CPU backend's WebAssembly SIMD kernels, assembled at load time with `wasm_asm.ts`:
 *
 * - `pack_a` / `pack_b` copy a block of `op(A)` / `op(B)` (any strides, so every transpose variant) into the
 *   layouts the micro-kernel streams: A as row panels of {@linkcode MR} rows (`[panel][p][MR]`), B as column
 *   panels of {@linkcode NR} columns (`[panel][p][NR]`), zero-padded past the valid rows and columns.
 * - `macro` multiplies a packed A block by a packed B block into `C` (row stride `ldc` bytes): for every
 *   `MR x NR` output tile, `MR * NR / 4` f32x4 accumulators stay in locals over the whole reduction, each step
 *   loading `NR / 4` vectors of B and broadcasting `MR` scalars of A. It stores `alpha * acc`, or adds it to C.
 *   `macro_r1` .. `macro_r4` compute only the first 1-4 rows of each panel (one or two rows over several column
 *   panels at a time, for enough independent accumulators): a product with fewer rows than a panel (a decoding
 *   step's few sequences) costs its own rows only, in the same multiply-add order as `macro`, so a row's result
 *   never depends on how many rows share the call.
 * - `dots`, `wsum`, `rows_max`, `rows_exp`: the rows of a softmax attention (scores, maximum, exponentials,
 *   weighted sum of values), and `attn_rows`, which runs them over a head's query rows for cached decoding.
 * - `dots_seq`, `attn_stats`, `attn_out`, `attn_back_block`: the training attention's row kernels for small
 *   heads, whose arithmetic is the blocked path's to the bit (see the comment above `dots_seq`).
 *
 * The multiply-add is `f32x4.relaxed_madd` (one fused instruction on CPUs with FMA) where the runtime validates
 * relaxed SIMD, else a multiply and an add. The module imports its memory, so worker threads instantiate the
 * same code over one shared memory (`pool.ts`).
 *
 * @module
 */

import {
  add,
  and,
  buildModule,
  call,
  type Code,
  dAdd,
  demote,
  dMul,
  doWhile,
  dSub,
  eq,
  F32,
  f32,
  f32Load,
  f32Store,
  F64,
  f64,
  fAdd,
  fDiv,
  fMul,
  forLoop,
  fSqrt,
  type Func,
  get,
  I32,
  i32,
  i32Load,
  i32ToF32,
  iAdd4,
  ifElse,
  ifF32,
  inc,
  iShl4,
  lanes,
  le,
  lt,
  mul,
  promote,
  set,
  splat,
  sub,
  V128,
  vAdd,
  vConst,
  vConstI32,
  vDiv,
  vHsum,
  vLoad,
  vLoadSplat,
  vMaddPlain,
  vMaddRelaxed,
  vMax,
  vMul,
  vNearest,
  vNeg,
  vPmax,
  vPmin,
  vShuffle,
  vStore,
  vStore32Lane,
  vSub,
  vToInt,
  vZero,
} from "./wasm_asm.ts";

/**
 * Rows of one micro-kernel tile. Five, not six: the runtime checks the bounds of every WebAssembly load with
 * explicit instructions, so the kernel takes rows 0-3 of a step's A from one vector load (broadcast by
 * shuffles) and only row 4 by a load of its own; a sixth row would need more vector registers than x64 has.
 */
export const MR = 5;
/** Rows of a micro-kernel step broadcast from one vector load of packed A. */
const SHUFFLED_ROWS = 4;
/** Columns of one micro-kernel tile (two f32x4 vectors). */
export const NR = 8;
/**
 * Column panels that `macro_r<rows>` multiplies at a time, by rows: one or two rows of one panel leave two or
 * four chains of multiply-adds, too few to hide their latency, so those kernels keep eight accumulators busy
 * over several panels.
 */
const NARROW_PANELS: Record<number, number> = { 1: 4, 2: 2, 3: 1, 4: 1 };
const NV = NR / 4;

// Transposes the 4 x 4 block whose rows are the vectors `rows(0..3)`, through the temporaries t0..t0+3, and
// hands each column to `store(q, column)`: column q holds lane q of the four rows.
function transpose4x4(rows: (i: number) => Code, t0: number, store: (q: number, column: Code) => Code): Code {
  return [
    ...set(t0, vShuffle(rows(0), rows(1), lanes(0, 4, 1, 5))),
    ...set(t0 + 1, vShuffle(rows(0), rows(1), lanes(2, 6, 3, 7))),
    ...set(t0 + 2, vShuffle(rows(2), rows(3), lanes(0, 4, 1, 5))),
    ...set(t0 + 3, vShuffle(rows(2), rows(3), lanes(2, 6, 3, 7))),
    ...[[0, 2, 0], [0, 2, 1], [1, 3, 0], [1, 3, 1]].flatMap(([a, b, hi], q) =>
      store(q, vShuffle(get(t0 + a), get(t0 + b), hi ? lanes(2, 3, 6, 7) : lanes(0, 1, 4, 5)))
    ),
  ];
}

// pack_a(src, si, sp, dst, mcv, mcp, kc): dst[ir/MR][p][r] = A(ir + r, p) = f32[src + (ir+r)*si + p*sp], or 0
// for rows >= mcv; ir < mcp (a multiple of MR), p < kc. Strides in bytes. Whole panels of a row-major A (sp = 4)
// go four steps at a time: rows 0-3 turned with a 4 x 4 shuffle transpose, row 4 stored a lane at a time.
function packA(): Func {
  if (MR !== 5) throw new Error("simd: pack_a's vector path is written for 5-row panels");
  const [src, si, sp, dst, mcv, mcp, kc, ir, p, po] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const v0 = 10, t0 = v0 + MR; // MR row vectors, then 4 shuffle temporaries
  const row = (r: number): Code =>
    f32Store(
      get(dst),
      ifF32(lt(add(get(ir), i32(r)), get(mcv)), f32Load(add(get(po), mul(get(si), i32(r)))), f32(0)),
      4 * r,
    );
  const perP = [
    ...Array.from({ length: MR }, (_, r) => row(r)).flat(),
    ...inc(dst, 4 * MR),
    ...inc(po, get(sp)),
  ];
  const v = (r: number) => get(v0 + r);
  const fourP = [
    ...Array.from({ length: MR }, (_, r) => set(v0 + r, vLoad(add(get(po), mul(get(si), i32(r)))))).flat(),
    ...transpose4x4(v, t0, (q, column) => vStore(get(dst), column, q * 4 * MR)),
    ...[0, 1, 2, 3].flatMap((q) => vStore32Lane(get(dst), v(4), q, q * 4 * MR + 16)),
    ...inc(dst, 4 * 4 * MR),
    ...inc(po, 16),
  ];
  const body = forLoop(ir, i32(0), get(mcp), MR, [
    ...set(po, add(get(src), mul(get(ir), get(si)))),
    ...ifElse(
      and(eq(get(sp), i32(4)), le(add(get(ir), i32(MR)), get(mcv))),
      [
        ...forLoop(p, i32(0), and(get(kc), i32(-4)), 4, fourP),
        ...forLoop(p, get(p), get(kc), 1, perP),
      ],
      forLoop(p, i32(0), get(kc), 1, perP),
    ),
  ]);
  return {
    name: "pack_a",
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, ...new Array(MR + 4).fill(V128)],
    body,
  };
}

// pack_b(src, sp, sj, dst, kc, ncv, ncp): dst[jr/NR][p][c] = B(p, jr + c) = f32[src + p*sp + (jr+c)*sj], or 0
// for columns >= ncv. Whole panels of a row-major B (sj = 4) are copied a vector at a time; whole panels of a
// transposed one (sp = 4: the weights of `x @ W^T`) four steps at a time, each column's 4 x 4 blocks turned with
// shuffles.
function packB(): Func {
  const [src, sp, sj, dst, kc, ncv, ncp, jr, p, po] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const v0 = 10, t0 = v0 + NR; // NR column vectors, then 4 shuffle temporaries
  const col = (c: number): Code =>
    f32Store(
      get(dst),
      ifF32(lt(add(get(jr), i32(c)), get(ncv)), f32Load(add(get(po), mul(get(sj), i32(c)))), f32(0)),
      4 * c,
    );
  const scalarP = [
    ...Array.from({ length: NR }, (_, c) => col(c)).flat(),
    ...inc(dst, 4 * NR),
    ...inc(po, get(sp)),
  ];
  const vectorP = [
    ...Array.from({ length: NV }, (_, v) => vStore(get(dst), vLoad(get(po), 16 * v), 16 * v)).flat(),
    ...inc(dst, 4 * NR),
    ...inc(po, get(sp)),
  ];
  // Four steps of NR columns of a transposed B: load B(p..p+3, jr+c) per column c, transpose each group of four
  // columns, store rows p..p+3 of the panel.
  const transpose4 = (g: number): Code => {
    const v = (c: number) => get(v0 + 4 * g + c);
    return transpose4x4(v, t0, (q, column) => vStore(get(dst), column, q * 4 * NR + 16 * g));
  };
  const transposedP = [
    ...Array.from({ length: NR }, (_, c) => set(v0 + c, vLoad(add(get(po), mul(get(sj), i32(c)))))).flat(),
    ...Array.from({ length: NV }, (_, g) => transpose4(g)).flat(),
    ...inc(dst, 4 * 4 * NR),
    ...inc(po, 16),
  ];
  const whole = le(add(get(jr), i32(NR)), get(ncv));
  const body = forLoop(jr, i32(0), get(ncp), NR, [
    ...set(po, add(get(src), mul(get(jr), get(sj)))),
    ...ifElse(
      and(eq(get(sj), i32(4)), whole),
      forLoop(p, i32(0), get(kc), 1, vectorP),
      ifElse(
        and(eq(get(sp), i32(4)), whole),
        [
          ...forLoop(p, i32(0), and(get(kc), i32(-4)), 4, transposedP),
          ...forLoop(p, get(p), get(kc), 1, scalarP),
        ],
        forLoop(p, i32(0), get(kc), 1, scalarP),
      ),
    ),
  ]);
  return {
    name: "pack_b",
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, ...new Array(NR + 4).fill(V128)],
    body,
  };
}

// macro(ap0, bp0, c, ldc, mcp, ncp, kc, alpha, accumulate): C[ir + r, jr + c] (=|+=) alpha * sum_p
// Apack[ir/MR][p][r] * Bpack[jr/NR][p][c] for every MR x NR tile of the mcp x ncp block; kc >= 1. With `rows`
// below MR (macro_r<rows>), only rows r < rows of each tile are computed and stored, over `NARROW_PANELS[rows]`
// column panels at a time (the panels left over one at a time).
function macro(relaxed: boolean, rows = MR): Func {
  const panels = rows === MR ? 1 : NARROW_PANELS[rows];
  const [ap0, bp0, c, ldc, mcp, ncp, kc, alpha, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [jr, ir, ap, aend, cp, bpan, bpanBytes, ncpWide] = [9, 10, 11, 12, 13, 14, 15, 16];
  const bp = (q: number) => 17 + q; // panel q's packed B
  const alphaV = 17 + panels, av = alphaV + 1, aRows = av + 1, bv0 = aRows + 1, acc0 = bv0 + NV;
  const acc = (q: number, r: number, v: number) => acc0 + (q * rows + r) * NV + v;
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  // A(r, step u) broadcast to four lanes: a shuffle of the step's first four rows, or a load of its own.
  const broadcastA = (r: number, u: number): Code =>
    r < SHUFFLED_ROWS
      ? vShuffle(get(aRows), get(aRows), lanes(r, r, r, r))
      : vLoadSplat(get(ap), 4 * r + 4 * MR * u);
  // Reduction step `u` of a pass over `width` panels (operands at offsets from ap and the bp, which the pass
  // advances afterwards). Every accumulator takes the same multiply-adds in the same order whatever the width.
  const step = (u: number, width: number): Code =>
    Array.from({ length: width }, (_, q) => [
      ...Array.from({ length: NV }, (_, v) => set(bv0 + v, vLoad(get(bp(q)), 16 * v + 4 * NR * u))).flat(),
      ...(q === 0 ? set(aRows, vLoad(get(ap), 4 * MR * u)) : []),
      ...Array.from({ length: rows }, (_, r) => [
        ...set(av, broadcastA(r, u)),
        ...Array.from({ length: NV }, (_, v) =>
          set(acc(q, r, v), madd(get(av), get(bv0 + v), get(acc(q, r, v)))))
          .flat(),
      ]).flat(),
    ]).flat();
  const pass = (steps: number, width: number): Code => [
    ...Array.from({ length: steps }, (_, u) => step(u, width)).flat(),
    ...inc(ap, 4 * MR * steps),
    ...Array.from({ length: width }, (_, q) => inc(bp(q), 4 * NR * steps)).flat(),
  ];
  const store = (accumulate: boolean, width: number): Code =>
    Array.from({ length: width }, (_, q) => [
      ...set(cp, add(add(get(c), mul(get(ir), get(ldc))), mul(add(get(jr), i32(q * NR)), i32(4)))),
      ...Array.from({ length: rows }, (_, r) => [
        ...Array.from({ length: NV }, (_, v) => {
          const scaled = vMul(get(acc(q, r, v)), get(alphaV));
          return vStore(get(cp), accumulate ? vAdd(vLoad(get(cp), 16 * v), scaled) : scaled, 16 * v);
        }).flat(),
        ...inc(cp, get(ldc)),
      ]).flat(),
    ]).flat();
  const tile = (width: number): Code => [
    ...Array.from({ length: width * rows * NV }, (_, i) => set(acc0 + i, vZero)).flat(),
    ...Array.from({ length: width }, (_, q) => set(bp(q), add(get(bpan), mul(get(bpanBytes), i32(q)))))
      .flat(),
    ...set(aend, add(get(ap), mul(get(kc), i32(4 * MR)))),
    // kc mod 4 steps first, then four per pass (same order of multiply-adds, a quarter of the loop overhead).
    ...ifElse(and(get(kc), i32(1)), pass(1, width)),
    ...ifElse(and(get(kc), i32(2)), pass(2, width)),
    ...ifElse(lt(get(ap), get(aend)), doWhile(pass(4, width), lt(get(ap), get(aend)))),
    ...ifElse(get(accumulate), store(true, width), store(false, width)),
  ];
  // Column panels `width` at a time from `from` to `to`: every row panel against them.
  const columns = (from: Code, to: Code, width: number): Code =>
    forLoop(jr, from, to, NR * width, [
      ...set(ap, get(ap0)),
      ...forLoop(ir, i32(0), get(mcp), MR, tile(width)),
      ...inc(bpan, mul(get(bpanBytes), i32(width))),
    ]);
  const body: Code = [
    ...set(alphaV, splat(get(alpha))),
    ...set(bpanBytes, mul(get(kc), i32(4 * NR))),
    ...set(bpan, get(bp0)),
    ...(panels === 1 ? columns(i32(0), get(ncp), 1) : [
      ...set(ncpWide, and(get(ncp), i32(-NR * panels))), // NR * panels is a power of two
      ...columns(i32(0), get(ncpWide), panels),
      ...columns(get(ncpWide), get(ncp), 1),
    ]),
  ];
  return {
    name: rows === MR ? "macro" : `macro_r${rows}`,
    params: [I32, I32, I32, I32, I32, I32, I32, F32, I32],
    locals: [
      ...new Array(8 + panels).fill(I32),
      V128,
      V128,
      V128,
      ...new Array(NV + panels * rows * NV).fill(V128),
    ],
    body,
  };
}

// The constants of `vExp` (and 1, which its callers add), set once into locals before a kernel's loop:
// `v128.const` inside a loop is materialised on every pass, which made the exp loops twice as slow.
const EXP_CONSTANTS = [
  88.3762626647949,
  -87.3365478515625,
  1.44269504088896341,
  0.693359375,
  -2.12194440e-4,
  1.9875691500e-4,
  1.3981999507e-3,
  8.3334519073e-3,
  4.1665795894e-2,
  1.6666665459e-1,
  5.0000001201e-1,
  1,
];
/** Locals (v128) the constants of `vExp` take: the f32 ones and the exponent bias 127 as i32. */
const EXP_LOCALS = EXP_CONSTANTS.length + 1;
/** Sets the constant locals of `vExp` from local `base` on. */
const expConstants = (base: number): Code => [
  ...EXP_CONSTANTS.flatMap((k, j) => set(base + j, vConst(k))),
  ...set(base + EXP_CONSTANTS.length, vConstI32(127)),
];
/** The local holding constant `k` of {@linkcode EXP_CONSTANTS} (set by `expConstants(base)`). */
const expConst = (base: number, k: number): Code => get(base + EXP_CONSTANTS.indexOf(k));

// exp(x) per lane in f32 (Cephes expf: x = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial in r, times 2^n built
// in the exponent bits); about 1 ulp. x is clamped to [-87.3, 88.4] (pmin/pmax: NaN passes through, as with
// min/max), so the result stays a normal float. `x` must be a local: it is read several times. `k` is the first
// of the constant locals (`expConstants`).
function vExp(x: number, t: number, n: number, k: number): Code {
  const c = (v: number) => expConst(k, v);
  const clamped = set(x, vPmax(vPmin(get(x), c(88.3762626647949)), c(-87.3365478515625)));
  const nn = set(n, vNearest(vMul(get(x), c(1.44269504088896341))));
  const r = set(t, vSub(vSub(get(x), vMul(get(n), c(0.693359375))), vMul(get(n), c(-2.12194440e-4))));
  let poly = c(1.9875691500e-4);
  for (const q of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) {
    poly = vAdd(vMul(poly, get(t)), c(q));
  }
  const p = vAdd(vAdd(vMul(vMul(poly, get(t)), get(t)), get(t)), c(1));
  const pow2 = iShl4(iAdd4(vToInt(get(n)), get(k + EXP_CONSTANTS.length)), i32(23));
  return [...clamped, ...nn, ...r, ...vMul(p, pow2)];
}

/** Elementwise kernels: each is exported as `ew<index>`. */
export const ELEMENTWISE = { swigluForward: 0, swigluBackward: 1 } as const;

// An elementwise kernel over `count` floats, four at a time (count is rounded up to a multiple of 4: the
// buffers are padded): parameters p0..p4 (byte pointers), count; `step(i, l, k)` is the body for byte offset
// local i, with v128 locals l(0..locals) and the constant locals of `vExp` from k on.
function elementwise(
  name: string,
  locals: number,
  step: (i: number, l: (k: number) => number, k: number) => Code,
): Func {
  const [count, i] = [5, 6];
  const l = (k: number) => 7 + k;
  return {
    name,
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, ...new Array(locals + EXP_LOCALS).fill(V128)],
    body: [
      ...expConstants(l(locals)),
      ...forLoop(i, i32(0), mul(get(count), i32(4)), 16, step(i, l, l(locals))),
    ],
  };
}

const at = (p: number, i: number): Code => add(get(p), get(i));

// out = g / (1 + exp(-g)) * up (as kernels.ts computes it, in f32).
function swigluForward(): Func {
  return elementwise(`ew${ELEMENTWISE.swigluForward}`, 4, (i, l, k) => [
    ...set(l(0), vLoad(at(0, i))),
    ...set(l(1), vNeg(get(l(0)))),
    ...vExp(l(1), l(2), l(3), k),
    ...set(l(1)),
    ...vStore(at(2, i), vMul(vDiv(get(l(0)), vAdd(expConst(k, 1), get(l(1)))), vLoad(at(1, i)))),
  ]);
}

// s = 1 / (1 + exp(-g)); dUp = dOut * g * s; dGate = dOut * up * s * (1 + g * (1 - s)).
function swigluBackward(): Func {
  return elementwise(`ew${ELEMENTWISE.swigluBackward}`, 5, (i, l, k) => {
    const one = expConst(k, 1);
    return [
      ...set(l(0), vLoad(at(0, i))),
      ...set(l(1), vNeg(get(l(0)))),
      ...vExp(l(1), l(2), l(3), k),
      ...set(l(1)),
      ...set(l(1), vDiv(one, vAdd(one, get(l(1))))),
      ...set(l(4), vLoad(at(2, i))),
      ...vStore(at(4, i), vMul(vMul(get(l(4)), get(l(0))), get(l(1)))),
      ...vStore(
        at(3, i),
        vMul(
          vMul(vMul(get(l(4)), vLoad(at(1, i))), get(l(1))),
          vAdd(one, vMul(get(l(0)), vSub(one, get(l(1))))),
        ),
      ),
    ];
  });
}

/**
 * Row kernels: each is exported as `rk<index>` with parameters (p0..p4, r0, r1, dim, aux, param): byte pointers,
 * the rows [r0, r1) to process, the row width `dim` (a multiple of 4), an i32 and an f32 parameter. Kernels whose
 * rows are independent may be split across threads; the column sums run as one call over all rows, so that each
 * column adds its rows in order whatever the thread count.
 */
export const ROW_KERNELS = {
  /** x, weight, out, rstd; param eps: RMSNorm forward. */
  rmsNormForward: 0,
  /** x, weight, rstd, dOut, dx: dx += RMSNorm's input gradient. */
  rmsNormDx: 1,
  /** x, rstd, dOut, dWeight: dWeight += sum_r dOut * x * rstd (column sums). */
  rmsNormDWeight: 2,
  /** x, bias: x[r] += bias. */
  addBias: 3,
  /** dOut, dBias: dBias += sum_r dOut[r] (column sums). */
  columnSums: 4,
  /** x, positions, cos, sin; dim = heads, aux = head width, param = +1 or -1 (inverse): rotary embedding. */
  rope: 5,
  /** logits, stats: per row the maximum m, sum_v e_v and sum_v e_v z_v with e_v = exp(z_v - m) (3 floats). */
  softmaxStats: 6,
  /** logits, lse, coeffs: z_v = -coeffs[r] * exp(z_v - lse[r]) in place (the LM head's dLogits but the target). */
  softmaxGrad: 7,
} as const;

// The parameters of a row kernel, and its body over row r (the loop and the locals r, rb (= r * dim * 4), db
// (= dim * 4) and c are the wrapper's; `l(k)` are the kernel's extra locals, numbered from 0).
const [R0, R1, DIM, AUX, PARAM] = [5, 6, 7, 8, 9];
const [ROW, RB, DB, COL] = [10, 11, 12, 13];
function rowKernel(
  index: number,
  extra: number[],
  perRow: (l: (k: number) => number) => Code,
  dimBytes: Code = mul(get(DIM), i32(4)),
  prologue: (l: (k: number) => number) => Code = () => [],
): Func {
  return {
    name: `rk${index}`,
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, F32],
    locals: [I32, I32, I32, I32, ...extra],
    body: [
      ...prologue((k) => 14 + k),
      ...set(DB, dimBytes),
      ...forLoop(ROW, get(R0), get(R1), 1, [...set(RB, mul(get(ROW), get(DB))), ...perRow((k) => 14 + k)]),
    ],
  };
}
const ptr = (q: number): Code => get(q);
const rowAt = (q: number): Code => add(get(q), get(RB));
const perColumn = (body: Code): Code => forLoop(COL, i32(0), get(DB), 16, body);
const colOf = (q: number): Code => add(get(q), get(COL));
const rowCol = (q: number): Code => add(rowAt(q), get(COL));

// out = weight * (x * s), s = 1 / sqrt(mean(x^2) + eps), rstd[r] = s (sums of squares in f32, four lanes).
function rmsNormForwardRows(relaxed: boolean): Func {
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  return rowKernel(ROW_KERNELS.rmsNormForward, [V128, F32], (l) => [
    ...set(l(0), vZero),
    ...perColumn(set(l(0), madd(vLoad(rowCol(0)), vLoad(rowCol(0)), get(l(0))))),
    ...set(l(1), fDiv(f32(1), fSqrt(fAdd(fDiv(vHsum(get(l(0))), i32ToF32(get(DIM))), get(PARAM))))),
    ...f32Store(add(ptr(3), mul(get(ROW), i32(4))), get(l(1))),
    ...set(l(0), splat(get(l(1)))),
    ...perColumn(vStore(rowCol(2), vMul(vLoad(colOf(1)), vMul(vLoad(rowCol(0)), get(l(0)))))),
  ]);
}

// dx += s * (dOut * w - x * s * dot), dot = s * sum(dOut * w * x) / dim.
function rmsNormDxRows(relaxed: boolean): Func {
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  const [acc, sv, dv, sf] = [0, 1, 2, 3];
  return rowKernel(ROW_KERNELS.rmsNormDx, [V128, V128, V128, F32], (l) => [
    ...set(l(sf), f32Load(add(ptr(2), mul(get(ROW), i32(4))))),
    ...set(l(acc), vZero),
    ...perColumn(set(l(acc), madd(vMul(vLoad(rowCol(3)), vLoad(colOf(1))), vLoad(rowCol(0)), get(l(acc))))),
    ...set(l(dv), splat(fDiv(fMul(vHsum(get(l(acc))), get(l(sf))), i32ToF32(get(DIM))))),
    ...set(l(sv), splat(get(l(sf)))),
    ...perColumn(vStore(
      rowCol(4),
      vAdd(
        vLoad(rowCol(4)),
        vMul(
          get(l(sv)),
          vSub(vMul(vLoad(rowCol(3)), vLoad(colOf(1))), vMul(vMul(vLoad(rowCol(0)), get(l(sv))), get(l(dv)))),
        ),
      ),
    )),
  ]);
}

// dWeight[c] += dOut[r][c] * (x[r][c] * s_r), rows in order.
function rmsNormDWeightRows(relaxed: boolean): Func {
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  return rowKernel(ROW_KERNELS.rmsNormDWeight, [V128], (l) => [
    ...set(l(0), vLoadSplat(add(ptr(1), mul(get(ROW), i32(4))))),
    ...perColumn(
      vStore(colOf(3), madd(vLoad(rowCol(2)), vMul(vLoad(rowCol(0)), get(l(0))), vLoad(colOf(3)))),
    ),
  ]);
}

function addBiasRows(): Func {
  return rowKernel(
    ROW_KERNELS.addBias,
    [],
    () => perColumn(vStore(rowCol(0), vAdd(vLoad(rowCol(0)), vLoad(colOf(1))))),
  );
}

function columnSumsRows(): Func {
  return rowKernel(
    ROW_KERNELS.columnSums,
    [],
    () => perColumn(vStore(colOf(1), vAdd(vLoad(colOf(1)), vLoad(rowCol(0))))),
  );
}

// Rotary embedding of row r's `heads` heads of `aux` floats (rotate_half layout): with c, s the row's cos and sin
// (rows of aux / 2 in the tables, at the row's position), x1' = x1 c - x2 (sign s), x2' = x2 c + x1 (sign s).
function ropeRows(): Func {
  const [h, head, cb, sb, hb, x1, x2, cv, sv, sign] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return rowKernel(ROW_KERNELS.rope, [I32, I32, I32, I32, I32, V128, V128, V128, V128, V128], (l) => [
    ...set(l(hb), mul(get(AUX), i32(2))), // half a head in bytes
    ...set(l(cb), add(ptr(2), mul(i32Load(add(ptr(1), mul(get(ROW), i32(4)))), get(l(hb))))),
    ...set(l(sb), add(ptr(3), sub(get(l(cb)), ptr(2)))),
    ...set(l(sign), splat(get(PARAM))),
    ...set(l(head), rowAt(0)),
    ...forLoop(l(h), i32(0), get(DIM), 1, [
      ...forLoop(COL, i32(0), get(l(hb)), 16, [
        ...set(l(x1), vLoad(add(get(l(head)), get(COL)))),
        ...set(l(x2), vLoad(add(add(get(l(head)), get(l(hb))), get(COL)))),
        ...set(l(cv), vLoad(add(get(l(cb)), get(COL)))),
        ...set(l(sv), vMul(vLoad(add(get(l(sb)), get(COL))), get(l(sign)))),
        ...vStore(
          add(get(l(head)), get(COL)),
          vSub(vMul(get(l(x1)), get(l(cv))), vMul(get(l(x2)), get(l(sv)))),
        ),
        ...vStore(
          add(add(get(l(head)), get(l(hb))), get(COL)),
          vAdd(vMul(get(l(x2)), get(l(cv))), vMul(get(l(x1)), get(l(sv)))),
        ),
      ]),
      ...inc(l(head), mul(get(l(hb)), i32(2))),
    ]),
  ], mul(mul(get(DIM), get(AUX)), i32(4)));
}

// Per row of logits z: m = max z, then sums of e = exp(z - m) and of e z (f32, four lanes), to stats[3r..3r+2].
function softmaxStatsRows(relaxed: boolean): Func {
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  const [mv, sum, zsum, x, t, n, z, k] = [0, 1, 2, 3, 4, 5, 6, 7];
  const lane = (v: number, i: number): Code => [...get(v), 0xfd, 0x1f, i];
  const fmax = (a: Code, b: Code): Code => [...a, ...b, 0x97];
  const out: Code = add(ptr(1), mul(get(ROW), i32(12)));
  return rowKernel(
    ROW_KERNELS.softmaxStats,
    [...new Array(k).fill(V128), ...new Array(EXP_LOCALS).fill(V128)],
    (l) => [
      ...set(l(mv), vConst(-Infinity)),
      ...perColumn(set(l(mv), vMax(get(l(mv)), vLoad(rowCol(0))))),
      ...set(l(mv), splat(fmax(fmax(lane(l(mv), 0), lane(l(mv), 1)), fmax(lane(l(mv), 2), lane(l(mv), 3))))),
      ...set(l(sum), vZero),
      ...set(l(zsum), vZero),
      ...perColumn([
        ...set(l(z), vLoad(rowCol(0))),
        ...set(l(x), vSub(get(l(z)), get(l(mv)))),
        ...vExp(l(x), l(t), l(n), l(k)),
        ...set(l(x)),
        ...set(l(sum), vAdd(get(l(sum)), get(l(x)))),
        ...set(l(zsum), madd(get(l(x)), get(l(z)), get(l(zsum)))),
      ]),
      ...f32Store(out, lane(l(mv), 0)),
      ...f32Store(out, vHsum(get(l(sum))), 4),
      ...f32Store(out, vHsum(get(l(zsum))), 8),
    ],
    mul(get(DIM), i32(4)),
    (l) => expConstants(l(k)),
  );
}

// Per row: z = -g * exp(z - l), with l = lse[r] and g = coeffs[r].
function softmaxGradRows(): Func {
  const [lv, gv, x, t, n, k] = [0, 1, 2, 3, 4, 5];
  return rowKernel(
    ROW_KERNELS.softmaxGrad,
    [...new Array(k).fill(V128), ...new Array(EXP_LOCALS).fill(V128)],
    (l) => [
      ...set(l(lv), vLoadSplat(add(ptr(1), mul(get(ROW), i32(4))))),
      ...set(l(gv), vNeg(vLoadSplat(add(ptr(2), mul(get(ROW), i32(4)))))),
      ...perColumn([
        ...set(l(x), vSub(vLoad(rowCol(0)), get(l(lv)))),
        ...vExp(l(x), l(t), l(n), l(k)),
        ...set(l(x)),
        ...vStore(rowCol(0), vMul(get(l(gv)), get(l(x)))),
      ]),
    ],
    mul(get(DIM), i32(4)),
    (l) => expConstants(l(k)),
  );
}

// dots(q, k, kstride, count, d, out): out[u] = dot(q[0..d), k[u*kstride/4 ..][0..d)) for u < count (d a multiple
// of 4; kstride in bytes): one query against cached keys. Four keys per pass, each on its own accumulator, so
// the multiply-adds of different keys overlap (one chain per key would wait on each one's latency); their lanes
// are then summed pairwise across the four accumulators at once, (l0 + l1) + (l2 + l3) as `vHsum` sums one, and
// stored as one vector. Every key's sum runs in the same order either way.
function dots(relaxed: boolean): Func {
  const [q, k, kstride, count, d, out, u, x, db, qx, acc0] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  const keys = 4;
  const row = (j: number): Code => add(get(k), mul(get(kstride), i32(j)));
  // [a0 + a1, a2 + a3, b0 + b1, b2 + b3] of vectors a and b.
  const pairSums = (a: Code, b: Code): Code =>
    vAdd(vShuffle(a, b, lanes(0, 2, 4, 6)), vShuffle(a, b, lanes(1, 3, 5, 7)));
  const four = [
    ...Array.from({ length: keys }, (_, j) => set(acc0 + j, vZero)).flat(),
    ...forLoop(x, i32(0), get(db), 16, [
      // The query's vector once for the four keys (every load costs a bounds check).
      ...set(qx, vLoad(add(get(q), get(x)))),
      ...Array.from(
        { length: keys },
        (_, j) => set(acc0 + j, madd(get(qx), vLoad(add(row(j), get(x))), get(acc0 + j))),
      ).flat(),
    ]),
    ...set(acc0, pairSums(get(acc0), get(acc0 + 1))),
    ...set(acc0 + 2, pairSums(get(acc0 + 2), get(acc0 + 3))),
    ...vStore(add(get(out), mul(get(u), i32(4))), pairSums(get(acc0), get(acc0 + 2))),
    ...inc(k, mul(get(kstride), i32(keys))),
  ];
  const one = [
    ...set(acc0, vZero),
    ...forLoop(x, i32(0), get(db), 16, [
      ...set(acc0, madd(vLoad(add(get(q), get(x))), vLoad(add(get(k), get(x))), get(acc0))),
    ]),
    ...f32Store(add(get(out), mul(get(u), i32(4))), vHsum(get(acc0))),
    ...inc(k, get(kstride)),
  ];
  // Heads of 16 and 32 (the tiny and bench presets'): the query's vectors stay in locals and each key's steps are
  // unrolled, the same multiply-adds in the same order as the general loop.
  const [r1, r2, r3, q0] = [acc0 + keys, acc0 + keys + 1, acc0 + keys + 2, acc0 + keys + 3];
  const keyRow = (j: number): Code => get(j === 0 ? k : [r1, r2, r3][j - 1]);
  const unrolled = (width: number): Code => {
    const steps = Array.from({ length: width / 4 }, (_, x) => x);
    const four = [
      ...set(r1, add(get(k), get(kstride))),
      ...set(r2, add(get(r1), get(kstride))),
      ...set(r3, add(get(r2), get(kstride))),
      ...Array.from({ length: keys }, (_, j) => [
        ...set(acc0 + j, vZero),
        ...steps.flatMap((x) => set(acc0 + j, madd(get(q0 + x), vLoad(keyRow(j), 16 * x), get(acc0 + j)))),
      ]).flat(),
      ...set(acc0, pairSums(get(acc0), get(acc0 + 1))),
      ...set(acc0 + 2, pairSums(get(acc0 + 2), get(acc0 + 3))),
      ...vStore(add(get(out), mul(get(u), i32(4))), pairSums(get(acc0), get(acc0 + 2))),
      ...inc(k, mul(get(kstride), i32(keys))),
    ];
    return [
      ...steps.flatMap((x) => set(q0 + x, vLoad(get(q), 16 * x))),
      ...forLoop(u, i32(0), sub(get(count), i32(keys - 1)), keys, four),
    ];
  };
  const body = [
    ...set(db, mul(get(d), i32(4))),
    ...ifElse(
      eq(get(d), i32(16)),
      unrolled(16),
      ifElse(
        eq(get(d), i32(32)),
        unrolled(32),
        forLoop(u, i32(0), sub(get(count), i32(keys - 1)), keys, four),
      ),
    ),
    ...forLoop(u, get(u), get(count), 1, one),
  ];
  return {
    name: "dots",
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, V128, ...new Array(keys).fill(V128), I32, I32, I32, ...new Array(8).fill(V128)],
    body,
  };
}

// wsum(p, v, vstride, count, d, out, scale): out[0..d) = scale * sum_u p[u] * v[u*vstride/4 ..][0..d) (d a
// multiple of 4): the weighted sum of cached values. Sixteen columns per pass on four accumulators (independent
// chains), then four at a time; each column sums over u in order either way.
function wsum(relaxed: boolean): Func {
  const [p, v, vstride, count, d, out, scale, x, u, row, db, a, acc0] = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
  ];
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  const pass = (vectors: number): Code => [
    ...Array.from({ length: vectors }, (_, j) => set(acc0 + j, vZero)).flat(),
    ...set(row, add(get(v), get(x))),
    ...forLoop(u, i32(0), get(count), 1, [
      ...set(a, vLoadSplat(add(get(p), mul(get(u), i32(4))))),
      ...Array.from(
        { length: vectors },
        (_, j) => set(acc0 + j, madd(get(a), vLoad(get(row), 16 * j), get(acc0 + j))),
      ).flat(),
      ...inc(row, get(vstride)),
    ]),
    ...Array.from(
      { length: vectors },
      (_, j) => vStore(add(get(out), get(x)), vMul(get(acc0 + j), splat(get(scale))), 16 * j),
    ).flat(),
  ];
  const body = [
    ...set(db, mul(get(d), i32(4))),
    ...forLoop(x, i32(0), sub(get(db), i32(48)), 64, pass(4)),
    ...forLoop(x, get(x), get(db), 16, pass(1)),
  ];
  return {
    name: "wsum",
    params: [I32, I32, I32, I32, I32, I32, F32],
    locals: [I32, I32, I32, I32, V128, V128, V128, V128, V128],
    body,
  };
}

// Row-wise kernels for the causal softmax of a block of `rows` score rows (row stride `stride` bytes), row i
// having `first + i` valid entries. The caller pads each row with -Infinity up to a multiple of 4 entries, so
// whole vectors can be read; padded lanes add nothing to a max and ~1e-38 (the clamped exp) to a sum.
//
// rows_max(p, stride, rows, first, scale, out): out[i] = max_u p[i][u] * scale.
function rowsMax(): Func {
  const [p, stride, rows, first, scale, out, i, u, row, end, acc, sv] = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
  ];
  const lane = (k: number): Code => [...get(acc), 0xfd, 0x1f, k];
  const fmax = (a: Code, b: Code): Code => [...a, ...b, 0x97];
  const body = [
    ...set(sv, splat(get(scale))),
    ...forLoop(i, i32(0), get(rows), 1, [
      ...set(row, add(get(p), mul(get(i), get(stride)))),
      ...set(end, mul(and(add(add(get(first), get(i)), i32(3)), i32(-4)), i32(4))),
      ...set(acc, vConst(-Infinity)),
      ...forLoop(u, i32(0), get(end), 16, [
        ...set(acc, vMax(get(acc), vMul(vLoad(add(get(row), get(u))), get(sv)))),
      ]),
      ...f32Store(add(get(out), mul(get(i), i32(4))), fmax(fmax(lane(0), lane(1)), fmax(lane(2), lane(3)))),
    ]),
  ];
  return {
    name: "rows_max",
    params: [I32, I32, I32, I32, F32, I32],
    locals: [I32, I32, I32, I32, V128, V128],
    body,
  };
}

// rows_exp(p, stride, rows, first, scale, sub, sums, write): e = exp(p[i][u] * scale - sub[i]); sums[i] = sum_u e;
// with `write`, p[i][u] = e.
function rowsExp(): Func {
  const [p, stride, rows, first, scale, sub, sums, write] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [i, u, row, end, sv, subv, acc, x, t, n, k] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const body = [
    ...expConstants(k),
    ...set(sv, splat(get(scale))),
    ...forLoop(i, i32(0), get(rows), 1, [
      ...set(row, add(get(p), mul(get(i), get(stride)))),
      ...set(end, mul(and(add(add(get(first), get(i)), i32(3)), i32(-4)), i32(4))),
      ...set(subv, vLoadSplat(add(get(sub), mul(get(i), i32(4))))),
      ...set(acc, vZero),
      ...forLoop(u, i32(0), get(end), 16, [
        ...set(x, vSub(vMul(vLoad(add(get(row), get(u))), get(sv)), get(subv))),
        ...vExp(x, t, n, k),
        ...set(x),
        ...set(acc, vAdd(get(acc), get(x))),
        ...ifElse(get(write), vStore(add(get(row), get(u)), get(x))),
      ]),
      ...f32Store(add(get(sums), mul(get(i), i32(4))), vHsum(get(acc))),
    ]),
  ];
  return {
    name: "rows_exp",
    params: [I32, I32, I32, I32, F32, I32, I32, I32],
    locals: [I32, I32, I32, I32, V128, V128, V128, V128, V128, V128, ...new Array(EXP_LOCALS).fill(V128)],
    body,
  };
}

/** The module's functions in order: a function's index is its position here (`call` needs it). */
const FUNCTION_NAMES = [
  "pack_a",
  "pack_b",
  "macro",
  "macro_r1",
  "macro_r2",
  "macro_r3",
  "macro_r4",
  "dots",
  "wsum",
  "rows_max",
  "rows_exp",
  `ew${ELEMENTWISE.swigluForward}`,
  `ew${ELEMENTWISE.swigluBackward}`,
  "axpy_rows",
  "attn_rows",
  "dots_seq",
  "attn_stats",
  "attn_out",
  "attn_back_block",
  "attn_cached",
  "transpose_keys",
  ...Object.values(ROW_KERNELS).map((i) => `rk${i}` as const),
] as const;
const fn = (name: typeof FUNCTION_NAMES[number]) => FUNCTION_NAMES.indexOf(name);

// Pads a score row of `count` entries at `p` with -Infinity up to a multiple of 4 (rows_max/rows_exp read whole
// vectors). `u` is a scratch local.
const padRow = (p: number, count: number, u: number): Code =>
  forLoop(
    u,
    get(count),
    and(add(get(count), i32(3)), i32(-4)),
    1,
    f32Store(add(get(p), mul(get(u), i32(4))), f32(-Infinity)),
  );

// axpy_rows(c, x, dst, stride, count, d, scale): dst[u][0..d) += scale * c[u] * x[0..d) for u < count (rows
// `stride` bytes apart, d a multiple of 4): the rank-one updates of the attention backward's dK and dV.
function axpyRows(relaxed: boolean): Func {
  const [c, x, dst, stride, count, d, scale, u, o, row, cv] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  const coefficient = set(cv, splat(fMul(f32Load(add(get(c), mul(get(u), i32(4)))), get(scale))));
  const general = forLoop(u, i32(0), get(count), 1, [
    ...coefficient,
    ...set(row, add(get(dst), mul(get(u), get(stride)))),
    ...forLoop(o, i32(0), mul(get(d), i32(4)), 16, [
      ...vStore(
        add(get(row), get(o)),
        madd(get(cv), vLoad(add(get(x), get(o))), vLoad(add(get(row), get(o)))),
      ),
    ]),
  ]);
  // Heads of 16: x's four vectors stay in locals (each load is bounds-checked), the same multiply-adds.
  const x0 = 11;
  const sixteen = [
    ...[0, 1, 2, 3].flatMap((j) => set(x0 + j, vLoad(get(x), 16 * j))),
    ...set(row, get(dst)),
    ...forLoop(u, i32(0), get(count), 1, [
      ...coefficient,
      ...[0, 1, 2, 3].flatMap((j) =>
        vStore(get(row), madd(get(cv), get(x0 + j), vLoad(get(row), 16 * j)), 16 * j)
      ),
      ...inc(row, get(stride)),
    ]),
  ];
  return {
    name: "axpy_rows",
    params: [I32, I32, I32, I32, I32, I32, F32],
    locals: [I32, I32, I32, V128, V128, V128, V128, V128],
    body: ifElse(eq(get(d), i32(16)), sixteen, general),
  };
}

// attn_rows(q, k, v, o, stat, scores, rows, first, qstride, kvstride, d, scale): causal attention of `rows` query
// rows of one head, read in place: row r (at q + r*qstride) sits at position first + r and attends to the
// first + r + 1 key/value rows at k, v (kvstride bytes apart); its output goes to o + r*qstride and its scaled
// row maximum and sum of exponentials to stat + 8r, stat + 8r + 4 (the caller takes lse = max + log(sum)).
// `scores` holds a row (first + rows + 3 floats). d is a multiple of 4.
function attnRows(): Func {
  const [q, k, v, o, stat, scores, rows, first, qstride, kvstride, d, scale] = Array.from(
    { length: 12 },
    (_, i) => i,
  );
  const [r, count, u, off, sp] = [12, 13, 14, 15, 16];
  const body = forLoop(r, i32(0), get(rows), 1, [
    ...set(count, add(add(get(first), get(r)), i32(1))),
    ...set(off, mul(get(r), get(qstride))),
    ...set(sp, add(get(stat), mul(get(r), i32(8)))),
    ...call(fn("dots"), add(get(q), get(off)), get(k), get(kvstride), get(count), get(d), get(scores)),
    ...padRow(scores, count, u),
    ...call(fn("rows_max"), get(scores), i32(0), i32(1), get(count), get(scale), get(sp)),
    ...call(
      fn("rows_exp"),
      get(scores),
      i32(0),
      i32(1),
      get(count),
      get(scale),
      get(sp),
      add(get(sp), i32(4)),
      i32(1),
    ),
    ...call(
      fn("wsum"),
      get(scores),
      get(v),
      get(kvstride),
      get(count),
      get(d),
      add(get(o), get(off)),
      fDiv(f32(1), f32Load(get(sp), 4)),
    ),
  ]);
  return {
    name: "attn_rows",
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32],
    locals: [I32, I32, I32, I32, I32],
    body,
  };
}

// attn_cached(q, k, v, o, lengths, stat, scores, b0, b1, rows, kvHeads, group, capacity, d, scale): cached
// attention of sequences b0..b1 (every head), each `attn_rows` over its `rows` query rows (laid out [b][row][head]
// [d]) and its first lengths[b] + rows cache slots (laid out [b][slot][kvHead][d], `capacity` slots per sequence);
// query head h reads key/value head h / group. One call per block of sequences keeps the per-head dispatch in
// WebAssembly.
function attnCached(): Func {
  const [q, k, v, o, lens, stat, scores, b0, b1, rows, kvHeads, group, capacity, d, scale] = Array.from(
    { length: 15 },
    (_, i) => i,
  );
  const [b, kh, g, qstride, kvstride, qb, kb, hoff, first] = Array.from({ length: 9 }, (_, i) => 15 + i);
  const head = (kvOffset: Code): Code =>
    call(
      fn("attn_rows"),
      add(get(q), add(get(qb), get(hoff))),
      add(get(k), add(get(kb), kvOffset)),
      add(get(v), add(get(kb), kvOffset)),
      add(get(o), add(get(qb), get(hoff))),
      get(stat),
      get(scores),
      get(rows),
      get(first),
      get(qstride),
      get(kvstride),
      get(d),
      get(scale),
    );
  const body = [
    ...set(kvstride, mul(mul(get(kvHeads), get(d)), i32(4))),
    ...set(qstride, mul(get(kvstride), get(group))),
    ...forLoop(b, get(b0), get(b1), 1, [
      ...set(qb, mul(mul(get(b), get(rows)), get(qstride))),
      ...set(kb, mul(mul(get(b), get(capacity)), get(kvstride))),
      ...set(first, i32Load(add(get(lens), mul(get(b), i32(4))))),
      ...set(hoff, i32(0)),
      ...forLoop(kh, i32(0), get(kvHeads), 1, [
        ...forLoop(g, i32(0), get(group), 1, [
          ...head(mul(mul(get(kh), get(d)), i32(4))),
          ...inc(hoff, mul(get(d), i32(4))),
        ]),
      ]),
    ]),
  ];
  return {
    name: "attn_cached",
    params: [...new Array(14).fill(I32), F32],
    locals: new Array(9).fill(I32),
    body,
  };
}

// The training attention's row kernels reproduce the blocked path (attention_tasks.ts with the micro-kernel)
// bit for bit, so that a model trains to the same numbers on either: every dot product over the head width and
// every sum over keys or query rows is one fused multiply-add chain from zero in index order (the micro-kernel's
// order within one KC block; the engine sends sequences longer than KC to the blocked path), dS is computed in
// double precision as the blocked path's TypeScript does, and the key and value gradients are summed per block of
// 64 query rows and then added, as the blocked path's products do.

// transpose_keys(k, kstride, count, d, kt): key rows k[u] (kstride bytes apart, d floats, d a multiple of 4) in
// blocks of four keys, each block d vectors: kt + (u/4)*16d + 16p holds entry p of keys u..u+3 (a last partial
// block repeats the last key). `dots_seq` streams this layout with one load per vector.
function transposeKeys(): Func {
  const [k, kstride, count, d, kt, u, p, r0, r1, r2, r3, dst] = Array.from({ length: 12 }, (_, i) => i);
  const v0 = 12, t0 = v0 + 4;
  const last = sub(get(count), i32(1));
  const rowOf = (j: number): Code => add(get(k), mul(minI32(add(get(u), i32(j)), last), get(kstride)));
  const body = forLoop(u, i32(0), get(count), 4, [
    ...[r0, r1, r2, r3].flatMap((r, j) => set(r, rowOf(j))),
    ...forLoop(p, i32(0), mul(get(d), i32(4)), 16, [
      ...[r0, r1, r2, r3].flatMap((r, j) => set(v0 + j, vLoad(add(get(r), get(p))))),
      ...transpose4x4((j) => get(v0 + j), t0, (q, column) => vStore(get(dst), column, 16 * q)),
      ...inc(dst, 64),
    ]),
  ]);
  return {
    name: "transpose_keys",
    params: [I32, I32, I32, I32, I32],
    locals: [...new Array(7).fill(I32), ...new Array(8).fill(V128)],
    body: [...set(dst, get(kt)), ...body],
  };
}

// dots_seq(q, kt, count, d, out): out[u] = sum_p q[p] * k[u][p] as one multiply-add chain over p in order (d a
// multiple of 4), four keys per vector, from the keys as `transpose_keys` lays them out; a last partial group
// writes its spare lanes past `count`, so `out` needs room for count rounded up to 4. Heads of 16 keep the query in
// locals and broadcast its entries by shuffles (each load is bounds-checked).
function dotsSeq(relaxed: boolean): Func {
  const [q, kt, count, d, out, u, p, col] = Array.from({ length: 8 }, (_, i) => i);
  const [acc, q0] = [8, 9];
  const madd = relaxed ? vMaddRelaxed : vMaddPlain;
  const general = forLoop(u, i32(0), get(count), 4, [
    ...set(acc, vZero),
    ...forLoop(p, i32(0), mul(get(d), i32(4)), 4, [
      ...set(acc, madd(vLoadSplat(add(get(q), get(p))), vLoad(get(col)), get(acc))),
      ...inc(col, 16),
    ]),
    ...vStore(add(get(out), mul(get(u), i32(4))), get(acc)),
  ]);
  const sixteen = [
    ...[0, 1, 2, 3].flatMap((j) => set(q0 + j, vLoad(get(q), 16 * j))),
    ...forLoop(u, i32(0), get(count), 4, [
      ...set(acc, vZero),
      ...Array.from({ length: 16 }, (_, x) =>
        set(
          acc,
          madd(
            vShuffle(get(q0 + (x >> 2)), get(q0 + (x >> 2)), lanes(x & 3, x & 3, x & 3, x & 3)),
            vLoad(get(col), 16 * x),
            get(acc),
          ),
        )).flat(),
      ...inc(col, 256),
      ...vStore(add(get(out), mul(get(u), i32(4))), get(acc)),
    ]),
  ];
  return {
    name: "dots_seq",
    params: [I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, V128, V128, V128, V128, V128],
    body: [...set(col, get(kt)), ...ifElse(eq(get(d), i32(16)), sixteen, general)],
  };
}

// min(a, b) of two i32 expressions (`select`; each is evaluated twice, so they must be cheap and pure).
function minI32(a: Code, b: Code): Code {
  return [...a, ...b, ...lt(a, b), 0x1b];
}

// attn_stats(q, kt, stat, scores, rows, qstride, d, scale, sstride): for causal query rows r < rows (row r at
// q + r*qstride attends to keys 0..r, laid out in kt by `transpose_keys`), the scaled row maximum at stat + 8r and
// the sum of exp(scale s - max) at stat + 8r + 4, as the blocked path's first softmax pass. Row r's scores stay at
// scores + r*sstride, padded with -Infinity to a multiple of 4, for `attn_out`.
function attnStats(): Func {
  const [q, kt, stat, scores, rows, qstride, d, scale, sstride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, count, u, sp, row] = [9, 10, 11, 12, 13];
  const body = forLoop(r, i32(0), get(rows), 1, [
    ...set(count, add(get(r), i32(1))),
    ...set(sp, add(get(stat), mul(get(r), i32(8)))),
    ...set(row, add(get(scores), mul(get(r), get(sstride)))),
    ...call(fn("dots_seq"), add(get(q), mul(get(r), get(qstride))), get(kt), get(count), get(d), get(row)),
    ...padRow(row, count, u),
    ...call(fn("rows_max"), get(row), i32(0), i32(1), get(count), get(scale), get(sp)),
    ...call(
      fn("rows_exp"),
      get(row),
      i32(0),
      i32(1),
      get(count),
      get(scale),
      get(sp),
      add(get(sp), i32(4)),
      i32(0),
    ),
  ]);
  return {
    name: "attn_stats",
    params: [I32, I32, I32, I32, I32, I32, I32, F32, I32],
    locals: [I32, I32, I32, I32, I32],
    body,
  };
}

// attn_out(v, o, lse, scores, junk, rows, qstride, kvstride, d, scale, sstride): row r's output
// sum_u exp(scale s_u - lse[r]) v[u] over keys 0..r (lse at lse + 4r), written to o + r*qstride, from the scores
// `attn_stats` left at scores + r*sstride (overwritten with the exponentials).
function attnOut(): Func {
  const [v, o, lse, scores, junk, rows, qstride, kvstride, d, scale, sstride] = Array.from(
    { length: 11 },
    (_, i) => i,
  );
  const [r, count, row] = [11, 12, 13];
  const body = forLoop(r, i32(0), get(rows), 1, [
    ...set(count, add(get(r), i32(1))),
    ...set(row, add(get(scores), mul(get(r), get(sstride)))),
    ...call(
      fn("rows_exp"),
      get(row),
      i32(0),
      i32(1),
      get(count),
      get(scale),
      add(get(lse), mul(get(r), i32(4))),
      get(junk),
      i32(1),
    ),
    ...call(
      fn("wsum"),
      get(row),
      get(v),
      get(kvstride),
      get(count),
      get(d),
      add(get(o), mul(get(r), get(qstride))),
      f32(1),
    ),
  ]);
  return {
    name: "attn_out",
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, I32],
    locals: [I32, I32, I32],
    body,
  };
}

// attn_back_block(q, k, vt, o, lse, dout, dq, dk, dv, p, dp, kb, vb, t0, nq, qstride, kvstride, d, scale, scaled,
// kt) (kt, vt: the keys and values as `transpose_keys` lays them out; k: the keys' rows):
// the causal attention backward of query rows [t0, t0+nq) of one head (row t attends to keys 0..t): per row,
// P = exp(scale S - lse), dP = dO V^T, dS = (P (dP - rowsum(dO O))) scaled (in f64, `scaled` the double
// scale), dQ = dS K (written); the block's dK = dS^T Q and dV = P^T dO are summed in kb, vb (rows d*4 bytes
// apart) and then added to dk, dv. `p`, `dp` hold a row (t0 + nq rounded up to 4, plus 4 floats).
function attnBackBlock(): Func {
  const [
    q,
    k,
    vt,
    o,
    lse,
    dout,
    dq,
    dk,
    dv,
    p,
    dp,
    kb,
    vb,
    t0,
    nq,
    qstride,
    kvstride,
    d,
    scale,
    scaled,
    kt,
  ] = Array
    .from({ length: 21 }, (_, i) => i);
  const [t, count, u, x, off, nk, db, rowDot] = [21, 22, 23, 24, 25, 26, 27, 28];
  const at4 = (base: number, idx: number): Code => add(get(base), mul(get(idx), i32(4)));
  const row = (base: number, idx: number): Code => add(get(base), mul(get(idx), get(db)));
  const kvRow = (base: number, idx: number): Code => add(get(base), mul(get(idx), get(kvstride)));
  const perRow: Code = [
    ...set(count, add(get(t), i32(1))),
    ...set(off, mul(get(t), get(qstride))),
    ...call(fn("dots_seq"), add(get(q), get(off)), get(kt), get(count), get(d), get(p)),
    ...padRow(p, count, u),
    ...call(fn("rows_exp"), get(p), i32(0), i32(1), get(count), get(scale), at4(lse, t), get(dp), i32(1)),
    ...call(fn("dots_seq"), add(get(dout), get(off)), get(vt), get(count), get(d), get(dp)),
    ...set(rowDot, f64(0)),
    ...forLoop(x, i32(0), get(d), 1, [
      ...set(
        rowDot,
        dAdd(
          get(rowDot),
          dMul(
            promote(f32Load(add(add(get(dout), get(off)), mul(get(x), i32(4))))),
            promote(f32Load(add(add(get(o), get(off)), mul(get(x), i32(4))))),
          ),
        ),
      ),
    ]),
    ...forLoop(u, i32(0), get(count), 1, [
      ...f32Store(
        at4(dp, u),
        demote(
          dMul(
            dMul(promote(f32Load(at4(p, u))), dSub(promote(f32Load(at4(dp, u))), get(rowDot))),
            get(scaled),
          ),
        ),
      ),
    ]),
    ...call(fn("wsum"), get(dp), get(k), get(kvstride), get(count), get(d), add(get(dq), get(off)), f32(1)),
    ...call(fn("axpy_rows"), get(dp), add(get(q), get(off)), get(kb), get(db), get(count), get(d), f32(1)),
    ...call(fn("axpy_rows"), get(p), add(get(dout), get(off)), get(vb), get(db), get(count), get(d), f32(1)),
  ];
  const body: Code = [
    ...set(db, mul(get(d), i32(4))),
    ...set(nk, add(get(t0), get(nq))),
    ...forLoop(u, i32(0), mul(get(nk), get(db)), 16, [
      ...vStore(add(get(kb), get(u)), vZero),
      ...vStore(add(get(vb), get(u)), vZero),
    ]),
    ...forLoop(t, get(t0), get(nk), 1, perRow),
    ...forLoop(u, i32(0), get(nk), 1, [
      ...forLoop(x, i32(0), get(db), 16, [
        ...vStore(
          add(kvRow(dk, u), get(x)),
          vAdd(vLoad(add(kvRow(dk, u), get(x))), vLoad(add(row(kb, u), get(x)))),
        ),
        ...vStore(
          add(kvRow(dv, u), get(x)),
          vAdd(vLoad(add(kvRow(dv, u), get(x))), vLoad(add(row(vb, u), get(x)))),
        ),
      ]),
    ]),
  ];
  return {
    name: "attn_back_block",
    params: [...new Array(18).fill(I32), F32, F64, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, F64],
    body,
  };
}

/** The kernel module's exports. */
export interface KernelExports {
  /** The memory the module works in. */
  mem: WebAssembly.Memory;
  pack_a(src: number, si: number, sp: number, dst: number, mcv: number, mcp: number, kc: number): void;
  pack_b(src: number, sp: number, sj: number, dst: number, kc: number, ncv: number, ncp: number): void;
  macro(
    ap: number,
    bp: number,
    c: number,
    ldc: number,
    mcp: number,
    ncp: number,
    kc: number,
    alpha: number,
    accumulate: number,
  ): void;
  /** `macro` computing only the first `<r>` rows of each panel (1-4). */
  [macro: `macro_r${number}`]: (
    ap: number,
    bp: number,
    c: number,
    ldc: number,
    mcp: number,
    ncp: number,
    kc: number,
    alpha: number,
    accumulate: number,
  ) => void;
  dots(q: number, k: number, kstride: number, count: number, d: number, out: number): void;
  wsum(p: number, v: number, vstride: number, count: number, d: number, out: number, scale: number): void;
  rows_max(p: number, stride: number, rows: number, first: number, scale: number, out: number): void;
  rows_exp(
    p: number,
    stride: number,
    rows: number,
    first: number,
    scale: number,
    sub: number,
    sums: number,
    write: number,
  ): void;
  axpy_rows(c: number, x: number, dst: number, stride: number, count: number, d: number, scale: number): void;
  attn_rows(
    q: number,
    k: number,
    v: number,
    o: number,
    stat: number,
    scores: number,
    rows: number,
    first: number,
    qstride: number,
    kvstride: number,
    d: number,
    scale: number,
  ): void;
  dots_seq(q: number, kt: number, count: number, d: number, out: number): void;
  transpose_keys(k: number, kstride: number, count: number, d: number, kt: number): void;
  attn_stats(
    q: number,
    kt: number,
    stat: number,
    scores: number,
    rows: number,
    qstride: number,
    d: number,
    scale: number,
    sstride: number,
  ): void;
  attn_out(
    v: number,
    o: number,
    lse: number,
    scores: number,
    junk: number,
    rows: number,
    qstride: number,
    kvstride: number,
    d: number,
    scale: number,
    sstride: number,
  ): void;
  attn_back_block(...args: number[]): void;
  attn_cached(...args: number[]): void;
  /** Row kernel `rk<i>` (see {@linkcode ROW_KERNELS}): byte pointers p0..p4, rows r0..r1, dim, aux, param. */
  [rk: `rk${number}`]: (...args: number[]) => void;
  /** Elementwise kernel `ew<i>` (see {@linkcode ELEMENTWISE}): byte pointers p0..p4 and a count of floats. */
  [ew: `ew${number}`]: (p0: number, p1: number, p2: number, p3: number, p4: number, count: number) => void;
}

/** The assembled kernel module for this runtime. */
export interface KernelModule {
  /** The module's bytes (workers compile them again over the shared memory). */
  bytes: Uint8Array<ArrayBuffer>;
  /** True when the multiply-add is relaxed SIMD's fused one. */
  relaxed: boolean;
  /** Whether the module imports a shared memory. */
  shared: boolean;
}

/** Assembles the kernels, with relaxed-SIMD FMA when the runtime validates it; null without WebAssembly SIMD. */
export function kernelModule(shared: boolean): KernelModule | null {
  for (const relaxed of [true, false]) {
    const funcs = [
      packA(),
      packB(),
      macro(relaxed),
      ...[1, 2, 3, 4].map((rows) => macro(relaxed, rows)),
      dots(relaxed),
      wsum(relaxed),
      rowsMax(),
      rowsExp(),
      swigluForward(),
      swigluBackward(),
      axpyRows(relaxed),
      attnRows(),
      dotsSeq(relaxed),
      attnStats(),
      attnOut(),
      attnBackBlock(),
      attnCached(),
      transposeKeys(),
      rmsNormForwardRows(relaxed),
      rmsNormDxRows(relaxed),
      rmsNormDWeightRows(relaxed),
      addBiasRows(),
      columnSumsRows(),
      ropeRows(),
      softmaxStatsRows(relaxed),
      softmaxGradRows(),
    ];
    if (funcs.some((f, i) => f.name !== FUNCTION_NAMES[i])) {
      throw new Error("simd: function order out of date");
    }
    const bytes = buildModule(funcs, shared);
    if (typeof WebAssembly !== "undefined" && WebAssembly.validate(bytes)) return { bytes, relaxed, shared };
  }
  return null;
}

/** Whether this runtime has WebAssembly SIMD (the fast kernels load). */
export const simdAvailable: boolean = kernelModule(false) !== null;
