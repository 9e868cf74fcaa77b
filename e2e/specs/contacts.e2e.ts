import { existsSync } from "node:fs";
import path from "node:path";
import { expect } from "@wdio/globals";

import { LOGS_DIR } from "../support/harness.js";
import { onboard, partyIdOf } from "../support/identity.js";
import { byTestId, saveWindowScreenshot, textOf, waitForText, windowOf } from "../support/windows.js";

/** The same link with one character of its signature changed. */
function tampered(link: string): string {
  const at = link.length - 10;
  const changed = link[at] === "A" ? "B" : "A";
  return link.slice(0, at) + changed + link.slice(at + 1);
}

async function openAddContact(win: WebdriverIO.Browser): Promise<void> {
  await byTestId(win, "nav-contacts").click();
  await expect(byTestId(win, "contacts-screen")).toBeDisplayed();
  await byTestId(win, "add-contact-open").click();
}

describe("Contacts", () => {
  let alicePartyId = "";
  let aliceLink = "";

  before(async () => {
    await onboard(windowOf("alice"), "Alice");
    await onboard(windowOf("bob"), "Bob");
    alicePartyId = await partyIdOf(windowOf("alice"));
  });

  it("alice's card link pasted into bob's window adds alice with her party id", async () => {
    const alice = windowOf("alice");
    const bob = windowOf("bob");

    await byTestId(alice, "nav-contacts").click();
    await byTestId(alice, "my-card-open").click();
    await expect(byTestId(alice, "my-card-qr")).toBeDisplayed();
    aliceLink = await textOf(alice, "my-card-link");
    expect(aliceLink).toMatch(/^tallymesh:card\?v=1&d=[A-Za-z0-9_-]+$/);
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "contacts-my-card-alice.png"));

    await byTestId(bob, "nav-contacts").click();
    await expect(byTestId(bob, "contacts-empty")).toBeDisplayed();
    await openAddContact(bob);
    await byTestId(bob, "add-paste-input").setValue(aliceLink);
    await byTestId(bob, "add-paste-submit").click();
    await waitForText(bob, "card-preview-name", "Alice");
    await waitForText(bob, "card-preview-party-id", alicePartyId);
    await byTestId(bob, "card-preview-add").click();

    const row = bob.$(`[data-testid="contact-row"][data-party-id="${alicePartyId}"]`);
    await expect(row).toBeDisplayed();
    await row.click();
    await waitForText(bob, "contact-detail-name", "Alice");
    await waitForText(bob, "contact-detail-party-id", alicePartyId);
    await saveWindowScreenshot(bob, path.join(LOGS_DIR, "contacts-bob.png"));
  });

  it("a tampered link is refused with a readable message and adds nobody", async () => {
    const bob = windowOf("bob");
    await openAddContact(bob);
    await byTestId(bob, "add-paste-input").setValue(tampered(aliceLink));
    await byTestId(bob, "add-paste-submit").click();

    await waitForText(bob, "add-contact-error", "This link was changed after it was made, so it can't be trusted.");
    await expect(byTestId(bob, "card-preview")).not.toBeExisting();
    await bob.keys("Escape");
    await expect(bob.$$('[data-testid="contact-row"]')).toBeElementsArrayOfSize(1);
  });

  it("the camera way says so when the computer has no camera", async function () {
    // A developer's machine may have a webcam; CI machines have none.
    if (existsSync("/dev/video0")) this.skip();
    const bob = windowOf("bob");
    await openAddContact(bob);
    await byTestId(bob, "add-tab-camera").click();
    await byTestId(bob, "add-camera-start").click();

    const message = byTestId(bob, "camera-message");
    await expect(message).toHaveText(expect.stringContaining("No camera was found."));
    await saveWindowScreenshot(bob, path.join(LOGS_DIR, "contacts-no-camera-bob.png"));
  });
});
