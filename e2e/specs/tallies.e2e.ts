import path from "node:path";
import { expect } from "@wdio/globals";

import { becomeContacts } from "../support/contacts.js";
import { LOGS_DIR } from "../support/harness.js";
import { onboard, partyIdOf } from "../support/identity.js";
import { byTestId, clickTestId, dismissToasts, saveWindowScreenshot, textOf, waitForText, windowOf } from "../support/windows.js";

/**
 * How long a step that crosses the network may take: an offer through the partner's outbox, or a
 * chit through a round of the tally's consensus on both nodes. Generous, since these machines
 * are shared; a step that works takes a few seconds.
 */
const NETWORK_WAIT = 45_000;

/** Mocha's budget for a test that waits on the network several times. */
const MULTI_STEP_TEST = 240_000;

/** What a chit row shows, read from the DOM. */
interface ChitShown {
  id: string;
  status: string;
  title: string;
  amount: string;
}

function tallyRow(win: WebdriverIO.Browser, id: string) {
  return win.$(`[data-testid="tally-row"][data-tally-id="${id}"]`);
}

async function openTallies(win: WebdriverIO.Browser): Promise<void> {
  await clickTestId(win, "nav-tallies");
  await expect(byTestId(win, "tallies-screen")).toBeDisplayed();
}

/** Opens the tally `id` from the Tallies list, waiting for it to arrive there first. */
async function openTally(win: WebdriverIO.Browser, id: string, who: string): Promise<void> {
  await openTallies(win);
  const row = tallyRow(win, id);
  await row.waitForDisplayed({ timeout: NETWORK_WAIT, timeoutMsg: `the tally never appeared in ${who}'s list` });
  await row.click();
  await expect(win.$(`[data-testid="tally-page"][data-tally-id="${id}"]`)).toBeDisplayed();
}

/** Waits until the open tally page's stage badge says `stage` (offered, open, refused, ...). */
async function waitForStage(win: WebdriverIO.Browser, stage: string, who: string): Promise<void> {
  await expect(byTestId(win, "tally-header").$('[data-testid="stage-badge"]')).toHaveAttribute("data-stage", stage, {
    wait: NETWORK_WAIT,
    message: `${who}'s tally page never showed the tally ${stage}`,
  });
}

/** Waits until the negotiation panel reads `state` (waiting-us, waiting-partner, refused, ...). */
async function waitForNegotiation(win: WebdriverIO.Browser, state: string, who: string): Promise<void> {
  const panel = byTestId(win, "negotiation-state");
  await win.waitUntil(async () => (await panel.isExisting()) && (await panel.getAttribute("data-state")) === state, {
    timeout: NETWORK_WAIT,
    timeoutMsg: `${who}'s negotiation never read ${state}`,
  });
}

/**
 * Replaces what a prefilled field holds. WebDriver's clear does not reach React's state, so the
 * field is emptied the way a person does it: select all, delete.
 */
async function replaceValue(win: WebdriverIO.Browser, id: string, text: string): Promise<void> {
  const field = byTestId(win, id);
  await field.click();
  await win.keys(["Control", "a"]);
  await win.keys("Backspace");
  await field.addValue(text);
  await expect(field).toHaveValue(text);
}

/** The chit rows of the open tally page, newest first. */
async function chitsShown(win: WebdriverIO.Browser): Promise<ChitShown[]> {
  return win.execute(() =>
    Array.from(document.querySelectorAll<HTMLElement>('[data-testid="chit-row"]')).map((row) => ({
      id: row.dataset.chitId ?? "",
      status: row.dataset.status ?? "",
      title: row.querySelector('[data-testid="chit-title"]')?.textContent?.trim() ?? "",
      amount: row.querySelector('[data-testid="chit-amount"]')?.textContent?.trim() ?? "",
    })),
  );
}

/** Waits until the history shows `count` chits, every one final, and gives them. */
async function waitForFinalChits(win: WebdriverIO.Browser, count: number, who: string): Promise<ChitShown[]> {
  let shown: ChitShown[] = [];
  await win
    .waitUntil(
      async () => {
        shown = await chitsShown(win);
        return shown.length === count && shown.every((chit) => chit.status === "final");
      },
      { timeout: NETWORK_WAIT, timeoutMsg: `${who}'s history never showed ${count} final chits` },
    )
    .catch((error: Error) => {
      throw new Error(`${error.message}; it showed ${JSON.stringify(shown)}`);
    });
  return shown;
}

