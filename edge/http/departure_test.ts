import { assertEquals } from "@std/assert";
import { clientSignal, trackDeparture } from "./departure.ts";

Deno.test("clientSignal: the tracked departure's signal, made on demand, aborted even when asked for late", () => {
  const early = new Request("http://x/");
  const d = trackDeparture(early);
  const signal = clientSignal(early);
  assertEquals(signal.aborted, false);
  d.leave("gone");
  assertEquals([signal.aborted, signal.reason, d.left], [true, "gone", true]);

  const late = new Request("http://x/");
  trackDeparture(late).leave("gone");
  assertEquals(clientSignal(late).aborted, true);
});

Deno.test("clientSignal: an untracked request (Deno.serve's) has its own signal", () => {
  const controller = new AbortController();
  const request = new Request("http://x/", { signal: controller.signal });
  const signal = clientSignal(request);
  controller.abort();
  assertEquals(signal.aborted, true);
});
