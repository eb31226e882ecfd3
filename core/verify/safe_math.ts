/**
 * The restricted mathjs instance of the verifier. Expression trees are built node by node by our own LaTeX
 * parser; mathjs never sees a string from a response. `simplify` is captured before the instance is locked,
 * then every entry point that could evaluate text, define units or import functions is replaced by one that
 * throws, so not even a tree that slipped through could reach them.
 *
 * @module
 */

import type { MathJsInstance, MathNode } from "mathjs";
// mathjs's one-file build (the same release): loading its ES module tree (about 1,300 files) took 0.6 s of every
// process and worker that verifies, the single file about 0.2 s. Its default export is an instance of the
// complete library whose `create` makes a fresh one, as `create(all, config)` does.
import mathjsBuild from "mathjs/lib/browser/math.js";

const math = (mathjsBuild as { create(config: object): MathJsInstance }).create({});

const simplifyFn = math.simplify;
const ConstantNodeCtor = math.ConstantNode;
const SymbolNodeCtor = math.SymbolNode;
const OperatorNodeCtor = math.OperatorNode;
const FunctionNodeCtor = math.FunctionNode;

function disabled(name: string): () => never {
  return () => {
    throw new Error(`${name} is disabled in the verifier`);
  };
}

math.import(
  {
    import: disabled("import"),
    createUnit: disabled("createUnit"),
    evaluate: disabled("evaluate"),
    parse: disabled("parse"),
    compile: disabled("compile"),
    derivative: disabled("derivative"),
    resolve: disabled("resolve"),
    reviver: disabled("reviver"),
  },
  { override: true },
);

/** The locked mathjs instance (exported for tests that prove it is locked). */
export const lockedMath = math;

/** The binary operators the parser builds, with their mathjs function names. */
export const OPS = { "+": "add", "-": "subtract", "*": "multiply", "/": "divide", "^": "pow" } as const;

/** A numeric literal node; `literal` keeps the exact source digits. */
export function constantNode(value: number, literal: string): MathNode {
  const node = new ConstantNodeCtor(value);
  literals.set(node, literal);
  return node;
}

/** The exact decimal text each constant node was built from. */
export const literals: WeakMap<MathNode, string> = new WeakMap();

/** A symbol node (a variable or a constant such as `pi`). */
export function symbolNode(name: string): MathNode {
  return new SymbolNodeCtor(name);
}

/** A binary operator node. */
export function binaryNode(op: keyof typeof OPS, a: MathNode, b: MathNode): MathNode {
  return new OperatorNodeCtor(op, OPS[op], [a, b]);
}

/** A unary minus node. */
export function negateNode(a: MathNode): MathNode {
  return new OperatorNodeCtor("-", "unaryMinus", [a]);
}

/** A function call node; `name` must be one of the names the evaluator knows. */
export function functionNode(name: string, args: MathNode[]): MathNode {
  return new FunctionNodeCtor(new SymbolNodeCtor(name), args);
}

/**
 * mathjs `simplify` of a tree built by the parser. Returns the simplified tree or null when mathjs fails.
 * The caller bounds the tree size first: simplify itself cannot be interrupted.
 */
export function simplifyNode(node: MathNode): MathNode | null {
  try {
    return simplifyFn(node);
  } catch {
    return null;
  }
}
