/**
 * The machine's WebAssembly SIMD multiply-add issue rate on one core: twelve independent f32x4 FMA chains with no
 * memory access, the most any SIMD128 kernel can reach. Benchmarks report the matmul micro-kernel against it.
 *
 * @module
 */

import {
  buildModule,
  doWhile,
  f32,
  get,
  I32,
  i32,
  set,
  splat,
  sub,
  V128,
  vMaddRelaxed,
  vZero,
} from "./wasm_asm.ts";

const CHAINS = 12;

// run(reps): `reps` passes of eight steps of every chain (acc = a * b + acc), then the chains' sum to memory, so
// that none is dead code.
function issueModule(): Uint8Array<ArrayBuffer> {
  const [reps, a, b, acc0] = [0, 1, 2, 3];
  const sum = [
    ...get(acc0),
    ...Array.from({ length: CHAINS - 1 }, (_, i) => [...get(acc0 + 1 + i), 0xfd, 0xe4, 0x01]).flat(), // f32x4.add
  ];
  const body = [
    ...set(a, splat(f32(0.999))),
    ...set(b, splat(f32(0.001))),
    ...Array.from({ length: CHAINS }, (_, i) => set(acc0 + i, vZero)).flat(),
    ...doWhile([
      ...Array.from(
        { length: 8 * CHAINS },
        (_, i) => set(acc0 + (i % CHAINS), vMaddRelaxed(get(a), get(b), get(acc0 + (i % CHAINS)))),
      ).flat(),
      ...set(reps, sub(get(reps), i32(1))),
    ], get(reps)),
    ...[0x41, 0, ...sum, 0xfd, 0x0b, 0x04, 0x00], // v128.store at address 0
  ];
  return buildModule([{
    name: "run",
    params: [I32],
    locals: [V128, V128, ...new Array(CHAINS).fill(V128)],
    body,
  }], false);
}

/** The chains, instantiated: `run(reps)` leaves the sum of the chains (four f32) at address 0 of `memory`. */
export function issueChains(): { run: (reps: number) => void; memory: WebAssembly.Memory } | null {
  const bytes = issueModule();
  if (!WebAssembly.validate(bytes)) return null; // no relaxed SIMD
  const memory = new WebAssembly.Memory({ initial: 1 });
  const run = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: memory } }).exports
    .run as (reps: number) => void;
  return { run, memory };
}

/**
 * Median GFLOP/s of `rounds` timed runs of the chains on this thread, after a warm-up long enough for the
 * optimising tier (NaN where relaxed SIMD does not validate).
 */
export function fmaIssueRate(rounds = 5, reps = 500_000): number {
  const chains = issueChains();
  if (!chains) return NaN;
  chains.run(reps / 4);
  const rates = Array.from({ length: rounds }, () => {
    const t0 = performance.now();
    chains.run(reps);
    return (reps * 8 * CHAINS * 8) / ((performance.now() - t0) * 1e6);
  }).sort((a, b) => a - b);
  return rates[Math.floor(rounds / 2)];
}
