/**
 * Reaching into the app windows from specs (worker process): one `WebdriverIO.Browser` per
 * party, elements by `data-testid` only.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { multiRemoteBrowser } from "@wdio/globals";
import type { ChainablePromiseElement } from "webdriverio";

import { LOGS_DIR, PARTY_NAMES, type PartyName } from "./harness.js";

/** Screenshots can show the frame before the last DOM change; this lets the webview paint. */
const PAINT_SETTLE_MS = 500;

/** The window of one party. */
export function windowOf(party: PartyName): WebdriverIO.Browser {
  const win = multiRemoteBrowser.getInstance(party);
  if (!win) throw new Error(`No app window for ${party}; is the multiremote config missing it?`);
  return win;
}

/** The element marked `data-testid="<id>"` in `win`. */
export function byTestId(win: WebdriverIO.Browser, id: string): ChainablePromiseElement {
  return win.$(`[data-testid="${id}"]`);
}

/** Closes every toast in `win`, as a person does when one covers what they want to click. */
export async function dismissToasts(win: WebdriverIO.Browser): Promise<void> {
  for (const button of await win.$$('[data-testid="toast-dismiss"]')) {
    // A toast may have timed out meanwhile.
    await button.click().catch(() => undefined);
  }
}

/**
 * Clicks the element marked `id`. Toasts come and go in a corner and can cover a button there;
 * when one takes the click, the toasts are dismissed and the click made again.
 */
export async function clickTestId(win: WebdriverIO.Browser, id: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await byTestId(win, id).click();
      return;
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("click intercepted")) throw error;
      await dismissToasts(win);
    }
  }
}

/** The element's text as the DOM holds it (`textContent`, trimmed), whatever the layout. */
export async function textOf(win: WebdriverIO.Browser, id: string): Promise<string> {
  const element = byTestId(win, id);
  await element.waitForExist();
  return String(await element.getProperty("textContent")).trim();
}

/** Waits until the element's `textContent` equals `expected`, and says what it was if it never did. */
export async function waitForText(win: WebdriverIO.Browser, id: string, expected: string): Promise<void> {
  let last = "";
  await win
    .waitUntil(
      async () => {
        last = await textOf(win, id).catch(() => "");
        return last === expected;
      },
      { timeoutMsg: `[data-testid="${id}"] never read "${expected}"` },
    )
    .catch((error: Error) => {
      throw new Error(`${error.message}; last text: "${last}"`);
    });
}

/** Whether the document carries the `dark` theme class. */
export async function isDarkTheme(win: WebdriverIO.Browser): Promise<boolean> {
  return win.execute(() => document.documentElement.classList.contains("dark"));
}

/** Whether a toggle (theme, language) is the chosen one. */
export async function isToggleOn(win: WebdriverIO.Browser, id: string): Promise<boolean> {
  const element = byTestId(win, id);
  const [state, checked] = await Promise.all([element.getAttribute("data-state"), element.getAttribute("aria-checked")]);
  return state === "on" || checked === "true";
}

/**
 * Waits until the page's finite animations and transitions (a toggle's background fading in)
 * have finished and two more frames have been drawn. Infinite ones, like a pulsing status dot,
 * are not waited for; neither is anything beyond a few seconds.
 */
async function waitForAnimations(win: WebdriverIO.Browser): Promise<void> {
  await win.executeAsync((done: () => void) => {
    const finishing = document
      .getAnimations()
      .filter((animation) => animation.effect?.getComputedTiming().iterations !== Infinity)
      .map((animation) => animation.finished.catch(() => undefined));
    const enough = new Promise((resolve) => setTimeout(resolve, 3_000));
    void Promise.race([Promise.all(finishing), enough]).then(() =>
      requestAnimationFrame(() => requestAnimationFrame(() => done())),
    );
  });
}

/** Saves a screenshot of `win` once what is in the DOM has been painted. */
export async function saveWindowScreenshot(win: WebdriverIO.Browser, file: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  await waitForAnimations(win).catch(() => undefined);
  await win.pause(PAINT_SETTLE_MS);
  await win.saveScreenshot(file);
}

/**
 * After a failed test: a screenshot and the DOM of every party's window in `e2e/logs/`, named
 * after the test. Best effort: a window that no longer answers is skipped.
 */
export async function saveFailureEvidence(testTitle: string): Promise<void> {
  const stem = testTitle.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase().slice(0, 80);
  for (const party of PARTY_NAMES) {
    const base = path.join(LOGS_DIR, `failed-${stem}-${party}`);
    try {
      const win = windowOf(party);
      await saveWindowScreenshot(win, `${base}.png`);
      const html = await win.execute(() => document.documentElement.outerHTML);
      writeFileSync(`${base}.html`, html);
    } catch (error) {
      console.warn(`Could not save the ${party} window after "${testTitle}": ${String(error)}`);
    }
  }
}
