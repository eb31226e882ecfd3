import { assert, assertEquals } from "@std/assert";
import * as Q from "./rational.ts";

Deno.test("rational: decimals parse exactly and arithmetic stays in lowest terms", () => {
  assertEquals(Q.parseDecimal("0.25"), { num: 1n, den: 4n });
  assertEquals(Q.parseDecimal(".5"), { num: 1n, den: 2n });
  assertEquals(Q.parseDecimal("1.5e-3"), { num: 3n, den: 2000n });
  assertEquals(Q.parseDecimal("abc"), null);
  assertEquals(Q.parseDecimal("."), null);
  const third = Q.rational(1n, 3n)!, sixth = Q.rational(2n, 12n)!;
  assertEquals(sixth, { num: 1n, den: 6n });
  assertEquals(Q.add(third, sixth), { num: 1n, den: 2n });
  assertEquals(Q.sub(sixth, third), { num: -1n, den: 6n });
  assertEquals(Q.mul(third, Q.rational(3n)!), { num: 1n, den: 1n });
  assertEquals(Q.div(third, Q.rational(0n)!), null);
  assertEquals(Q.rational(1n, -2n), { num: -1n, den: 2n });
  assert(Q.equals(Q.parseDecimal("0.5")!, Q.rational(1n, 2n)!));
  assert(!Q.equals(Q.parseDecimal("0.5")!, third));
});

Deno.test("rational: powers are bounded so huge exponents give up instead of exhausting memory", () => {
  assertEquals(Q.pow(Q.rational(2n, 3n)!, Q.rational(-2n)!), { num: 9n, den: 4n });
  assertEquals(Q.pow(Q.rational(0n)!, Q.rational(-1n)!), null);
  assertEquals(Q.pow(Q.rational(2n)!, Q.rational(1n, 2n)!), null);
  assertEquals(Q.pow(Q.rational(10n)!, Q.rational(10_000_000_000n)!), null);
  assertEquals(Q.pow(Q.rational(3n)!, Q.rational(1009n)!)?.num, 3n ** 1009n);
  assertEquals(Q.toNumber(Q.rational(1n, 3n)!), 1 / 3);
  assertEquals(Q.toNumber(Q.rational(2n ** 1100n, 2n ** 1099n)!), 2);
});
