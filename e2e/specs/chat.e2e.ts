import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { expect } from "@wdio/globals";

import { becomeContacts } from "../support/contacts.js";
import { LOGS_DIR, cliBinary, dataDirOf, runDir } from "../support/harness.js";
import { onboard, partyIdOf } from "../support/identity.js";
import { byTestId, clickTestId, dismissToasts, saveWindowScreenshot, textOf, windowOf } from "../support/windows.js";

/** How long a step that crosses the network may take; generous, since these machines are shared. */
const NETWORK_WAIT = 60_000;

/** Mocha's budget for a test that waits on the network several times. */
const MULTI_STEP_TEST = 300_000;

/** Bob's always-on mailbox: a headless node with a key file. */
const BOX_PASSPHRASE = "bob's mailbox key file passphrase";

function boxDir(): string {
  return path.join(runDir(), "chat", "bob-box");
}

/** Runs the real `tallymesh` command on `dataDir` (a running app's or the box's). */
function cli(dataDir: string, args: string[]): string {
  return execFileSync(cliBinary(), ["--data-dir", dataDir, ...args], {
    env: { ...process.env, TALLYMESH_PASSPHRASE: BOX_PASSPHRASE },
    encoding: "utf8",
    timeout: 60_000,
  });
}

/** A free TCP port on loopback: an always-on mailbox keeps its address across restarts. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts `tallymesh node run --mailbox-only` for Bob's box; its output goes to the logs folder. */
function startBox(port: number): ChildProcess {
  mkdirSync(boxDir(), { recursive: true });
  const log = openSync(path.join(LOGS_DIR, "chat-bob-box.log"), "a");
  return spawn(
    cliBinary(),
    [
      "node",
      "run",
      "--key-file",
      "--mailbox-only",
      "--no-lan-discovery",
      "--listen",
      `/ip4/127.0.0.1/tcp/${port}`,
      "--data-dir",
      boxDir(),
    ],
    { env: { ...process.env, TALLYMESH_PASSPHRASE: BOX_PASSPHRASE }, stdio: ["ignore", log, log] },
  );
}

async function openChat(win: WebdriverIO.Browser): Promise<void> {
  await clickTestId(win, "nav-chat");
  await expect(byTestId(win, "chat-screen")).toBeDisplayed();
}

/** The `data-*` attribute `key` of the first element marked `testId` whose text holds `text`. */
async function findByText(win: WebdriverIO.Browser, testId: string, text: string, key: string): Promise<string | null> {
  return win.execute(
    (id: string, words: string, attribute: string) => {
      const found = Array.from(document.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)).find((element) =>
        (element.textContent ?? "").includes(words),
      );
      return found ? (found.getAttribute(attribute) ?? "") : null;
    },
    testId,
    text,
    key,
  );
}

/** Waits until the element marked `id` (the first) holds `text` in its `textContent`. */
async function waitForContent(win: WebdriverIO.Browser, id: string, text: string, who: string): Promise<void> {
  let last = "";
  await win.waitUntil(
    async () => {
      last = await textOf(win, id).catch(() => "");
      return last.includes(text);
    },
    { timeout: NETWORK_WAIT, timeoutMsg: `${who}: [data-testid="${id}"] never held "${text}" (last: "${last}")` },
  );
}

/** Opens the one-to-one conversation with `name`, starting it if there is none yet. */
async function openConversation(win: WebdriverIO.Browser, partyId: string, name: string): Promise<void> {
  await openChat(win);
  const start = win.$(`[data-testid="chat-start"][data-party-id="${partyId}"]`);
  let row: string | null = null;
  await win.waitUntil(
    async () => {
      row = await findByText(win, "chat-conversation", name, "data-conversation-id");
      return row !== null || (await start.isExisting());
    },
    { timeout: NETWORK_WAIT, timeoutMsg: `no conversation with ${name}, and no way to start one` },
  );
  if (row !== null) await win.$(`[data-testid="chat-conversation"][data-conversation-id="${row}"]`).click();
  else await start.click();
  await waitForContent(win, "chat-thread-title", name, `the thread with ${name}`);
}

async function send(win: WebdriverIO.Browser, text: string): Promise<void> {
  await byTestId(win, "chat-composer").setValue(text);
  await clickTestId(win, "chat-send");
}

