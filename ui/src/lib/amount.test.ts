import { describe, expect, it } from "vitest";
import { formatAmount, formatUnits, parseAmount, parsePercentPpm, unitsToText } from "./amount";

const CHIP = { code: "CHIP", scale: 3 };

describe("formatAmount", () => {
  it("writes integer units with the unit's scale and code", () => {
    expect(formatAmount(12_500, CHIP, "en")).toBe("12.500 CHIP");
    expect(formatAmount(1_234_567, CHIP, "en")).toBe("1,234.567 CHIP");
    expect(formatAmount(5, CHIP, "en")).toBe("0.005 CHIP");
  });

  it("signs debts and, when asked, credits", () => {
    expect(formatAmount(-7_250, CHIP, "en")).toBe("−7.250 CHIP");
    expect(formatUnits(12_500, 3, "en", { sign: "always" })).toBe("+12.500");
    expect(formatUnits(0, 3, "en", { sign: "always" })).toBe("0.000");
  });

  it("uses the locale's separators", () => {
    expect(formatAmount(12_345_678, CHIP, "es")).toBe("12.345,678 CHIP");
  });

  it("stays exact past what floats can hold in decimals", () => {
    expect(formatUnits(9_007_199_254_740_991, 3, "en")).toBe("9,007,199,254,740.991");
  });
});

describe("parseAmount", () => {
  it("reads decimals with a dot or a comma into integer units", () => {
    expect(parseAmount("12.5", 3)).toEqual({ ok: true, units: 12_500, text: "12.500" });
    expect(parseAmount("12,5", 3)).toEqual({ ok: true, units: 12_500, text: "12.500" });
    expect(parseAmount(" 50 ", 3)).toEqual({ ok: true, units: 50_000, text: "50.000" });
    expect(parseAmount(".25", 3)).toEqual({ ok: true, units: 250, text: "0.250" });
    expect(parseAmount("0.1", 3)).toMatchObject({ units: 100 });
  });

  it("says what is wrong", () => {
    expect(parseAmount("", 3)).toEqual({ ok: false, problem: "empty" });
    expect(parseAmount("12.5001", 3)).toEqual({ ok: false, problem: "tooManyDecimals" });
    expect(parseAmount("1,000.5", 3)).toEqual({ ok: false, problem: "notANumber" });
    expect(parseAmount("abc", 3)).toEqual({ ok: false, problem: "notANumber" });
    expect(parseAmount("-3", 3)).toEqual({ ok: false, problem: "negative" });
    expect(parseAmount("0", 3)).toEqual({ ok: false, problem: "zero" });
    expect(parseAmount("0", 3, { allowZero: true })).toMatchObject({ ok: true, units: 0 });
    expect(parseAmount("99999999999999999", 3)).toEqual({ ok: false, problem: "tooLarge" });
  });

  it("round-trips through the node's text", () => {
    expect(unitsToText(10_001, 3)).toBe("10.001");
    expect(unitsToText(-500, 3)).toBe("-0.500");
    expect(unitsToText(42, 0)).toBe("42");
  });

  it("reads percentages into millionths", () => {
    expect(parsePercentPpm("0.5")).toMatchObject({ ok: true, units: 5_000 });
    expect(parsePercentPpm("0,25")).toMatchObject({ ok: true, units: 2_500 });
    expect(parsePercentPpm("0.00001")).toMatchObject({ ok: false, problem: "tooManyDecimals" });
    expect(parsePercentPpm("101")).toMatchObject({ ok: false, problem: "tooLarge" });
  });
});
