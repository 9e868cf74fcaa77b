import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect } from "@wdio/globals";

import { LOGS_DIR, dataDirOf } from "../support/harness.js";
import { onboard, partyIdOf } from "../support/identity.js";
import { byTestId, saveWindowScreenshot, textOf, windowOf } from "../support/windows.js";

function contactRow(win: WebdriverIO.Browser, partyId: string) {
  return win.$(`[data-testid="contact-row"][data-party-id="${partyId}"]`);
}

async function waitForOnline(win: WebdriverIO.Browser, partyId: string, online: boolean, who: string) {
  const row = contactRow(win, partyId);
  await row.waitForExist({ timeout: 30_000, timeoutMsg: `${who} never appeared as a contact` });
  await win.waitUntil(async () => (await row.getAttribute("data-online")) === String(online), {
    timeout: 45_000,
    timeoutMsg: `${who} never showed as ${online ? "online" : "offline"}`,
  });
}

describe("Contacts online", () => {
  let alicePartyId = "";
  let bobPartyId = "";

  before(async () => {
    await onboard(windowOf("alice"), "Alice");
    await onboard(windowOf("bob"), "Bob");
    alicePartyId = await partyIdOf(windowOf("alice"));
    bobPartyId = await partyIdOf(windowOf("bob"));
  });

  it("bob redeems alice's invite link and each sees the other online", async () => {
    const alice = windowOf("alice");
    const bob = windowOf("bob");

    await byTestId(alice, "nav-contacts").click();
    await byTestId(alice, "my-card-open").click();
    await expect(byTestId(alice, "my-card-qr")).toBeDisplayed();
    const plain = await textOf(alice, "my-card-link");
    await byTestId(alice, "invite-oneTime").click();
    await byTestId(alice, "my-card-new").click();
    // A new card, signed with the invite on it, replaces the plain one.
    let link = plain;
    await alice.waitUntil(
      async () => {
        link = await textOf(alice, "my-card-link");
        return link !== plain;
      },
      { timeoutMsg: "alice's card with an invite never appeared" },
    );
    await alice.keys("Escape");

    await byTestId(bob, "nav-contacts").click();
    await byTestId(bob, "add-contact-open").click();
    await byTestId(bob, "add-paste-input").setValue(link);
    await byTestId(bob, "add-paste-submit").click();
    await expect(byTestId(bob, "card-preview-invite")).toBeDisplayed();
    await byTestId(bob, "card-preview-add").click();

    // The handshake left each with the other's card, and they stay connected.
    await waitForOnline(bob, alicePartyId, true, "alice in bob's window");
    await waitForOnline(alice, bobPartyId, true, "bob in alice's window");
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "presence-alice.png"));
  });

  it("stopping bob's app turns his dot offline in alice's window", async () => {
    const alice = windowOf("alice");
    // The app stops its node on SIGTERM, as when its window closes. (Closing the window through
    // WebDriver would end both parties' sessions.) This is the last test of the file: bob's
    // window is gone after it.
    execFileSync("pkill", ["-TERM", "-f", "--", `--data-dir ${dataDirOf("bob")}`]);
    await waitForOnline(alice, bobPartyId, false, "bob, after his app closed,");
    await contactRow(alice, bobPartyId).click();
    let shown = "";
    await alice.waitUntil(
      async () => {
        shown = await textOf(alice, "contact-detail-presence");
        return shown.includes("Last seen");
      },
      { timeoutMsg: "bob's contact page never said when he was last seen" },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; it said "${shown}"`);
    });
  });
});
