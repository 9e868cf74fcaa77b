/**
 * Identity steps every spec needs: onboarding a fresh window, and reading the party id a window
 * acts for.
 */
import { expect } from "@wdio/globals";

import { byTestId, textOf } from "./windows.js";

const PARTY_ID = /did:key:z[1-9A-HJ-NP-Za-km-z]+/;

/** Creates the identity `name` in a window that shows onboarding, and waits for Home. */
export async function onboard(win: WebdriverIO.Browser, name: string): Promise<void> {
  await expect(byTestId(win, "onboarding")).toBeDisplayed();
  await byTestId(win, "onboarding-name").setValue(name);
  await byTestId(win, "onboarding-create").click();
  await byTestId(win, "onboarding-done").click();
  await expect(byTestId(win, "home-screen")).toBeDisplayed();
}

/** The party id shown in Settings → Identity & backup. */
export async function partyIdOf(win: WebdriverIO.Browser): Promise<string> {
  await byTestId(win, "nav-settings").click();
  await expect(byTestId(win, "settings-identity")).toBeDisplayed();
  const shown = await textOf(win, "identity-party-id");
  const partyId = PARTY_ID.exec(shown)?.[0];
  if (!partyId) throw new Error(`Settings shows no party id: "${shown}"`);
  return partyId;
}
