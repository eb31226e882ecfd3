import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { QueueFullError, SlotQueue } from "./queue.ts";

Deno.test("SlotQueue: grants slots in arrival order up to the concurrency", async () => {
  const queue = new SlotQueue(2, 10);
  const order: string[] = [];
  const a = await queue.acquire();
  const b = await queue.acquire();
  assertEquals(queue.active, 2);
  const c = queue.acquire().then((release) => (order.push("c"), release));
  const d = queue.acquire().then((release) => (order.push("d"), release));
  assertEquals(queue.waiting, 2);
  a();
  a(); // a second call does nothing
  const releaseC = await c;
  assertEquals(order, ["c"]);
  assertEquals(queue.waiting, 1);
  b();
  const releaseD = await d;
  assertEquals(order, ["c", "d"]);
  releaseC();
  releaseD();
  assertEquals(queue.active, 0);
});

Deno.test("SlotQueue: a full waiting line is refused and an aborted waiter leaves it", async () => {
  const queue = new SlotQueue(1, 1);
  const held = await queue.acquire();
  const controller = new AbortController();
  const waiting = queue.acquire({ signal: controller.signal });
  await assertRejects(() => queue.acquire(), QueueFullError);
  controller.abort(new Error("gone"));
  await assertRejects(() => waiting, Error, "gone");
  assertEquals(queue.waiting, 0);
  held();
  assertEquals(queue.active, 0);
  const again = await queue.acquire();
  assertEquals(queue.active, 1);
  again();
  await assertRejects(
    () => queue.acquire({ signal: AbortSignal.abort(new Error("already")) }),
    Error,
    "already",
  );
});

Deno.test("SlotQueue: bad sizes are refused", () => {
  assertThrows(() => new SlotQueue(0, 1), RangeError, "concurrency");
  assertThrows(() => new SlotQueue(1, -1), RangeError, "maxWaiting");
});

Deno.test("SlotQueue: cheaper waiters go first unless a costlier one has waited out its cost", async () => {
  const queue = new SlotQueue(1, 10);
  const order: string[] = [];
  const held = await queue.acquire();
  const take = (name: string, cost: number) =>
    queue.acquire({ cost }).then((release) => {
      order.push(name);
      release();
    });
  const big = take("big", 1_000_000);
  await new Promise((r) => setTimeout(r, 5));
  const small = take("small", 1);
  held();
  await Promise.all([big, small]);
  assertEquals(order, ["small", "big"]);
  // A costly waiter that has waited longer than its cost goes before a new cheap one.
  order.length = 0;
  const again = await queue.acquire();
  const old = take("old", 10);
  await new Promise((r) => setTimeout(r, 40));
  const fresh = take("fresh", 1);
  again();
  await Promise.all([old, fresh]);
  assertEquals(order, ["old", "fresh"]);
});

Deno.test("SlotQueue: a resuming request is never refused as over maxWaiting", async () => {
  const queue = new SlotQueue(1, 0);
  const held = await queue.acquire();
  await assertRejects(() => queue.acquire(), QueueFullError);
  const resumed = queue.acquire({ resume: true });
  assertEquals(queue.waiting, 1);
  held();
  (await resumed)();
  assertEquals(queue.active, 0);
});
