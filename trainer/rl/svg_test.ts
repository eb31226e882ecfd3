import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { escapeXml, niceTicks, renderChart } from "./svg.ts";

Deno.test("niceTicks gives round values covering the range", () => {
  assertEquals(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEquals(niceTicks(0, 40, 8), [0, 5, 10, 15, 20, 25, 30, 35, 40]);
  assertEquals(niceTicks(-1, 1, 4), [-1, -0.5, 0, 0.5, 1]);
});

Deno.test("renderChart draws axes, labels, legend and one path per series", () => {
  const svg = renderChart({
    title: "run <a&b>",
    xLabel: "step",
    panels: [
      {
        yLabel: "pass@1",
        yMin: 0,
        yMax: 1,
        series: [{ name: "eval", points: [[0, 0.2], [10, 0.5]], markers: true }],
      },
      { yLabel: "reward", series: [{ name: "mean reward", points: [[1, -0.5], [2, 0], [3, 0.25]] }] },
    ],
  });
  assertStringIncludes(svg, "<svg xmlns=");
  assertStringIncludes(svg, "run &lt;a&amp;b&gt;");
  for (const label of ["pass@1", "reward", "eval", "mean reward", ">step<"]) assertStringIncludes(svg, label);
  assertEquals(svg.match(/<path /g)?.length, 2);
  assertEquals(svg.match(/<circle /g)?.length, 2);
  assertEquals(svg.trim().endsWith("</svg>"), true);
  assertThrows(() => renderChart({ title: "", xLabel: "", panels: [{ yLabel: "", series: [] }] }), Error);
  assertEquals(escapeXml(`"'`), "&quot;&apos;");
});