/** Waits until the tally header says the balance in words and in figures. */
async function waitForBalance(win: WebdriverIO.Browser, words: string, figure: string, who: string): Promise<void> {
  let shown = "";
  await win
    .waitUntil(
      async () => {
        const [saidWords, saidFigure] = await Promise.all([
          textOf(win, "tally-balance-words").catch(() => ""),
          textOf(win, "tally-balance").catch(() => ""),
        ]);
        shown = `${saidWords} | ${saidFigure}`;
        return saidWords === words && saidFigure === figure;
      },
      { timeout: NETWORK_WAIT, timeoutMsg: `${who}'s balance never read "${words} | ${figure}"` },
    )
    .catch((error: Error) => {
      throw new Error(`${error.message}; it read "${shown}"`);
    });
}

/** The tally id the page in `win` shows. */
async function shownTallyId(win: WebdriverIO.Browser): Promise<string> {
  const page = byTestId(win, "tally-page");
  await expect(page).toHaveAttribute("data-tally-id", expect.stringMatching(/\S/));
  return String(await page.getAttribute("data-tally-id"));
}

/** Fills and sends the new-tally form in `win` to the contact `partyId`; returns the new tally's id. */
async function offerTally(
  win: WebdriverIO.Browser,
  offer: { partyId: string; side: "stock" | "foil"; weGrant: string; theyGrant: string; memo: string },
): Promise<string> {
  await openTallies(win);
  await clickTestId(win, "new-tally-open");
  await expect(byTestId(win, "new-tally")).toBeDisplayed();
  await byTestId(win, "new-tally-partner").selectByAttribute("value", offer.partyId);
  await clickTestId(win, `new-tally-side-${offer.side}`);
  await byTestId(win, "terms-we-grant").setValue(offer.weGrant);
  await byTestId(win, "terms-they-grant").setValue(offer.theyGrant);
  await byTestId(win, "new-tally-memo").setValue(offer.memo);
  await clickTestId(win, "new-tally-submit");
  // Sent, the form gives way to the tally's own page.
  await expect(byTestId(win, "tally-page")).toBeDisplayed();
  return shownTallyId(win);
}

