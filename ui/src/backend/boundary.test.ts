import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

// Vitest runs from ui/; its module URLs are not file: URLs under jsdom.
const SRC = resolve(__dirname, "..");
const BACKEND = join(SRC, "backend");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(?:ts|tsx|js|jsx|mts|cts)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier a file imports, statically or dynamically, or re-exports from. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;
  return [...text.matchAll(pattern)].map((match) => match[1] ?? "");
}

const outsideBackend = sourceFiles(SRC).filter((file) => !file.startsWith(BACKEND + sep));

describe("the backend boundary", () => {
  it("finds the source files it checks", () => {
    expect(outsideBackend.length).toBeGreaterThan(10);
    expect(importsOf(join(BACKEND, "bindings.ts"))).toContain("@tauri-apps/api/core");
  });

  it("no file outside src/backend imports @tauri-apps/*", () => {
    const offenders = outsideBackend.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith("@tauri-apps/"))
        .map((specifier) => `${relative(SRC, file)} imports ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });

  it("no file outside src/backend imports the generated bindings", () => {
    const offenders = outsideBackend.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => /(?:^|\/)bindings(?:\.ts)?$/.test(specifier))
        .map((specifier) => `${relative(SRC, file)} imports ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });
});