/** Waits until the open thread shows a message saying `text`. */
async function waitForMessage(win: WebdriverIO.Browser, text: string, who: string): Promise<void> {
  await win.waitUntil(async () => (await findByText(win, "chat-message", text, "data-message-id")) !== null, {
    timeout: NETWORK_WAIT,
    timeoutMsg: `${who} never saw "${text}"`,
  });
}

async function waitForStatus(win: WebdriverIO.Browser, text: string, statuses: string[], who: string): Promise<void> {
  let last = "";
  await win.waitUntil(
    async () => {
      const id = await findByText(win, "chat-message", text, "data-message-id");
      const mark = id ? win.$(`[data-message-id="${id}"] [data-testid="chat-status"]`) : null;
      last = mark && (await mark.isExisting()) ? ((await mark.getAttribute("data-status")) ?? "") : "";
      return statuses.includes(last);
    },
    { timeout: NETWORK_WAIT, timeoutMsg: `${who} never saw "${text}" ${statuses.join(" or ")} (last: ${last})` },
  );
}

describe("Chat between two windows", () => {
  let alicePartyId = "";
  let bobPartyId = "";
  let box: ChildProcess | null = null;

  before(async () => {
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    await onboard(alice, "Alice");
    await onboard(bob, "Bob");
    alicePartyId = await partyIdOf(alice);
    bobPartyId = await partyIdOf(bob);
    await becomeContacts(
      { win: alice, partyId: alicePartyId, name: "Alice" },
      { win: bob, partyId: bobPartyId, name: "Bob" },
    );
  });

  after(() => {
    box?.kill("SIGTERM");
  });

  it("alice and bob exchange messages both ways, with delivery and read receipts", async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    await openConversation(alice, bobPartyId, "Bob");
    await send(alice, "Hello Bob, lunch at one?");
    await waitForMessage(alice, "Hello Bob, lunch at one?", "Alice");

    await openConversation(bob, alicePartyId, "Alice");
    await waitForMessage(bob, "Hello Bob, lunch at one?", "Bob");
    // Bob has the thread open: he read it, and Alice hears so.
    await waitForStatus(alice, "Hello Bob, lunch at one?", ["read"], "Alice");

    await send(bob, "Yes, see you there");
    await waitForMessage(alice, "Yes, see you there", "Alice");
    await waitForStatus(bob, "Yes, see you there", ["read"], "Bob");
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "chat-thread-alice.png"));
    await saveWindowScreenshot(bob, path.join(LOGS_DIR, "chat-thread-bob.png"));
  });

  it("bob's headless mailbox holds alice's message while his app is stopped, and he gets it when it returns", async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    let bob = windowOf("bob");

    // Bob enrolls an always-on box that keeps his mail.
    const port = await freePort();
    box = startBox(port);
    await bob.waitUntil(
      async () => {
        try {
          cli(boxDir(), ["status"]);
          return true;
        } catch {
          return false;
        }
      },
      { timeout: NETWORK_WAIT, timeoutMsg: "the headless mailbox never answered" },
    );
    await clickTestId(bob, "nav-settings");
    await clickTestId(bob, "devices-enroll");
    const link = await textOf(bob, "enroll-link");
    await bob.keys("Escape");
    cli(boxDir(), ["cadre", "join", link, "--name", "Bob's box"]);
    const bobPeer = (JSON.parse(cli(dataDirOf("bob"), ["status", "--json"])) as { peerId: string }).peerId;
    // The box holds Bob's one-time keys, and Alice's copy of Bob's card names where it listens.
    await bob.waitUntil(
      async () => {
        const status = JSON.parse(cli(boxDir(), ["mailbox", "status", "--json"])) as {
          held: { peerId: string; keys: number }[];
        };
        const keys = status.held.some((h) => h.peerId === bobPeer && h.keys > 0);
        const card = JSON.parse(cli(dataDirOf("alice"), ["contact", "list", "--json"])) as {
          partyId: string;
          addresses: string[];
        }[];
        const known = card.some((c) => c.partyId === bobPartyId && c.addresses.some((a) => a.includes(`/tcp/${port}`)));
        return keys && known;
      },
      { timeout: NETWORK_WAIT, timeoutMsg: "the mailbox never got Bob's keys, or Alice never learned where it is" },
    );

    // Bob's app stops.
    await bob.deleteSession();
    await openConversation(alice, bobPartyId, "Bob");
    await send(alice, "Sent while you were away");
    await waitForStatus(alice, "Sent while you were away", ["held"], "Alice");
    const held = JSON.parse(cli(boxDir(), ["mailbox", "status", "--json"])) as {
      held: { peerId: string; items: number }[];
    };
    expect(held.held.find((h) => h.peerId === bobPeer)?.items).toBe(1);
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "chat-held-alice.png"));

    // Bob's app comes back on the same data directory and fetches from the box.
    await bob.reloadSession();
    bob = windowOf("bob");
    await expect(byTestId(bob, "home-screen")).toBeDisplayed({ wait: NETWORK_WAIT });
    await openConversation(bob, alicePartyId, "Alice");
    await waitForMessage(bob, "Sent while you were away", "Bob");
    await waitForStatus(alice, "Sent while you were away", ["delivered", "read"], "Alice");
  });

  it("bob asks for a payment in the thread and alice pays from it: both threads and the tally show it", async function () {
    this.timeout(MULTI_STEP_TEST);
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    // A tally between them, set up through the running apps' control endpoints.
    const offered = JSON.parse(
      cli(dataDirOf("alice"), [
        "tally",
        "offer",
        "--to",
        bobPartyId,
        "--side",
        "foil",
        "--we-grant",
        "0",
        "--they-grant",
        "50",
        "--json",
      ]),
    ) as { id: string };
    await bob.waitUntil(
      async () => {
        try {
          cli(dataDirOf("bob"), ["tally", "accept", offered.id]);
          return true;
        } catch {
          return false;
        }
      },
      { timeout: NETWORK_WAIT, timeoutMsg: "Bob never got the tally offer" },
    );
    await alice.waitUntil(
      async () =>
        (JSON.parse(cli(dataDirOf("alice"), ["tally", "show", offered.id, "--json"])) as {
          tally: { summary: { stage: string } };
        }).tally.summary.stage === "open",
      { timeout: NETWORK_WAIT, timeoutMsg: "the tally never opened for Alice" },
    );

    await openConversation(bob, alicePartyId, "Alice");
    await dismissToasts(bob);
    await clickTestId(bob, "chat-request-open");
    await byTestId(bob, "chat-request-amount").setValue("5");
    await byTestId(bob, "chat-request-memo").setValue("Lunch");
    await clickTestId(bob, "chat-request-send");
    await waitForContent(bob, "chat-payment-request", "You asked for 5.000 CHIP", "Bob");

    await openConversation(alice, bobPartyId, "Bob");
    const request = byTestId(alice, "chat-payment-request");
    await expect(request).toBeDisplayed({ wait: NETWORK_WAIT });
    await dismissToasts(alice);
    await request.$('[data-testid="chat-pay"]').click();
    await expect(request).toHaveAttribute("data-paid", "true", { wait: NETWORK_WAIT });
    await waitForContent(alice, "chat-payment", "You paid 5.000 CHIP", "Alice");

    await waitForContent(bob, "chat-payment", "Paid you 5.000 CHIP", "Bob");
    await expect(byTestId(bob, "chat-payment-request")).toHaveAttribute("data-paid", "true", { wait: NETWORK_WAIT });
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "chat-paid-alice.png"));
    await saveWindowScreenshot(bob, path.join(LOGS_DIR, "chat-paid-bob.png"));

    // The tally shows the chit on both sides.
    for (const [win, dir, balance] of [
      [alice, dataDirOf("alice"), -5_000],
      [bob, dataDirOf("bob"), 5_000],
    ] as const) {
      await win.waitUntil(
        async () =>
          (JSON.parse(cli(dir, ["tally", "show", offered.id, "--json"])) as { tally: { summary: { balance: number } } })
            .tally.summary.balance === balance,
        { timeout: NETWORK_WAIT, timeoutMsg: `the tally never showed a balance of ${balance}` },
      );
      await clickTestId(win, "nav-tallies");
      await win.$(`[data-testid="tally-row"][data-tally-id="${offered.id}"]`).click();
      await waitForContent(win, "tally-balance", "5.000 CHIP", "the tally page");
    }
  });
});
