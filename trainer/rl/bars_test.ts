import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { renderBars } from "./bars.ts";

Deno.test("renderBars: one bar per value, one error bar per interval, escaped labels and a legend", () => {
  const svg = renderBars({
    title: "a < b",
    yLabel: "%",
    series: ["oreal", "grpo"],
    groups: [
      { label: "final", bars: [{ value: 50, interval: [45, 55] }, { value: 40, interval: null }] },
      { label: "AUC", bars: [{ value: 70, interval: [60, 80] }, null] },
    ],
  });
  assertEquals(svg.match(/class="bar"/g)?.length, 3);
  assertEquals(svg.match(/class="err"/g)?.length, 2);
  for (const text of ["a &lt; b", "oreal", "grpo", "final", "AUC"]) assertStringIncludes(svg, text);
  assertThrows(() =>
    renderBars({ title: "", yLabel: "", series: ["x"], groups: [{ label: "g", bars: [null] }] })
  );
});
