import { afterEach, describe, expect, it, vi } from "vitest";
import en from "./en.json";
import es from "./es.json";
import { formatDuration, formatRoundTrip, formatTimeAgo } from "./format";
import { createI18n, initialLanguage } from "./index";

const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;

function leafKeys(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafKeys(child, prefix ? `${prefix}.${key}` : key));
}

/** Keys with plural forms folded to their base, since languages differ in how many forms they need. */
function messageKeys(resource: unknown): string[] {
  return [...new Set(leafKeys(resource).map((key) => key.replace(PLURAL_SUFFIX, "")))].sort();
}

describe("translations", () => {
  it("every key in en.json exists in es.json and vice versa", () => {
    expect(messageKeys(es)).toEqual(messageKeys(en));
  });

  it.each([
    ["en", en],
    ["es", es],
  ] as const)("%s has every plural form its grammar needs", (language, resource) => {
    const categories = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
    const keys = new Set(leafKeys(resource));
    const bases = [...keys].filter((key) => PLURAL_SUFFIX.test(key)).map((key) => key.replace(PLURAL_SUFFIX, ""));
    for (const base of new Set(bases)) {
      for (const category of categories) expect(keys).toContain(`${base}_${category}`);
    }
  });

  it("has no empty messages", () => {
    for (const resource of [en, es]) {
      for (const key of leafKeys(resource)) {
        const value = key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], resource);
        expect(value, key).toMatch(/\S/);
      }
    }
  });

  it("picks the plural form for the language", () => {
    expect(createI18n("en").t("home.ready.peers", { count: 1 })).toBe("Connected to 1 peer");
    expect(createI18n("es").t("home.ready.peers", { count: 4 })).toBe("Conectado a 4 pares");
  });
});

describe("initial language", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("follows the browser's language when nothing was chosen", () => {
    vi.spyOn(navigator, "languages", "get").mockReturnValue(["es-ES", "en"]);
    expect(initialLanguage()).toBe("es");
  });

  it("falls back to English for a language it doesn't speak", () => {
    vi.spyOn(navigator, "languages", "get").mockReturnValue(["de-DE"]);
    vi.spyOn(navigator, "language", "get").mockReturnValue("de-DE");
    expect(initialLanguage()).toBe("en");
  });

  it("prefers the saved choice", () => {
    vi.spyOn(navigator, "languages", "get").mockReturnValue(["es-ES"]);
    window.localStorage.setItem("tallymesh.language", "en");
    expect(initialLanguage()).toBe("en");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [42, "42s"],
    [12 * 60 + 5, "12m 05s"],
    [3 * 3600 + 12 * 60 + 5, "3h 12m 05s"],
    [2 * 86400 + 4 * 3600 + 12 * 60 + 5, "2d 4h 12m"],
  ])("formats %i seconds as %s in English", (seconds, text) => {
    expect(formatDuration(seconds, "en")).toBe(text);
  });

  it("uses the locale's unit names", () => {
    expect(formatDuration(12 * 60 + 5, "es")).toBe("12min 05s");
  });
});

describe("formatTimeAgo", () => {
  const now = 1_700_000_000_000;
  it.each([
    [20_000, "this minute"],
    [5 * 60_000 + 50_000, "5 minutes ago"],
    [3 * 3_600_000, "3 hours ago"],
    [26 * 3_600_000, "yesterday"],
    [15 * 86_400_000, "2 weeks ago"],
  ])("says %i ms ago as %s in English", (ago, text) => {
    expect(formatTimeAgo(now - ago, now, "en")).toBe(text);
  });

  it("uses the locale's words", () => {
    expect(formatTimeAgo(now - 5 * 60_000, now, "es")).toBe("hace 5 minutos");
  });
});

describe("formatRoundTrip", () => {
  it("writes milliseconds with the locale's unit", () => {
    expect(formatRoundTrip(12, "en")).toBe("12 ms");
    expect(formatRoundTrip(12.4, "es")).toBe("12 ms");
  });
});
