import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { expect } from "@wdio/globals";

import { becomeContacts, contactRow, inviteLink } from "../support/contacts.js";
import { LOGS_DIR, cliBinary, runDir } from "../support/harness.js";
import { onboard, partyIdOf } from "../support/identity.js";
import { byTestId, clickTestId, saveWindowScreenshot, windowOf } from "../support/windows.js";

/** The headless node's key file passphrase: it has no OS keychain of its own here. */
const KEY_PASSPHRASE = "carol's key file passphrase";

/** How long a step that crosses the network may take. Generous: these machines are shared. */
const NETWORK_WAIT = 60_000;

/** Carol's data directory: a third party, a headless `tallymesh node run` this spec starts. */
function carolDir(): string {
  return path.join(runDir(), "trust", "carol");
}

/** Runs the real `tallymesh` command against Carol's node. */
function carol(args: string[]): string {
  return execFileSync(cliBinary(), [...args, "--data-dir", carolDir()], {
    env: { ...process.env, TALLYMESH_PASSPHRASE: KEY_PASSPHRASE },
    encoding: "utf8",
    timeout: 60_000,
    // What it prints on failure is in the thrown error; polling while the node starts fails quietly.
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Whether Carol's node answers on its control endpoint. */
function carolAnswers(): boolean {
  try {
    carol(["status"]);
    return true;
  } catch {
    return false;
  }
}

interface TrustShown {
  attestations: { attester: string; subject: string; kind: string; score: number }[];
  events: { kind: string; reason: string }[];
}

describe("Trust: an attestation travels to a third party", () => {
  let carolNode: ChildProcess | null = null;
  let alicePartyId = "";
  let bobPartyId = "";

  before(async () => {
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    await onboard(alice, "Alice");
    await onboard(bob, "Bob");
    alicePartyId = await partyIdOf(alice);
    bobPartyId = await partyIdOf(bob);
    await becomeContacts({ win: alice, partyId: alicePartyId, name: "Alice" }, { win: bob, partyId: bobPartyId, name: "Bob" });

    // Carol runs headless and becomes Alice's contact; she has never met Bob.
    mkdirSync(carolDir(), { recursive: true });
    const log = openSync(path.join(LOGS_DIR, "trust-carol-node.log"), "w");
    carolNode = spawn(
      cliBinary(),
      [
        "node",
        "run",
        "--key-file",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--no-lan-discovery",
        "--dht-server",
        "--data-dir",
        carolDir(),
      ],
      { env: { ...process.env, TALLYMESH_PASSPHRASE: KEY_PASSPHRASE }, stdio: ["ignore", "ignore", log] },
    );
    await alice.waitUntil(async () => carolAnswers(), {
      timeout: NETWORK_WAIT,
      timeoutMsg: "Carol's headless node never answered",
    });
    carol(["id", "create", "Carol"]);
    const link = await inviteLink(alice);
    expect(carol(["contact", "redeem", link])).toContain("Alice");
  });

  after(() => {
    carolNode?.kill("SIGTERM");
  });

  it("alice vouches for bob from his contact page", async () => {
    const alice = windowOf("alice");
    await clickTestId(alice, "nav-contacts");
    await contactRow(alice, bobPartyId).click();
    const panel = byTestId(alice, "contact-trust");
    await expect(panel).toBeDisplayed();
    await panel.$('[data-testid="contact-attest"]').click();
    await expect(byTestId(alice, "attest-dialog")).toBeDisplayed();
    await byTestId(alice, "attest-kind-trade").click();
    await byTestId(alice, "attest-score").clearValue();
    await byTestId(alice, "attest-score").setValue("90");
    await byTestId(alice, "attest-submit").click();
    await expect(byTestId(alice, "attest-dialog")).not.toBeExisting();

    const attestation = panel.$('[data-testid="trust-attestation"]');
    await expect(attestation).toHaveText(expect.stringContaining("You vouch for their Trade: 90 of 100"));
    await expect(panel.$('[data-testid="trust-event"][data-kind="attested"]')).toBeDisplayed();
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "trust-attested-alice.png"));
  });

  it("carol's headless node sees alice's attestation in bob's trust history", async () => {
    const alice = windowOf("alice");
    let shown: TrustShown = { attestations: [], events: [] };
    await alice.waitUntil(
      async () => {
        shown = JSON.parse(carol(["trust", "show", bobPartyId, "--json"])) as TrustShown;
        return shown.attestations.some((a) => a.attester === alicePartyId);
      },
      { timeout: NETWORK_WAIT, interval: 1_000, timeoutMsg: "Carol never got Alice's attestation about Bob" },
    );
    const attestation = shown.attestations.find((a) => a.attester === alicePartyId)!;
    expect(attestation.subject).toBe(bobPartyId);
    expect(attestation.kind).toBe("trade");
    expect(attestation.score).toBe(0.9);
    // Alice is Carol's contact, so her word moved Bob's score there.
    expect(shown.events.some((e) => e.kind === "attested" && e.reason.includes("Alice"))).toBe(true);
    const text = carol(["trust", "show", bobPartyId]);
    expect(text).toContain("Alice vouches for");
  });
});
