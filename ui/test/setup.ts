import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, beforeEach } from "vitest";
import { installMatchMedia, resetMatchMedia } from "./match-media";

// Radix measures popper content with ResizeObserver, which jsdom lacks.
class NoopResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= NoopResizeObserver as unknown as typeof ResizeObserver;

installMatchMedia();

beforeEach(() => {
  window.localStorage.clear();
  window.location.hash = "";
  document.documentElement.className = "";
  document.documentElement.removeAttribute("style");
  resetMatchMedia();
});

afterEach(() => {
  cleanup();
});
