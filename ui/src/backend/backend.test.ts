import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { base64ToBytes, bytesToBase64 } from "./base64";
import type { NodeStatus } from "./bindings";
import { MockBackend } from "./mock-backend";
import {
  MOCK_BACKUP_PASSPHRASE,
  MOCK_RECOVERY_PHRASE,
  MOCK_RESTORED_PARTY_ID,
  SAMPLE_RELAY_PEER,
  devicePeerId,
  mockBackupFile,
  mockCardLink,
  sampleContacts,
  sampleStrangerCard,
  tamperLink,
} from "./mock-data";
import { createBackend } from "./select";
import { TauriBackend } from "./tauri-backend";
import { BackendError, type NodeEvent, type ScanUpdate } from "./types";

const bindings = vi.hoisted(() => ({
  nodeStatus: vi.fn(),
  listen: vi.fn(),
  identityRestoreBackup: vi.fn(),
  contactReadImage: vi.fn(),
  contactRemove: vi.fn(),
  contactScanStart: vi.fn(),
  contactScanStop: vi.fn(),
  contactRedeem: vi.fn(),
  contactsPresence: vi.fn(),
  networkPeers: vi.fn(),
}));

vi.mock("./bindings", () => ({
  commands: {
    nodeStatus: bindings.nodeStatus,
    identityRestoreBackup: bindings.identityRestoreBackup,
    contactReadImage: bindings.contactReadImage,
    contactRemove: bindings.contactRemove,
    contactScanStart: bindings.contactScanStart,
    contactScanStop: bindings.contactScanStop,
    contactRedeem: bindings.contactRedeem,
    contactsPresence: bindings.contactsPresence,
    networkPeers: bindings.networkPeers,
  },
  events: { nodeEvent: { listen: bindings.listen } },
}));

// Outside the webview there is no IPC to make a channel with; a plain object stands in.
vi.mock("@tauri-apps/api/core", () => ({
  Channel: class {
    onmessage: (message: unknown) => void = () => {};
  },
}));

const status: NodeStatus = {
  version: "0.1.0",
  dataDir: "/data",
  databasePath: "/data/tallymesh.sqlite3",
  schemaVersion: 1,
  logDir: "/data/logs",
  startedAtMs: 0,
  uptimeSecs: 5,
  peerId: "12D3KooWTest",
  listenAddrs: [],
  connectedPeers: 0,
  reachability: { kind: "unknown" },
};

describe("TauriBackend", () => {
  it("returns the status from an ok result", async () => {
    bindings.nodeStatus.mockResolvedValue({ status: "ok", data: status });
    await expect(new TauriBackend().nodeStatus()).resolves.toEqual(status);
  });

  it("turns an error result into a BackendError with its code and message", async () => {
    bindings.nodeStatus.mockResolvedValue({ status: "error", error: { code: "storage", message: "disk full" } });
    const error = await new TauriBackend().nodeStatus().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: "storage", message: "disk full" });
  });

  it("turns a thrown IPC failure into an internal BackendError", async () => {
    bindings.nodeStatus.mockRejectedValue(new Error("command node_status not found"));
    await expect(new TauriBackend().nodeStatus()).rejects.toMatchObject({
      code: "internal",
      message: "command node_status not found",
    });
  });

  it("treats an error of an unknown shape as internal", async () => {
    bindings.nodeStatus.mockResolvedValue({ status: "error", error: "boom" });
    await expect(new TauriBackend().nodeStatus()).rejects.toMatchObject({ code: "internal", message: "boom" });
  });

  it("passes each event's payload to the callback and returns the unlisten function", async () => {
    const unlisten = vi.fn();
    bindings.listen.mockImplementation(async (handler: (event: { payload: unknown }) => void) => {
      handler({ payload: { kind: "peerConnected", peerId: "12D3KooWPeer" } });
      return unlisten;
    });
    const callback = vi.fn();
    const stop = await new TauriBackend().onNodeEvent(callback);
    expect(callback).toHaveBeenCalledWith({ kind: "peerConnected", peerId: "12D3KooWPeer" });
    stop();
    expect(unlisten).toHaveBeenCalled();
  });
});

