import type { Backend, Tensor } from "../backend.ts";
import { attentionCached as referenceCached } from "./attention.ts";
import { CpuEngine } from "./engine.ts";
import { cpuF32, type CpuTensor, createCpuBackend } from "./mod.ts";
import { assertAllClose, randn } from "./testing.ts";

// The engine mirrors KV caches in its memory between decoding steps: kvCacheWrite updates the mirror, any other
// write leaves it stale (copied again at the next cached attention). These tests write into the caches by every
// path the backend has, and reuse freed caches' space, checking each cached attention against the TypeScript
// reference on the host arrays.

const [B, H, KV, D, CAP] = [5, 4, 2, 8, 12];
const WIDTH = KV * D;

interface Caches {
  keys: Tensor;
  values: Tensor;
}

// Attention of the first lengths.length sequences.
function attend(be: Backend, c: Caches, lengths: number[], q: Tensor, what: string): void {
  const batch = lengths.length;
  const len = be.alloc(batch, "i32"), out = be.alloc(batch * H * D);
  be.upload(len, Int32Array.from(lengths));
  const shape = { batch, queryLen: 1, capacity: CAP, heads: H, kvHeads: KV, headDim: D };
  be.attentionCached({ q, kCache: c.keys, vCache: c.values, lengths: len, out, ...shape });
  const expected = new Float32Array(batch * H * D);
  // Read without cpuF32, which counts as a write.
  const host = (t: Tensor) => (t as CpuTensor).data as Float32Array;
  referenceCached(
    host(q),
    host(c.keys),
    host(c.values),
    Int32Array.from(lengths),
    expected,
    shape,
  );
  assertAllClose(what, host(out), expected);
  be.free(len);
  be.free(out);
}

function write(be: Backend, c: Caches, lengths: number[], seed: number): void {
  const len = be.alloc(B, "i32"), k = be.alloc(B * WIDTH), v = be.alloc(B * WIDTH);
  be.upload(len, Int32Array.from(lengths));
  be.upload(k, randn(seed, B * WIDTH));
  be.upload(v, randn(seed + 1, B * WIDTH));
  const shape = { batch: B, queryLen: 1, capacity: CAP, width: WIDTH };
  be.kvCacheWrite({ src: k, cache: c.keys, lengths: len, ...shape });
  be.kvCacheWrite({ src: v, cache: c.values, lengths: len, ...shape });
  for (const t of [len, k, v]) be.free(t);
}

