import { expect } from "@wdio/globals";

import { onboard, partyIdOf } from "../support/identity.js";
import { byTestId, textOf, windowOf } from "../support/windows.js";

/** The words of the phrase grid, without their numbers. */
async function phraseShownIn(win: WebdriverIO.Browser): Promise<string[]> {
  await expect(byTestId(win, "identity-phrase-words")).toBeDisplayed();
  return (await textOf(win, "identity-phrase-words")).match(/[a-z]+/g) ?? [];
}

describe("Identity: restore from the recovery phrase", () => {
  it("alice's 24 words from Settings, typed into bob's fresh window, restore alice's party", async () => {
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    await onboard(alice, "Alice");
    const alicePartyId = await partyIdOf(alice);

    await byTestId(alice, "identity-show-phrase").click();
    await byTestId(alice, "identity-show-phrase-confirm").click();
    const words = await phraseShownIn(alice);
    expect(words).toHaveLength(24);

    await expect(byTestId(bob, "onboarding")).toBeDisplayed();
    await byTestId(bob, "onboarding-restore").click();
    await byTestId(bob, "restore-tab-phrase").click();
    // One word wrong: refused, and the words stay for correcting.
    const wrong = [...words.slice(0, 23), words[23] === "zoo" ? "abandon" : "zoo"].join(" ");
    await byTestId(bob, "restore-phrase").setValue(wrong);
    await byTestId(bob, "restore-name").setValue("Alice");
    await byTestId(bob, "restore-phrase-submit").click();
    await expect(byTestId(bob, "onboarding-error")).toBeDisplayed();
    await expect(byTestId(bob, "restore-phrase")).toHaveValue(wrong);

    await byTestId(bob, "restore-phrase").setValue(words.join(" "));
    await byTestId(bob, "restore-phrase-submit").click();
    await byTestId(bob, "onboarding-done").click();
    await expect(byTestId(bob, "home-screen")).toBeDisplayed();
    expect(await partyIdOf(bob)).toEqual(alicePartyId);
  });
});
