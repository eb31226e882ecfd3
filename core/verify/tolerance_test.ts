import { assert } from "@std/assert";
import { close, decimalsAgree } from "./tolerance.ts";

const re = (x: number) => ({ re: x, im: 0 });

Deno.test("decimalsAgree: relative tolerance, or rounding to the given places", () => {
  const rel = { relTol: 1e-6, decimalPlaces: null };
  assert(decimalsAgree(re(1.0000001), re(1), rel));
  assert(!decimalsAgree(re(1.00001), re(1), rel));
  const places = { relTol: 1e-6, decimalPlaces: 2 };
  assert(decimalsAgree(re(3.141), re(3.14), places));
  assert(!decimalsAgree(re(3.146), re(3.14), places));
  assert(decimalsAgree({ re: 1, im: 2.001 }, { re: 1, im: 2 }, places));
});

Deno.test("close: against an exact zero only rounding noise counts as zero", () => {
  assert(close(re(0), re(1e-13), 1e-6));
  assert(!close(re(0), re(1e-9), 1e-6));
  assert(close({ re: 3, im: 4 }, { re: 3, im: 4.000001 }, 1e-6));
});
