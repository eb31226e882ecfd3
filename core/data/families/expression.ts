/**
 * Arithmetic expressions with brackets and the order of operations, solved one operation at a time.
 *
 * @module
 */

import type { Rng } from "../../random/mod.ts";
import { boxed, type Generated, type Level, pick, randInt } from "./common.ts";

type Op = "+" | "-" | "*" | "/";
type Node = number | { op: Op; left: Node; right: Node };

const PREC: Record<Op, number> = { "+": 1, "-": 1, "*": 2, "/": 2 };

function build(rng: Rng, ops: number, maxLeaf: number, opset: readonly Op[]): Node {
  if (ops === 0) return randInt(rng, 1, maxLeaf);
  const k = rng.nextInt(ops);
  return {
    op: pick(rng, opset),
    left: build(rng, k, maxLeaf, opset),
    right: build(rng, ops - 1 - k, maxLeaf, opset),
  };
}

/** Prints with the brackets standard precedence needs; a right operand of equal precedence is bracketed. */
function show(node: Node): string {
  if (typeof node === "number") return String(node);
  const p = PREC[node.op];
  const l = show(node.left);
  const r = show(node.right);
  const lb = typeof node.left !== "number" && PREC[node.left.op] < p;
  const rb = typeof node.right !== "number" && PREC[node.right.op] <= p;
  return `${lb ? `(${l})` : l} ${node.op} ${rb ? `(${r})` : r}`;
}

function apply(op: Op, a: number, b: number): number | null {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return b !== 0 && a % b === 0 ? a / b : null;
  }
}

/** Reduces the first node (post-order, left first) whose operands are numbers; null when the step is invalid. */
function step(node: Node, maxValue: number): Node | null {
  if (typeof node === "number") return node;
  if (typeof node.left === "number" && typeof node.right === "number") {
    const v = apply(node.op, node.left, node.right);
    return v === null || v < 0 || v > maxValue ? null : v;
  }
  if (typeof node.left !== "number") {
    const left = step(node.left, maxValue);
    return left === null ? null : { ...node, left };
  }
  const right = step(node.right, maxValue);
  return right === null ? null : { ...node, right };
}

function attempt(
  rng: Rng,
  ops: number,
  maxLeaf: number,
  opset: readonly Op[],
  maxValue: number,
): Generated | null {
  let node = build(rng, ops, maxLeaf, opset);
  const text = show(node);
  const chain = [text];
  while (typeof node !== "number") {
    const next = step(node, maxValue);
    if (next === null) return null;
    node = next;
    chain.push(show(node));
  }
  const gold = String(node);
  return { prompt: `What is ${text}?`, gold, solution: `${chain.join(" = ")}. ${boxed(gold)}` };
}

/**
 * Expressions, evaluated one operation per step in the standard order ("3 + 4 * 2 = 3 + 8 = 11").
 * Level 1: two operations of + - * on 1..9; 2: three operations on 1..12 (brackets appear); 3: four operations
 * of + - * / on 1..20 (exact divisions). Intermediate values stay in [0, 999].
 */
export function expression(rng: Rng, level: Level): Generated {
  const [ops, maxLeaf, opset]: [number, number, readonly Op[]] = level === 1
    ? [2, 9, ["+", "-", "*"]]
    : level === 2
    ? [3, 12, ["+", "-", "*"]]
    : [4, 20, ["+", "-", "*", "/"]];
  for (;;) {
    const g = attempt(rng, ops, maxLeaf, opset, 999);
    if (g !== null) return g;
  }
}