Deno.test("cpu backend: mirrored KV caches follow every write into them, 1 and 2 threads", () => {
  for (const threads of [1, 2]) {
    const be = createCpuBackend({ threads });
    try {
      const q = be.alloc(B * H * D);
      be.upload(q, randn(1, B * H * D));
      // The model's caches are allocations of their own; `other` is two views of one allocation.
      const c = { keys: be.alloc(B * CAP * WIDTH), values: be.alloc(B * CAP * WIDTH) };
      be.upload(c.keys, randn(2, B * CAP * WIDTH));
      be.upload(c.values, randn(3, B * CAP * WIDTH));
      const store = be.alloc(2 * B * CAP * WIDTH);
      const view = (i: number) => be.view(store, i * B * CAP * WIDTH, B * CAP * WIDTH);
      const other = { keys: view(0), values: view(1) };
      be.upload(store, randn(4, 2 * B * CAP * WIDTH));
      const lengths = [0, 3, 7, 1, 8];
      const at = (what: string) => `${what}, threads=${threads}`;
      attend(be, c, lengths, q, at("first call"));
      // Decoding steps: the mirror is kept current by the writes.
      for (let step = 0; step < 2; step++) {
        write(be, c, lengths, 10 + step);
        attend(be, c, lengths, q, at(`after kvCacheWrite ${step}`));
        lengths.forEach((_, b) => lengths[b]++);
      }
      // The decoder's compaction: a sequence moved to another slot by copies within the allocation, then
      // attention over the first sequences only (views of a prefix of the allocation).
      const slot = (t: Tensor, b: number) => be.view(t, b * CAP * WIDTH, lengths[4] * WIDTH);
      for (const t of [c.keys, c.values]) be.copy(slot(t, 4), slot(t, 1));
      lengths[1] = lengths[4];
      const prefix = (t: Tensor) => be.view(t, 0, 3 * CAP * WIDTH);
      attend(
        be,
        { keys: prefix(c.keys), values: prefix(c.values) },
        lengths.slice(0, 3),
        q,
        at("after a move"),
      );
      write(be, c, lengths, 15);
      attend(be, c, lengths, q, at("after a move and kvCacheWrite"));
      // Writes that bypass kvCacheWrite.
      be.upload(c.keys, randn(20, 2 * WIDTH), CAP * WIDTH);
      attend(be, c, lengths, q, at("after an upload"));
      cpuF32(c.values)[3] = 40;
      attend(be, c, lengths, q, at("after a host write"));
      be.copy(other.keys, c.keys);
      attend(be, c, lengths, q, at("after a copy"));
      attend(be, other, lengths, q, at("two views of one allocation"));
      write(be, other, lengths, 30);
      attend(be, other, lengths, q, at("two views of one allocation, after kvCacheWrite"));
      be.fill(other.values, 0.5);
      attend(be, other, lengths, q, at("two views of one allocation, after a fill"));
      for (const t of [c.keys, c.values, store]) be.free(t);
      // Freed caches give their space to new ones, which must not see the old contents.
      for (let round = 0; round < 3; round++) {
        const fresh = { keys: be.alloc(B * CAP * WIDTH), values: be.alloc(B * CAP * WIDTH) };
        be.upload(fresh.keys, randn(50 + round, B * CAP * WIDTH));
        be.upload(fresh.values, randn(60 + round, B * CAP * WIDTH));
        attend(be, fresh, lengths, q, at(`reused space, round ${round}`));
        write(be, fresh, lengths, 70 + round);
        attend(be, fresh, lengths, q, at(`reused space after a write, round ${round}`));
        be.free(fresh.keys);
        be.free(fresh.values);
      }
    } finally {
      be.destroy();
    }
  }
});

Deno.test("cpu engine: a full resident region drops its mirrors and stays correct (bound of three caches)", () => {
  const cacheFloats = B * CAP * WIDTH, bytes = cacheFloats * 4;
  for (const threads of [1, 2]) {
    // Room for three mirrors: a fourth cache empties the region, and freed caches give their space back.
    const engine = CpuEngine.create(threads, { residentBytes: 3 * bytes + 64 })!;
    try {
      const shape = { batch: B, queryLen: 1, capacity: CAP, heads: H, kvHeads: KV, headDim: D };
      const q = randn(1, B * H * D), lengths = Int32Array.from([0, 3, 7, 1, 8]);
      const caches = Array.from({ length: 5 }, (_, i) => ({
        data: randn(100 + i, cacheFloats),
        freed: false,
        version: 0,
      }));
      const check = (i: number, j: number, what: string) => {
        const [k, v] = [caches[i], caches[j]], out = new Float32Array(B * H * D);
        const keys = { owner: k, version: k.version }, values = { owner: v, version: v.version };
        engine.attentionCached(q, k.data, v.data, lengths, out, shape, { keys, values });
        const expected = new Float32Array(B * H * D);
        referenceCached(q, k.data, v.data, lengths, expected, shape);
        assertAllClose(`${what}, threads=${threads}`, out, expected);
      };
      // Pairs that overflow the region on their first mirror and come back after it was emptied.
      const pairs = [[0, 1], [2, 3], [0, 1], [4, 0], [1, 2], [3, 4], [0, 1]];
      pairs.forEach(([i, j], n) => check(i, j, `pair ${n}: caches ${i} and ${j}`));
      // A write that bypasses the mirror (a new version) after the region was refilled.
      caches[0].data.set(randn(200, 2 * WIDTH), CAP * WIDTH);
      caches[0].version++;
      check(0, 1, "after a write to a mirrored cache");
      // Freed caches' blocks are reused by new ones.
      for (const c of caches.slice(2)) (c as { freed: boolean }).freed = true;
      caches.push({ data: randn(300, cacheFloats), freed: false, version: 0 });
      check(5, 0, "a new cache in a freed block");
    } finally {
      engine.destroy();
    }
  }
});
