/**
 * Amounts on a tally are integers of the unit's smallest part: with CHIP's
 * scale of 3, 12500 is 12.500 CHIP. They are written and read here with
 * integer arithmetic only, so no amount ever passes through a float.
 */
import type { UnitView } from "@/backend";

/** The largest amount the UI accepts, in smallest units: what a JavaScript number holds exactly. */
export const MAX_UNITS = Number.MAX_SAFE_INTEGER;

function separators(locale: string): { decimal: string; group: string } {
  const parts = new Intl.NumberFormat(locale).formatToParts(12_345.6);
  return {
    decimal: parts.find((part) => part.type === "decimal")?.value ?? ".",
    group: parts.find((part) => part.type === "group")?.value ?? ",",
  };
}

/** "12.500" for 12500 at scale 3, in the locale's digits and separators; the sign as "−" when negative. */
export function formatUnits(units: number, scale: number, locale: string, options: { sign?: "auto" | "always" } = {}): string {
  const negative = units < 0;
  const magnitude = BigInt(Math.abs(Math.trunc(units)));
  const base = 10n ** BigInt(scale);
  const whole = magnitude / base;
  const fraction = (magnitude % base).toString().padStart(scale, "0");
  const { decimal } = separators(locale);
  const wholeText = new Intl.NumberFormat(locale, { useGrouping: true }).format(whole);
  const text = scale > 0 ? `${wholeText}${decimal}${fraction}` : wholeText;
  if (negative) return `−${text}`;
  if (options.sign === "always" && units > 0) return `+${text}`;
  return text;
}

/** "12.500 CHIP": an amount with its unit code. */
export function formatAmount(
  units: number,
  unit: UnitView,
  locale: string,
  options: { sign?: "auto" | "always" } = {},
): string {
  return `${formatUnits(units, unit.scale, locale, options)} ${unit.code}`;
}

/** Why typed text is not an amount; each has a sentence in `amount.errors`. */
export type AmountProblem = "empty" | "notANumber" | "tooManyDecimals" | "negative" | "zero" | "tooLarge";

export type ParsedAmount =
  | {
      ok: true;
      /** The amount in smallest units. */
      units: number;
      /** The amount as the node reads it: digits, a dot, and the unit's decimals ("12.500"). */
      text: string;
    }
  | { ok: false; problem: AmountProblem };

/**
 * Reads an amount as a person types it: digits with one decimal mark (a dot,
 * or a comma in the locales that write one), no more decimals than the unit's
 * scale. Grouping marks are not accepted, so "1,000" is never a guess.
 */
export function parseAmount(
  input: string,
  scale: number,
  options: { allowZero?: boolean; max?: number } = {},
): ParsedAmount {
  const text = input.trim().replace(/\s+/g, "");
  if (text === "") return { ok: false, problem: "empty" };
  if (/^[-−]/.test(text)) return { ok: false, problem: "negative" };
  const match = /^\+?(\d*)(?:[.,](\d*))?$/.exec(text);
  if (!match || (match[1] === "" && (match[2] ?? "") === "")) return { ok: false, problem: "notANumber" };
  const whole = match[1] || "0";
  const fraction = match[2] ?? "";
  if (fraction.length > scale) return { ok: false, problem: "tooManyDecimals" };
  const digits = BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, "0") || "0");
  if (digits > BigInt(options.max ?? MAX_UNITS)) return { ok: false, problem: "tooLarge" };
  const units = Number(digits);
  if (units === 0 && !options.allowZero) return { ok: false, problem: "zero" };
  return { ok: true, units, text: unitsToText(units, scale) };
}

/** The amount as the node reads it: "12.500" for 12500 at scale 3, no grouping, a dot. */
export function unitsToText(units: number, scale: number): string {
  const negative = units < 0;
  const magnitude = BigInt(Math.abs(Math.trunc(units)));
  const base = 10n ** BigInt(scale);
  const whole = (magnitude / base).toString();
  const text = scale > 0 ? `${whole}.${(magnitude % base).toString().padStart(scale, "0")}` : whole;
  return negative ? `-${text}` : text;
}

/** Reads a percentage as typed ("0.5", "0,25") into millionths of the whole (0.5 % → 5000). */
export function parsePercentPpm(input: string): ParsedAmount {
  // A percent with 4 decimals is a millionth: 0.0001 % = 1 ppm.
  return parseAmount(input, 4, { allowZero: true, max: 100_0000 });
}

/** 5000 ppm → "0.5" (percent, locale digits, no trailing zeros). */
export function formatPpmPercent(ppm: number, locale: string): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 4 }).format(ppm / 10_000);
}