describe("TauriBackend contacts over the network", () => {
  it("redeems a card link and passes the node's refusal on with its code and words", async () => {
    const contact = { partyId: "did:key:z6MkA", displayName: "Alice" };
    bindings.contactRedeem.mockResolvedValueOnce({ status: "ok", data: contact });
    await expect(new TauriBackend().redeemContact("tallymesh:card?v=1&d=x")).resolves.toEqual(contact);
    expect(bindings.contactRedeem).toHaveBeenCalledWith("tallymesh:card?v=1&d=x");

    const message =
      "Could not reach Alice's devices (no connection could be made). Check that Alice's Tallymesh is running and online, then try again.";
    bindings.contactRedeem.mockResolvedValueOnce({ status: "error", error: { code: "unavailable", message } });
    await expect(new TauriBackend().redeemContact("tallymesh:card?v=1&d=x")).rejects.toMatchObject({
      code: "unavailable",
      message,
    });
  });

  it("reads the contacts' presence and the connected peers as the node gives them", async () => {
    const presence = [{ partyId: "did:key:z6MkA", online: true, rttMs: 12, lastSeenMs: 5 }];
    const peers = [{ peerId: "12D3KooWA", addresses: ["/ip4/10.0.0.2/tcp/1"], rttMs: null, partyId: null, displayName: null }];
    bindings.contactsPresence.mockResolvedValue({ status: "ok", data: presence });
    bindings.networkPeers.mockResolvedValue({ status: "ok", data: peers });
    await expect(new TauriBackend().contactsPresence()).resolves.toEqual(presence);
    await expect(new TauriBackend().networkPeers()).resolves.toEqual(peers);
  });
});

describe("TauriBackend files and scans", () => {
  it("sends a backup file's bytes as base64 and returns the restored identity", async () => {
    const identity = { state: "none" };
    bindings.identityRestoreBackup.mockResolvedValue({ status: "ok", data: identity });
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await expect(new TauriBackend().restoreFromBackup(bytes, "pass phrase")).resolves.toEqual(identity);
    expect(bindings.identityRestoreBackup).toHaveBeenCalledWith("AAEC+v8=", "pass phrase");
  });

  it("sends an image's bytes as base64 and passes the node's refusal on as it is", async () => {
    bindings.contactReadImage.mockResolvedValue({
      status: "error",
      error: { code: "invalidInput", message: "No QR code could be read in this image." },
    });
    const error = await new TauriBackend().readCardImage(new Uint8Array([1, 2, 3])).catch((e: unknown) => e);
    expect(bindings.contactReadImage).toHaveBeenCalledWith("AQID");
    expect(error).toMatchObject({ code: "invalidInput", message: "No QR code could be read in this image." });
  });

  it("resolves a command with no data to nothing", async () => {
    bindings.contactRemove.mockResolvedValue({ status: "ok", data: null });
    await expect(new TauriBackend().removeContact("did:key:z6MkX")).resolves.toBeUndefined();
  });

  it("delivers scan updates from the channel, with a missing invite as null, and stops its own scan only", async () => {
    bindings.contactScanStart.mockClear();
    bindings.contactScanStop.mockClear();
    bindings.contactScanStart.mockResolvedValue({ status: "ok", data: null });
    bindings.contactScanStop.mockResolvedValue({ status: "ok", data: null });
    const backend = new TauriBackend();
    const updates: ScanUpdate[] = [];
    const stopFirst = await backend.scanCard((update) => updates.push(update));
    const channel = bindings.contactScanStart.mock.calls[0]![0] as { onmessage: (message: unknown) => void };
    const card = {
      partyId: "did:key:z6MkX",
      displayName: "X",
      fingerprint: "z6MkX",
      devices: 1,
      issuedAtMs: 1,
      known: false,
      link: "tallymesh:card?v=1",
    };
    channel.onmessage({ kind: "found", card });
    expect(updates).toEqual([{ kind: "found", card: { ...card, invite: null } }]);

    const stopSecond = await backend.scanCard(() => {});
    // The first scan's stop comes late: it must not end the second.
    await stopFirst();
    expect(bindings.contactScanStop).not.toHaveBeenCalled();
    await stopSecond();
    expect(bindings.contactScanStop).toHaveBeenCalledTimes(1);
  });

  it("a scan that could not start leaves the one before it stoppable", async () => {
    bindings.contactScanStop.mockClear();
    bindings.contactScanStop.mockResolvedValue({ status: "ok", data: null });
    bindings.contactScanStart.mockResolvedValueOnce({ status: "ok", data: null });
    const backend = new TauriBackend();
    const stopRunning = await backend.scanCard(() => {});

    bindings.contactScanStart.mockResolvedValueOnce({
      status: "error",
      error: { code: "unavailable", message: "The node is stopping." },
    });
    await expect(backend.scanCard(() => {})).rejects.toMatchObject({ code: "unavailable" });

    await stopRunning();
    expect(bindings.contactScanStop).toHaveBeenCalledTimes(1);
  });

  it("base64 round-trips bytes of every value, in chunks larger than one call can take", () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
  });
});

