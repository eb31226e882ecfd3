import { assert, assertEquals, assertThrows } from "@std/assert";
import { encodeSafetensors, f16ToF32, f32ToF16, parseSafetensors } from "./safetensors.ts";
import { randn } from "../gpu/cpu/testing.ts";

const tensors = [
  { name: "a.weight", shape: [3, 4], data: randn(1, 12) },
  { name: "b", shape: [5], data: new Float32Array([0, -1.5, 65504, 1e-7, 3.14159]) },
];

Deno.test("safetensors: f32 round trip is exact, header is 8-byte aligned with metadata", () => {
  const bytes = encodeSafetensors(tensors, "F32", { format: "pt" });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assertEquals((8 + headerLen) % 8, 0);
  const file = parseSafetensors(bytes);
  assertEquals(file.metadata, { format: "pt" });
  assertEquals(file.tensors.get("a.weight")!.shape, [3, 4]);
  assertEquals(file.tensors.get("a.weight")!.toF32(), tensors[0].data);
  assertEquals(file.tensors.get("b")!.toF32(), tensors[1].data);
});

Deno.test("safetensors: f16 and bf16 round trips are within their precision", () => {
  for (const [dtype, rel] of [["F16", 1e-3], ["BF16", 8e-3]] as const) {
    const file = parseSafetensors(encodeSafetensors(tensors, dtype));
    const a = file.tensors.get("a.weight")!;
    assertEquals(a.dtype, dtype);
    const back = a.toF32();
    for (let i = 0; i < back.length; i++) {
      assert(Math.abs(back[i] - tensors[0].data[i]) <= rel * Math.abs(tensors[0].data[i]), `${dtype} ${i}`);
    }
  }
  assertEquals(parseSafetensors(encodeSafetensors(tensors, "BF16")).tensors.get("b")!.toF32()[1], -1.5);
});

Deno.test("f16 conversion: normal, subnormal, overflow, rounding to even and NaN", () => {
  assertEquals(f32ToF16(1), 0x3c00);
  assertEquals(f32ToF16(-2), 0xc000);
  assertEquals(f32ToF16(65504), 0x7bff);
  assertEquals(f32ToF16(1e6), 0x7c00);
  assertEquals(f32ToF16(2 ** -24), 0x0001);
  assertEquals(f32ToF16(2 ** -26), 0);
  assertEquals(f32ToF16(1 + 2 ** -11), 0x3c00); // tie: rounds to even
  assertEquals(f32ToF16(1 + 3 * 2 ** -11), 0x3c02);
  assert(Number.isNaN(f16ToF32(f32ToF16(NaN))));
  for (const x of [0.1, -3.75, 1e-5, 1234.5]) {
    assert(Math.abs(f16ToF32(f32ToF16(x)) - x) <= 1e-3 * Math.abs(x) + 6e-8);
  }
});

Deno.test("safetensors: unsupported dtypes, bad offsets and truncated files are rejected", () => {
  const bad = (header: unknown, dataLen: number) => {
    const head = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + head.length + dataLen);
    new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
    out.set(head, 8);
    return out;
  };
  assertThrows(
    () => parseSafetensors(bad({ x: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, 8)),
    Error,
    "I64",
  );
  assertThrows(
    () => parseSafetensors(bad({ x: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, 4)),
    Error,
    "offsets",
  );
  assertThrows(() => parseSafetensors(new Uint8Array(4)), Error, "shorter");
  assertThrows(
    () => encodeSafetensors([{ name: "x", shape: [2], data: new Float32Array(3) }], "F32"),
    RangeError,
  );
});

Deno.test("encodeSafetensors: a finite value beyond float16's range is refused, BF16 keeps it", () => {
  const tensors = [{ name: "w", shape: [3], data: new Float32Array([1, -7e4, 2]) }];
  assertThrows(() => encodeSafetensors(tensors, "F16"), RangeError, '"w"[1] = -70000 overflows float16');
  assertEquals(parseSafetensors(encodeSafetensors(tensors, "BF16")).tensors.get("w")!.toF32()[1], -70144);
  // Infinities stay infinities: they are not an overflow of the conversion.
  const inf = [{ name: "i", shape: [1], data: new Float32Array([Infinity]) }];
  assertEquals(parseSafetensors(encodeSafetensors(inf, "F16")).tensors.get("i")!.toF32()[0], Infinity);
});