describe("Tallies between two windows", () => {
  let alicePartyId = "";
  let bobPartyId = "";
  let tallyId = "";

  before(async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    await onboard(alice, "Alice");
    await onboard(bob, "Bob");
    alicePartyId = await partyIdOf(alice);
    bobPartyId = await partyIdOf(bob);
    await becomeContacts({ win: alice, partyId: alicePartyId, name: "alice" }, { win: bob, partyId: bobPartyId, name: "bob" });
  });

  it("alice offers bob a tally and bob sees the offer, on Home and on its page", async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    const bob = windowOf("bob");

    // Alice mostly buys from Bob (foil): she asks him for up to 50 CHIP of credit.
    tallyId = await offerTally(alice, { partyId: bobPartyId, side: "foil", weGrant: "0", theyGrant: "50", memo: "Vegetable box" });
    await waitForStage(alice, "offered", "alice");
    await waitForNegotiation(alice, "waiting-partner", "alice");

    await clickTestId(bob, "nav-home");
    const needs = bob.$(`[data-testid="needs-you-item"][href="#/tallies/${tallyId}"]`);
    await needs.waitForDisplayed({ timeout: NETWORK_WAIT, timeoutMsg: "the offer never showed in bob's Needs you" });
    await expect(needs.$('[data-testid="needs-you-text"]')).toHaveText("Alice offers you a tally");

    await openTally(bob, tallyId, "bob");
    await waitForStage(bob, "offered", "bob");
    await waitForNegotiation(bob, "waiting-us", "bob");
    await waitForText(bob, "tally-partner", "Alice");
    // Bob reads the terms from his side: Alice may owe him up to 50.
    await waitForText(bob, "terms-after-weGrant", "50.000 CHIP");
    await waitForText(bob, "terms-after-theyGrant", "0.000 CHIP");
    await expect(bob.$$('[data-testid="revision"]')).toBeElementsArrayOfSize(1);
  });

  it("bob counters the limit, alice sees revision 2 with what changed, accepts, and both see it open", async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    const bob = windowOf("bob");

    await clickTestId(bob, "tally-counter");
    await expect(byTestId(bob, "counter-form")).toBeDisplayed();
    await replaceValue(bob, "terms-we-grant", "30");
    await clickTestId(bob, "counter-submit");
    await waitForNegotiation(bob, "waiting-partner", "bob");

    await waitForNegotiation(alice, "waiting-us", "alice");
    await expect(byTestId(alice, "stage-badge")).toHaveText("New terms for you");
    await expect(alice.$$('[data-testid="revision"]')).toBeElementsArrayOfSize(2);
    await expect(alice.$$('[data-testid="revision"]')[1]!).toHaveText(expect.stringContaining("Revision 2 · Bob"));
    // The diff: what Alice may owe Bob went from 50 to 30; nothing else changed.
    const changed = byTestId(alice, "terms-row-theyGrant");
    await expect(changed).toHaveAttribute("data-changed", "true");
    await waitForText(alice, "terms-before-theyGrant", "50.000 CHIP");
    await waitForText(alice, "terms-after-theyGrant", "30.000 CHIP");
    for (const row of ["weGrant", "ourCall", "theirCall", "memo", "contract"]) {
      await expect(byTestId(alice, `terms-row-${row}`)).toHaveAttribute("data-changed", "false");
    }
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "tallies-counter-alice.png"));

    await clickTestId(alice, "tally-accept");
    await waitForStage(alice, "open", "alice");
    await waitForStage(bob, "open", "bob");
    for (const [win, who] of [
      [alice, "alice"],
      [bob, "bob"],
    ] as const) {
      await waitForBalance(win, "Even: nobody owes anything", "0.000 CHIP", who);
      await expect(byTestId(win, "chits-empty")).toBeDisplayed();
    }
  });

  it("alice pays 12.500 and bob's window shows the chit and that Alice owes him", async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    const bob = windowOf("bob");

    await clickTestId(alice, "pay-open");
    await expect(byTestId(alice, "pay-dialog")).toBeDisplayed();
    await byTestId(alice, "pay-amount").setValue("12.500");
    await byTestId(alice, "pay-memo").setValue("Vegetables, week 1");
    await clickTestId(alice, "pay-submit");
    await expect(byTestId(alice, "pay-dialog")).not.toBeExisting();

    const [bobsChit] = await waitForFinalChits(bob, 1, "bob");
    expect(bobsChit).toMatchObject({ title: "Alice paid you", amount: "+12.500 CHIP" });
    await waitForBalance(bob, "Alice owes you 12.500 CHIP", "+12.500 CHIP", "bob");

    const [alicesChit] = await waitForFinalChits(alice, 1, "alice");
    expect(alicesChit).toMatchObject({ id: bobsChit!.id, title: "You paid Bob", amount: "−12.500 CHIP" });
    await waitForBalance(alice, "You owe Bob 12.500 CHIP", "−12.500 CHIP", "alice");
  });

  it("bob invoices 2.000, alice pays it, and both windows show the same history and balance", async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    const bob = windowOf("bob");

    await clickTestId(bob, "invoice-open");
    await expect(byTestId(bob, "invoice-dialog")).toBeDisplayed();
    await byTestId(bob, "invoice-amount").setValue("2");
    await byTestId(bob, "invoice-memo").setValue("Eggs");
    await clickTestId(bob, "invoice-submit");
    await expect(byTestId(bob, "invoice-dialog")).not.toBeExisting();

    const invoice = byTestId(alice, "incoming-invoice");
    await invoice.waitForDisplayed({ timeout: NETWORK_WAIT, timeoutMsg: "bob's invoice never reached alice's tally page" });
    // Its memo line is truncated to fit, which WebKit's visible text leaves out: read the DOM's text.
    const invoiceText = String(await invoice.getProperty("textContent"));
    expect(invoiceText).toContain("2.000 CHIP");
    expect(invoiceText).toContain("Eggs");
    await clickTestId(alice, "invoice-approve");
    await expect(byTestId(alice, "incoming-invoices")).not.toBeExisting({ wait: NETWORK_WAIT });

    const alicesHistory = await waitForFinalChits(alice, 3, "alice");
    const bobsHistory = await waitForFinalChits(bob, 3, "bob");
    // The same chits in the same order, each told from its reader's side.
    expect(alicesHistory.map((chit) => chit.id)).toEqual(bobsHistory.map((chit) => chit.id));
    expect(alicesHistory.map(({ title, amount }) => ({ title, amount }))).toEqual([
      { title: "You paid Bob's invoice", amount: "−2.000 CHIP" },
      { title: "Bob asked you to pay", amount: "2.000 CHIP" },
      { title: "You paid Bob", amount: "−12.500 CHIP" },
    ]);
    expect(bobsHistory.map(({ title, amount }) => ({ title, amount }))).toEqual([
      { title: "Alice paid your invoice", amount: "+2.000 CHIP" },
      { title: "You asked Alice to pay", amount: "2.000 CHIP" },
      { title: "Alice paid you", amount: "+12.500 CHIP" },
    ]);
    await waitForBalance(alice, "You owe Bob 14.500 CHIP", "−14.500 CHIP", "alice");
    await waitForBalance(bob, "Alice owes you 14.500 CHIP", "+14.500 CHIP", "bob");

    for (const [win, who] of [
      [alice, "alice"],
      [bob, "bob"],
    ] as const) {
      await dismissToasts(win);
      await saveWindowScreenshot(win, path.join(LOGS_DIR, `tallies-tally-${who}.png`));
    }

    // Home sums it up the same way: the net position over open tallies.
    for (const [win, net] of [
      [alice, "−14.500 CHIP"],
      [bob, "+14.500 CHIP"],
    ] as const) {
      await clickTestId(win, "nav-home");
      await waitForText(win, "position-net", net);
    }
  });

  it("a payment past the credit limit is refused with the node's sentence, and nothing changes", async () => {
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    await openTally(alice, tallyId, "alice");
    await openTally(bob, tallyId, "bob");
    const before = await waitForFinalChits(alice, 3, "alice");

    // Bob lets Alice owe him up to 30 and she owes 14.5: 15.5 is left.
    await clickTestId(alice, "pay-open");
    await byTestId(alice, "pay-amount").setValue("20");
    await clickTestId(alice, "pay-submit");
    await waitForText(
      alice,
      "pay-error",
      "A payment of 20.000 CHIP is over the credit limit: at most 15.500 CHIP can be paid now.",
    );
    await expect(byTestId(alice, "pay-dialog")).toBeDisplayed();
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "tallies-over-limit-alice.png"));
    await alice.keys("Escape");
    await expect(byTestId(alice, "pay-dialog")).not.toBeExisting();

    expect(await chitsShown(alice)).toEqual(before);
    await waitForBalance(alice, "You owe Bob 14.500 CHIP", "−14.500 CHIP", "alice");
    await waitForBalance(bob, "Alice owes you 14.500 CHIP", "+14.500 CHIP", "bob");
    expect((await chitsShown(bob)).map((chit) => chit.id)).toEqual(before.map((chit) => chit.id));
  });

  it("bob refuses a second offer with a reason, and both windows show it refused", async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    const bob = windowOf("bob");

    const refusedId = await offerTally(alice, {
      partyId: bobPartyId,
      side: "stock",
      weGrant: "100",
      theyGrant: "0",
      memo: "Bike repairs",
    });
    expect(refusedId).not.toEqual(tallyId);

    await openTally(bob, refusedId, "bob");
    await waitForNegotiation(bob, "waiting-us", "bob");
    await clickTestId(bob, "tally-refuse");
    await expect(byTestId(bob, "refuse-dialog")).toBeDisplayed();
    await byTestId(bob, "refuse-reason").setValue("I don't repair bikes");
    await clickTestId(bob, "refuse-confirm");
    await waitForStage(bob, "refused", "bob");
    await waitForNegotiation(bob, "refused", "bob");
    await expect(byTestId(bob, "negotiation-state")).toHaveText(expect.stringContaining("You refused this offer."));
    await expect(byTestId(bob, "tally-accept")).not.toBeExisting();

    await waitForStage(alice, "refused", "alice");
    await waitForNegotiation(alice, "refused", "alice");
    await expect(byTestId(alice, "negotiation-state")).toHaveText(expect.stringContaining("Bob refused this offer."));
    await waitForText(alice, "refusal-reason", "Reason: I don't repair bikes");

    // The list keeps both tallies apart: the refused offer, and the open tally as it was.
    await openTallies(alice);
    await expect(tallyRow(alice, refusedId).$('[data-testid="stage-badge"]')).toHaveAttribute("data-stage", "refused");
    await expect(tallyRow(alice, tallyId).$('[data-testid="stage-badge"]')).toHaveAttribute("data-stage", "open");
    await expect(tallyRow(alice, tallyId).$('[data-testid="tally-row-balance"]')).toHaveText("−14.500 CHIP");
  });
});