describe("createBackend", () => {
  afterEach(() => {
    delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
  });

  it("uses the mock in a plain browser", async () => {
    const backend = await createBackend();
    expect(backend).toBeInstanceOf(MockBackend);
    (backend as MockBackend).dispose();
  });

  it("uses Tauri inside the app's webview", async () => {
    (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__ = {};
    expect(await createBackend()).toBeInstanceOf(TauriBackend);
  });
});

describe("MockBackend", () => {
  let now = 1_700_000_000_000;
  beforeEach(() => {
    now = 1_700_000_000_000;
  });

  it("reports an uptime that advances with the clock", async () => {
    const backend = new MockBackend({ now: () => now, status: { startedAtMs: now - 10_000 } });
    expect((await backend.nodeStatus()).uptimeSecs).toBe(10);
    now += 65_000;
    expect((await backend.nodeStatus()).uptimeSecs).toBe(75);
  });

  it("fails with a typed error until it recovers", async () => {
    const backend = new MockBackend();
    backend.fail("unavailable", "stopped");
    await expect(backend.nodeStatus()).rejects.toMatchObject({ code: "unavailable", message: "stopped" });
    backend.recover();
    await expect(backend.nodeStatus()).resolves.toMatchObject({ version: "0.1.0" });
  });

  it("emits now and then on its own when asked to", async () => {
    vi.useFakeTimers();
    try {
      const backend = new MockBackend({ autoEvents: true });
      const events: unknown[] = [];
      await backend.onNodeEvent((event) => events.push(event));
      vi.advanceTimersByTime(16_000);
      expect(events).toHaveLength(1);
      backend.dispose();
      vi.advanceTimersByTime(60_000);
      expect(events).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("MockBackend as a node", () => {
  it("starts without an identity when asked, creates one and announces it", async () => {
    const backend = new MockBackend({ identity: "none" });
    const events: unknown[] = [];
    await backend.onNodeEvent((event) => events.push(event));
    expect(await backend.identityState()).toEqual({ state: "none" });
    const created = await backend.createIdentity("  Bea ");
    expect(created).toMatchObject({ state: "ready", displayName: "Bea" });
    expect(events).toEqual([{ kind: "identityChanged", identity: created }]);
    await expect(backend.createIdentity("Bea")).rejects.toMatchObject({ code: "invalidInput" });
  });

  it("restores the known phrase and backup to a fixed party, and refuses others as the node does", async () => {
    const fresh = () => new MockBackend({ identity: "none" });
    await expect(fresh().restoreFromPhrase(MOCK_RECOVERY_PHRASE.join(" "), "Ana")).resolves.toMatchObject({
      partyId: MOCK_RESTORED_PARTY_ID,
    });
    await expect(fresh().restoreFromPhrase("orbit velvet", "Ana")).rejects.toMatchObject({
      message: "The recovery phrase has 2 words; a Tallymesh recovery phrase has 24.",
    });
    await expect(fresh().restoreFromBackup(mockBackupFile(), MOCK_BACKUP_PASSPHRASE)).resolves.toMatchObject({
      partyId: MOCK_RESTORED_PARTY_ID,
    });
    await expect(fresh().restoreFromBackup(mockBackupFile(), "wrong one")).rejects.toMatchObject({
      code: "invalidInput",
      message: "Wrong passphrase for this backup (or the file has been altered); nothing was changed.",
    });
  });

  it("reads a card link without adding it, and refuses one changed after it was made", async () => {
    const backend = new MockBackend();
    const link = mockCardLink(sampleStrangerCard(Date.now()));
    const preview = await backend.readCardLink(link);
    expect(preview).toMatchObject({ displayName: "Lucía Fernández", known: false, link });
    expect((await backend.contacts()).some((contact) => contact.partyId === preview.partyId)).toBe(false);
    await expect(backend.readCardLink(tamperLink(link))).rejects.toMatchObject({
      message: "This link was changed after it was made, so it can't be trusted.",
    });
    await backend.addContact(link);
    expect(await backend.readCardLink(link)).toMatchObject({ known: true });
  });

  it("without a camera, a scan fails with noCamera and ends", async () => {
    vi.useFakeTimers();
    try {
      const backend = new MockBackend({ scanStepMs: 10 });
      const updates: ScanUpdate[] = [];
      await backend.scanCard((update) => updates.push(update));
      vi.advanceTimersByTime(20);
      expect(updates).toEqual([expect.objectContaining({ kind: "failed", reason: "noCamera" })]);
      expect(backend.scanning).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a stopped scan reports stopped and nothing after it", async () => {
    vi.useFakeTimers();
    try {
      const backend = new MockBackend({ camera: { name: "Cam" }, scanStepMs: 10 });
      const updates: ScanUpdate[] = [];
      const stop = await backend.scanCard((update) => updates.push(update));
      vi.advanceTimersByTime(10);
      await stop();
      vi.advanceTimersByTime(1_000);
      expect(updates.map((update) => update.kind)).toEqual(["started", "stopped"]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("MockBackend as a node on the network", () => {
  const HOUR_MS = 3_600_000;
  const contacts = sampleContacts(Date.now());
  const named = (name: string) => contacts.find((contact) => contact.displayName.startsWith(name))!;
  const invite = (reusable: boolean, token = "ab".repeat(16)) => ({
    token,
    reusable,
    expiresAtMs: Date.now() + HOUR_MS,
  });

  it("starts with two contacts online, one seen minutes ago, one never seen, and peers that agree", async () => {
    const backend = new MockBackend();
    const presence = new Map((await backend.contactsPresence()).map((entry) => [entry.partyId, entry]));
    expect(presence.get(named("Bruno").partyId)).toMatchObject({ online: true, rttMs: 12 });
    expect(presence.get(named("Huerta").partyId)).toMatchObject({ online: true, rttMs: 31 });
    const chiara = presence.get(named("Chiara").partyId)!;
    expect(chiara).toMatchObject({ online: false, rttMs: null });
    expect(Date.now() - chiara.lastSeenMs!).toBeGreaterThanOrEqual(5 * 60_000);
    expect(presence.get(named("Dmitri").partyId)).toEqual({
      partyId: named("Dmitri").partyId,
      online: false,
      rttMs: null,
      lastSeenMs: null,
    });

    const peers = await backend.networkPeers();
    expect(peers.map((peer) => peer.displayName)).toEqual(["Bruno Costa", "Huerta Comunal La Esperanza", null]);
    expect(peers[0]).toMatchObject({ peerId: devicePeerId(named("Bruno").partyId), rttMs: 12 });
    expect(peers[2]).toMatchObject({ peerId: SAMPLE_RELAY_PEER.peerId, partyId: null });
    expect((await backend.nodeStatus()).connectedPeers).toBe(peers.length);
  });

  it("a contact coming and going is announced as peer and presence events, and remembered as last seen", async () => {
    let now = 1_700_000_000_000;
    const backend = new MockBackend({ now: () => now });
    const events: NodeEvent[] = [];
    await backend.onNodeEvent((event) => events.push(event));
    const dmitri = sampleContacts(now).find((contact) => contact.displayName === "Dmitri Volkov")!;

    backend.setContactOnline(dmitri.partyId, true, 40);
    expect(events).toEqual([
      { kind: "peerConnected", peerId: devicePeerId(dmitri.partyId) },
      { kind: "presenceChanged", presence: { partyId: dmitri.partyId, online: true, rttMs: 40, lastSeenMs: now } },
    ]);
    expect((await backend.nodeStatus()).connectedPeers).toBe(4);

    now += 60_000;
    events.length = 0;
    backend.setContactOnline(dmitri.partyId, false);
    expect(events).toEqual([
      { kind: "peerDisconnected", peerId: devicePeerId(dmitri.partyId) },
      { kind: "presenceChanged", presence: { partyId: dmitri.partyId, online: false, rttMs: null, lastSeenMs: now } },
    ]);
    expect((await backend.networkPeers()).map((peer) => peer.partyId)).not.toContain(dmitri.partyId);
  });

  it("a stranger's round trip changes without an event; a contact's with one", async () => {
    const backend = new MockBackend();
    const events: NodeEvent[] = [];
    await backend.onNodeEvent((event) => events.push(event));
    backend.setPeerRtt(SAMPLE_RELAY_PEER.peerId, 150);
    expect(events).toEqual([]);
    expect((await backend.networkPeers()).find((peer) => peer.partyId === null)?.rttMs).toBe(150);
    backend.setPeerRtt(devicePeerId(named("Bruno").partyId), 9);
    expect(events).toEqual([expect.objectContaining({ kind: "presenceChanged", presence: expect.objectContaining({ rttMs: 9 }) })]);
  });

  it("redeems an invite: both keep each other, the inviter is online, and a one-time invite works once", async () => {
    const backend = new MockBackend();
    const events: NodeEvent[] = [];
    await backend.onNodeEvent((event) => events.push(event));
    const card = sampleStrangerCard(Date.now(), invite(false));
    const link = mockCardLink(card);

    const contact = await backend.redeemContact(link);
    expect(contact).toMatchObject({ partyId: card.partyId, displayName: "Lucía Fernández" });
    expect(events.map((event) => event.kind)).toEqual(["contactsChanged", "peerConnected", "presenceChanged"]);
    expect((await backend.contactsPresence()).find((entry) => entry.partyId === card.partyId)).toMatchObject({
      online: true,
    });
    expect((await backend.networkPeers()).find((peer) => peer.partyId === card.partyId)?.displayName).toBe(
      "Lucía Fernández",
    );

    await backend.removeContact(card.partyId);
    await expect(backend.redeemContact(link)).rejects.toMatchObject({
      code: "invalidInput",
      message: "Lucía Fernández refused: This invite was already used.",
    });
  });

  it("a reusable invite can be redeemed again", async () => {
    const backend = new MockBackend();
    const link = mockCardLink(sampleStrangerCard(Date.now(), invite(true)));
    await backend.redeemContact(link);
    await expect(backend.redeemContact(link)).resolves.toMatchObject({ displayName: "Lucía Fernández" });
  });

  it("an unreachable inviter fails as unavailable, in the node's words, until reachable again", async () => {
    const card = sampleStrangerCard(Date.now(), invite(false));
    const backend = new MockBackend({ unreachable: [card.partyId] });
    await expect(backend.redeemContact(mockCardLink(card))).rejects.toMatchObject({
      code: "unavailable",
      message:
        "Could not reach Lucía Fernández's devices (no connection could be made). Check that Lucía Fernández's Tallymesh is running and online, then try again.",
    });
    expect((await backend.contacts()).map((entry) => entry.partyId)).not.toContain(card.partyId);
    backend.setReachable(card.partyId, true);
    await expect(backend.redeemContact(mockCardLink(card))).resolves.toMatchObject({ partyId: card.partyId });
  });

  it("a card with no invite can't be redeemed; an expired one is refused before anything is tried", async () => {
    const backend = new MockBackend();
    await expect(backend.redeemContact(mockCardLink(sampleStrangerCard(Date.now())))).rejects.toMatchObject({
      code: "invalidInput",
      message: expect.stringMatching(/^This card carries no invite, so Lucía Fernández would not accept yours\./),
    });
    const expired = sampleStrangerCard(Date.now(), { ...invite(false), expiresAtMs: Date.now() - 1 });
    await expect(backend.redeemContact(mockCardLink(expired))).rejects.toMatchObject({
      message: "The invite on this card has expired; ask for a new card.",
    });
  });
});

describe("MockBackend's tallies on the cadre's nodes", () => {
  const offerTo = (partyId: string, ourNodes: string[] | null) => ({
    partyId,
    side: "stock" as const,
    weGrant: "10",
    theyGrant: "0",
    ourCall: 30,
    theirCall: 30,
    memo: "",
    contract: null,
    expiresInHours: 72,
    ourNodes,
  });

  it("names every device of the cadre by default, and the partner's from their card", async () => {
    const backend = new MockBackend();
    const devices = await backend.cadreDevices();
    const [contact] = sampleContacts(Date.now()).filter((entry) => entry.devices === 2);
    const tally = await backend.proposeTally(offerTo(contact!.partyId, null));
    const detail = await backend.tally(tally.id);
    expect(detail.ourNodes).toEqual(devices.filter((device) => !device.revoked).map((device) => device.peerId));
    expect(detail.theirNodes).toEqual([devicePeerId(contact!.partyId, 0), devicePeerId(contact!.partyId, 1)]);
  });

  it("refuses a node that is not a device of the cadre, a revoked one, or a choice without this device, in the node's words", async () => {
    const backend = new MockBackend();
    const [own, homeBox, phone] = await backend.cadreDevices();
    const partyId = sampleContacts(Date.now())[0]!.partyId;
    await expect(backend.proposeTally(offerTo(partyId, [own!.peerId, "not a peer"]))).rejects.toMatchObject({
      code: "invalidInput",
      message: '"not a peer" is not a device\'s peer id.',
    });
    await expect(backend.proposeTally(offerTo(partyId, [own!.peerId, phone!.peerId]))).rejects.toMatchObject({
      message: `${phone!.peerId} is not a device of your cadre; \`tallymesh cadre list\` shows them.`,
    });
    await expect(backend.proposeTally(offerTo(partyId, [homeBox!.peerId]))).rejects.toMatchObject({
      message: "This device signs your chits and hands them to the tally's ledger, so it must be one of your nodes.",
    });
    expect(await backend.tallies()).toHaveLength((await new MockBackend().tallies()).length);
  });
});
