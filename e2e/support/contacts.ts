/**
 * Contact steps two-party specs share: making one window's card with an invite, redeeming it in
 * the other, and waiting for a contact's presence dot.
 */
import { expect } from "@wdio/globals";

import { byTestId, textOf } from "./windows.js";

/** The row of the contact with party id `partyId` on the Contacts screen. */
export function contactRow(win: WebdriverIO.Browser, partyId: string) {
  return win.$(`[data-testid="contact-row"][data-party-id="${partyId}"]`);
}

/** Waits until the contact `partyId` shows as online (or offline) in `win`'s contact list. */
export async function waitForOnline(
  win: WebdriverIO.Browser,
  partyId: string,
  online: boolean,
  who: string,
): Promise<void> {
  const row = contactRow(win, partyId);
  await row.waitForExist({ timeout: 30_000, timeoutMsg: `${who} never appeared as a contact` });
  await win.waitUntil(async () => (await row.getAttribute("data-online")) === String(online), {
    timeout: 45_000,
    timeoutMsg: `${who} never showed as ${online ? "online" : "offline"}`,
  });
}

/** Makes a new card with a one-time invite on it in `win` (Contacts → My card) and gives its link. */
export async function inviteLink(win: WebdriverIO.Browser): Promise<string> {
  await byTestId(win, "nav-contacts").click();
  await byTestId(win, "my-card-open").click();
  await expect(byTestId(win, "my-card-qr")).toBeDisplayed();
  const plain = await textOf(win, "my-card-link");
  await byTestId(win, "invite-oneTime").click();
  await byTestId(win, "my-card-new").click();
  // A new card, signed with the invite on it, replaces the plain one.
  let link = plain;
  await win.waitUntil(
    async () => {
      link = await textOf(win, "my-card-link");
      return link !== plain;
    },
    { timeoutMsg: "the card with an invite never appeared" },
  );
  await win.keys("Escape");
  return link;
}

/** Pastes an invite link into `win` (Contacts → Add) and adds the card it carries. */
export async function redeemInvite(win: WebdriverIO.Browser, link: string): Promise<void> {
  await byTestId(win, "nav-contacts").click();
  await byTestId(win, "add-contact-open").click();
  await byTestId(win, "add-paste-input").setValue(link);
  await byTestId(win, "add-paste-submit").click();
  await expect(byTestId(win, "card-preview-invite")).toBeDisplayed();
  await byTestId(win, "card-preview-add").click();
}

/** A party as a contact step sees it: its window, and the party id the other side knows it by. */
export interface ContactParty {
  win: WebdriverIO.Browser;
  partyId: string;
  /** Its name in failure messages. */
  name: string;
}

/**
 * `redeemer` redeems an invite `inviter` made: the handshake leaves each with the other's card.
 * Returns once each window shows the other as an online contact.
 */
export async function becomeContacts(inviter: ContactParty, redeemer: ContactParty): Promise<void> {
  const link = await inviteLink(inviter.win);
  await redeemInvite(redeemer.win, link);
  await waitForOnline(redeemer.win, inviter.partyId, true, `${inviter.name} in ${redeemer.name}'s window`);
  await waitForOnline(inviter.win, redeemer.partyId, true, `${redeemer.name} in ${inviter.name}'s window`);
}
