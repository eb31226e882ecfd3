/**
 * Finding the last `\boxed{...}` of a text, brace-balanced (dataset solutions put their answer there).
 *
 * @module
 */

/**
 * The content of the last `\boxed{...}` (or `\fbox{...}`) in `text`, with nested braces kept balanced, or null
 * when there is none or its braces never close.
 */
export function lastBoxed(text: string): string | null {
  const at = Math.max(text.lastIndexOf("\\boxed{"), text.lastIndexOf("\\fbox{"));
  if (at < 0) return null;
  const open = text.indexOf("{", at);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") depth++;
    else if (ch === "}") {
      depth--;
      if (depth === 0) return text.slice(open + 1, i);
    }
  }
  return null;
}
