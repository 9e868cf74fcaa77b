import { expect } from "@wdio/globals";

import { PARTY_NAMES, dataDirOf } from "../support/harness.js";
import { onboard } from "../support/identity.js";
import { byTestId, isDarkTheme, isToggleOn, waitForText, windowOf } from "../support/windows.js";

describe("Settings", () => {
  before(async () => {
    await onboard(windowOf("alice"), "Alice");
    await onboard(windowOf("bob"), "Bob");
  });

  after(async () => {
    // Alice's data directory, where the webview keeps the choice, outlives this spec file:
    // leave her on the default theme.
    const system = byTestId(windowOf("alice"), "theme-system");
    if (await system.isExisting()) await system.click();
  });

  it("the Settings screen switches theme", async () => {
    for (const party of PARTY_NAMES) {
      const win = windowOf(party);
      await byTestId(win, "nav-settings").click();
      await expect(byTestId(win, "settings-screen")).toBeDisplayed();
      await waitForText(win, "settings-data-dir", dataDirOf(party));
    }
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    const bobWasDark = await isDarkTheme(bob);

    await byTestId(alice, "theme-dark").click();
    await alice.waitUntil(() => isDarkTheme(alice), { timeoutMsg: "alice's window never turned dark" });
    expect(await isToggleOn(alice, "theme-dark")).toBe(true);
    expect(await isToggleOn(alice, "theme-light")).toBe(false);

    // Bob runs in his own process with his own storage: alice's choice must not reach him.
    expect(await isDarkTheme(bob)).toBe(bobWasDark);
    expect(await isToggleOn(bob, "theme-system")).toBe(true);
    expect(await bob.execute(() => window.localStorage.getItem("tallymesh.theme"))).not.toBe("dark");

    await byTestId(alice, "theme-light").click();
    await alice.waitUntil(async () => !(await isDarkTheme(alice)), { timeoutMsg: "alice's window stayed dark" });
    expect(await isToggleOn(alice, "theme-light")).toBe(true);
    expect(await isToggleOn(alice, "theme-dark")).toBe(false);
  });
});
