/**
 * Units of measurement after an answer (`5 kg`, `3.5 \\text{ gal}`, `10 \\text{ m}^2`, `12 square feet`): a
 * small table of units by dimension with exact factors, so that `5 kilograms` is `5 kg`, `5000 g` can be
 * converted to `5 kg`, and `3.5 gal` is never `3.5 L`.
 *
 * @module
 */

import { isDigitCode, isSpaceCode } from "./scan.ts";

/** A unit: its dimension and its size in the dimension's base unit, as an exact fraction. */
interface UnitDef {
  dim: string;
  num: number;
  den: number;
}

function units(dim: string, num: number, den: number, names: string): [string, UnitDef][] {
  return names.split(" ").map((n) => [n, { dim, num, den }]);
}

const GALLON_ML: [number, number] = [473176473, 125000];

/** Unit names (exact spelling first, then lower case) to definitions. US customary units for gal, qt, pt, cup. */
const UNITS = new Map<string, UnitDef>([
  ...units("length", 1, 1, "m meter meters metre metres"),
  ...units("length", 1, 100, "cm centimeter centimeters centimetre centimetres"),
  ...units("length", 1, 1000, "mm millimeter millimeters millimetre millimetres"),
  ...units("length", 1000, 1, "km kilometer kilometers kilometre kilometres"),
  ...units("length", 127, 5000, "in inch inches"),
  ...units("length", 381, 1250, "ft foot feet"),
  ...units("length", 1143, 1250, "yd yard yards"),
  ...units("length", 201168, 125, "mi mile miles"),
  ...units("mass", 1, 1, "g gram grams gramme grammes"),
  ...units("mass", 1000, 1, "kg kilogram kilograms kilogramme kilogrammes kilo kilos"),
  ...units("mass", 1, 1000, "mg milligram milligrams"),
  ...units("mass", 1000000, 1, "tonne tonnes"),
  ...units("mass", 45359237, 100000, "lb lbs pound pounds"),
  ...units("mass", 45359237, 1600000, "oz ounce ounces"),
  ...units("volume", 1, 1, "mL ml milliliter milliliters millilitre millilitres"),
  ...units("volume", 1000, 1, "L l liter liters litre litres"),
  ...units("volume", GALLON_ML[0], GALLON_ML[1], "gal gallon gallons"),
  ...units("volume", GALLON_ML[0], GALLON_ML[1] * 4, "qt quart quarts"),
  ...units("volume", GALLON_ML[0], GALLON_ML[1] * 8, "pt pint pints"),
  ...units("volume", GALLON_ML[0], GALLON_ML[1] * 16, "cup cups"),
  ...units("time", 1, 1, "s sec secs second seconds"),
  ...units("time", 60, 1, "min mins minute minutes"),
  ...units("time", 3600, 1, "h hr hrs hour hours"),
  ...units("time", 86400, 1, "day days"),
  ...units("time", 604800, 1, "week weeks"),
  ...units("speed", 1, 1, "m/s"),
  ...units("speed", 5, 18, "km/h kph"),
  ...units("speed", 1397, 3125, "mph"),
  ...units("money", 100, 1, "dollar dollars"),
  ...units("money", 1, 1, "cent cents"),
]);

/** An answer split into its value and its unit. */
export interface Quantity {
  /** The value as written (`5`, `\\frac{1}{2}`). */
  value: string;
  /** The unit's name as written (`kg`). */
  unit: string;
  /** The unit's dimension with its power (`length^2`). */
  dim: string;
  /** The unit's size in the base unit of its dimension (with the power applied), as numerator/denominator. */
  num: bigint;
  den: bigint;
}

const WRAPPER = /\\(?:text|textnormal|textrm|mathrm|mbox|operatorname)\s*\{([^{}]*)\}/g;
const SPACING = /\\[,;:! ]|\\q?quad(?![a-zA-Z])|~/g;
const POWER_WORDS: Record<string, number> = { square: 2, sq: 2, cubic: 3 };

