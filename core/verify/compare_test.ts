import { assert } from "@std/assert";
import { sameAnswer as same } from "./testing.ts";

Deno.test("compare: sets are unordered, tuples ordered, a tuple gold accepts its sorted set", () => {
  assert(same("\\{1,2,3\\}", "3, 1, 2"));
  assert(same("1, 2, 3", "(3, 2, 1)"));
  assert(!same("1, 2, 3", "1, 2"));
  assert(!same("1, 2", "1, 2, 3"));
  assert(same("(1,3)", "\\{1,3\\}"));
  assert(!same("(3,1)", "\\{1,3\\}"));
  assert(!same("[1,2,3]", "(1,3,2)"));
  assert(same("{1,3} \\cup {2,4}", "{1,2,3,4}"));
  assert(same("2", "2, 2"));
  assert(!same("\\sqrt{67},-\\sqrt{85}", "\\sqrt{67}"));
});

Deno.test("compare: intervals need the same brackets; unions compare as sets of intervals", () => {
  assert(same("[0.5, \\infty)", "[1/2, \\infty)"));
  assert(!same("[-3,2]", "(-3,2)"));
  assert(!same("[0,1)", "(0,1)"));
  assert(same("(-\\infty,-14)\\cup(-3,\\infty)", "(-3,\\infty)\\cup(-\\infty,-14)"));
  assert(!same("(-\\infty,-14)\\cup(-3,\\infty)", "(-\\infty,-14)"));
  assert(!same("[1, 2)", "[x, y)"));
});

Deno.test("compare: matrices cell by cell, vectors against tuples", () => {
  assert(
    same("\\begin{pmatrix}1&1/2\\\\1/3&4\\end{pmatrix}", "\\begin{bmatrix}1&0.5\\\\1/3&4\\end{bmatrix}"),
  );
  assert(!same("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}"));
  assert(!same("\\begin{pmatrix}1&2\\end{pmatrix}", "\\begin{pmatrix}1&2&3\\end{pmatrix}"));
  assert(same("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "(1, 2)"));
  assert(same("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "[[1,2],[3,4]]"));
});

Deno.test("compare: text, times, percentages and ellipses", () => {
  assert(same("\\text{Evelyn}", "Evelyn"));
  assert(same("\\text{Even}", "Even"));
  assert(!same("\\text{Evelyn}", "\\text{Briana}"));
  assert(same("20:34", "20:34:00"));
  assert(!same("12:00", "1:00"));
  assert(same("28\\%", "28"));
  assert(same("28\\%", "0.28"));
  assert(!same("0.28", "28"));
  assert(!same("40/9", "4 4/9\\%"));
  assert(!same("1, 2, 3", "1, 2, 3, \\dots"));
});