function lookup(name: string): UnitDef | undefined {
  return UNITS.get(name) ?? (name.length > 2 ? UNITS.get(name.toLowerCase()) : undefined);
}

/**
 * The value and unit of an answer that ends in a known unit, or null. The unit must be set apart from the
 * value by a space or a `\\text{}`.
 */
export function splitUnit(answer: string): Quantity | null {
  // Every unit is written with letters or `\$`; most answers (plain numbers) have neither.
  if (answer.length > 200 || !/[A-Za-z$]/.test(answer)) return null;
  // `\$5`: a dollar sign before the value.
  const dollar = /^\s*\\\$\s*/.exec(answer);
  if (dollar) {
    const value = answer.slice(dollar[0].length).trim();
    if (value === "" || splitUnit(value) !== null || /[A-Za-z]/.test(value.replace(/\\[a-zA-Z]+/g, ""))) {
      return null;
    }
    return { value, unit: "$", dim: "money", num: 100n, den: 1n };
  }
  const s = answer.replace(WRAPPER, " $1 ").replace(SPACING, " ").replace(/\$/g, " ");
  let end = s.length;
  const skipBack = () => {
    while (end > 0 && (isSpaceCode(s.charCodeAt(end - 1)) || ".,;".includes(s[end - 1]))) end--;
  };
  skipBack();
  let power = 1;
  if (s[end - 1] === "²" || s[end - 1] === "³") power = s[--end] === "²" ? 2 : 3;
  else {
    const m = /\^\s*\{?\s*([23])\s*\}?$/.exec(s.slice(Math.max(0, end - 12), end));
    if (m) [power, end] = [Number(m[1]), end - m[0].length];
  }
  skipBack();
  let start = end;
  while (start > 0 && /[A-Za-z/]/.test(s[start - 1])) start--;
  const name = s.slice(start, end);
  const def = lookup(name);
  if (def === undefined) return null;
  let valueEnd = start;
  while (valueEnd > 0 && isSpaceCode(s.charCodeAt(valueEnd - 1))) valueEnd--;
  // `10cm` and `5m` read as products, as they parse (`10 cm` and `5 \text{m}` are quantities).
  if (valueEnd === start && !/\\text|\\mathrm|\\mbox/.test(answer)) return null;
  // "12 square feet": a power written as a word before the unit.
  const before = /([A-Za-z]+)$/.exec(s.slice(Math.max(0, valueEnd - 8), valueEnd));
  if (before && POWER_WORDS[before[1].toLowerCase()] !== undefined && power === 1) {
    power = POWER_WORDS[before[1].toLowerCase()];
    valueEnd -= before[1].length;
  }
  const value = s.slice(0, valueEnd).trim();
  // The value must be a number or a LaTeX expression of numbers (no words, no variables).
  const letters = value.replace(/\\[a-zA-Z]+/g, "");
  if (value === "" || /[A-Za-z]/.test(letters) || ![...value].some((c) => isDigitCode(c.charCodeAt(0)))) {
    return null;
  }
  const num = BigInt(def.num) ** BigInt(power), den = BigInt(def.den) ** BigInt(power);
  return { value, unit: name, dim: power === 1 ? def.dim : `${def.dim}^${power}`, num, den };
}

/**
 * How a response's quantity relates to the gold's: the response value rewritten in the gold's unit
 * (`(5000)*(1/1000)` for `5000 g` against `5 kg`), or an error when the units cannot be equal:
 * different dimensions, or different units of one dimension when `sameUnit` is required.
 */
export function inGoldUnit(gold: Quantity, pred: Quantity, sameUnit: boolean): string | Error {
  if (gold.dim !== pred.dim) return new Error(`different units (${gold.unit} and ${pred.unit})`);
  const num = pred.num * gold.den, den = pred.den * gold.num;
  if (num === den) return pred.value;
  if (sameUnit) return new Error(`the answer is in ${pred.unit}, the question asks for ${gold.unit}`);
  return `(${pred.value})*(${num}/${den})`;
}
