import {
  MOCK_RECOVERY_PHRASE,
  MOCK_RESTORED_PARTY_ID,
  contactOf,
  contactPeer,
  fingerprintOf,
  mockCameraFrame,
  mockCadreLink,
  mockCardLink,
  mockPartyId,
  mockPeerId,
  mockQrSvg,
  mockToken,
  openMockBackup,
  parseMockCadreLink,
  parseMockLink,
  previewOf,
  readMockImage,
  sampleCadre,
  sampleContacts,
  sampleTallies,
  type MockTally,
  sampleLastSeen,
  samplePeers,
  type MockCard,
  type MockPeer,
} from "./mock-data";
import { MockChat } from "./mock-chat";
import { MockTallies } from "./mock-tallies";
import { MockTrust } from "./mock-trust";
import {
  type ApiErrorCode,
  type Attest,
  type AttestationView,
  type Backend,
  type EvidenceView,
  type TrustDetail,
  type TrustScore,
  BackendError,
  type CadreDevice,
  type ConversationView,
  type MailboxStatus,
  type MessageView,
  type DeviceKind,
  type CardPreview,
  type ChitPage,
  type ChitView,
  type Contact,
  type ContactPresence,
  type EnrollmentLink,
  type IdentityState,
  type InviteRequest,
  type MyCard,
  type NodeEvent,
  type NetPosition,
  type NodeStatus,
  type SaveDialogText,
  type SettingInput,
  type TallyDetail,
  type TallyOffer,
  type TallySummary,
  type TallyTerms,
  type OwnInvite,
  type PeerInfo,
  type Reachability,
  type ScanUpdate,
  type StopScan,
  type Unsubscribe,
} from "./types";

/** Status as the mock reports it, without the uptime, which follows from the clock. */
export type MockNodeState = Omit<NodeStatus, "uptimeSecs">;

/** A camera the mock pretends to have. */
export interface MockCamera {
  /** The camera's name, as the node reports it. */
  name?: string;
  /** Card links held up to it that the node refuses (each reported once), before the card it finds. */
  refuses?: string[];
  /** The card link it finds; without one, the scan times out. */
  finds?: string;
}

export interface MockBackendOptions {
  /** Overrides for the fake node's status. */
  status?: Partial<MockNodeState>;
  /** Delay before each answer, to make loading states visible. `Infinity` never answers. */
  latencyMs?: number;
  /** Now and then, let round trips drift, a contact come and go and a stranger pass by, as on a live node. */
  autoEvents?: boolean;
  /** Fail every call with this error until {@link MockBackend.recover} is called. */
  failWith?: BackendError;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
  /**
   * Whom the node acts for at the start: `"ready"` (the sample party, the default),
   * `"none"` (a fresh node), `"keyMissing"`, or a state of your own.
   */
  identity?: "none" | "ready" | "keyMissing" | IdentityState;
  /** The contacts at the start; the sample ones for a ready identity unless given. */
  contacts?: Contact[];
  /** The camera; none by default, as on a machine without a webcam. */
  camera?: MockCamera | null;
  /** Time between two camera updates. */
  scanStepMs?: number;
  /** The `tallymesh:` links the app was "opened with". */
  openedLinks?: string[];
  /** Where the save dialog puts a backup; `null` acts as if the person cancelled it. */
  backupSavePath?: string | null;
  /**
   * The devices connected at the start. By default two sample contacts are
   * online and a relay is connected (only the contacts the node has).
   */
  peers?: MockPeer[];
  /** When offline contacts were last connected (ms), by party id; the others were never seen. */
  lastSeen?: Record<string, number>;
  /** Parties none of whose devices can be reached: redeeming their invites fails as `unavailable`. */
  unreachable?: string[];
  /** Tokens of one-time invites someone already redeemed: their parties refuse them. */
  usedInvites?: string[];
  /**
   * The devices the party's main device enrolled (revoked ones marked), or, on a
   * member device, the party's other devices. By default the sample home box and
   * a revoked phone for the sample party, the main device alone for a member.
   */
  cadre?: CadreDevice[];
  /** This device's name, as its certificate gives it. */
  deviceName?: string;
  /** On a member device: the main device's newer card left this device off (it was revoked). */
  thisDeviceRevoked?: boolean;
  /** The tallies at the start; the sample ones for the sample contacts unless given. */
  tallies?: MockTally[];
  /** How long a chit stays pending before it is final (ms). */
  tallyCertifyMs?: number;
  /** Whether the contacts start with a trust history; by default only the sample contacts do. */
  trustHistory?: boolean;
}

const MINUTE_MS = 60_000;
/** The round trip of a device just reached to redeem an invite. */
const REDEEM_RTT_MS = 18;
/** How many times the usual latency a redeem takes, going over the network. */
const REDEEM_LATENCY_FACTOR = 4;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MIN_PASSPHRASE_CHARS = 8;
const MAX_DISPLAY_NAME = 64;
const SAMPLE_NAME = "Ana Lima";
const SAMPLE_DEVICE_NAME = "Ana's laptop";
/** How long an enrollment link is accepted unless told otherwise, as on the node. */
const DEFAULT_ENROLLMENT_SECS = 3_600;

export function sampleNodeState(now: number): MockNodeState {
  const dataDir = "/home/ana/.local/share/tallymesh";
  return {
    version: "0.1.0",
    dataDir,
    databasePath: `${dataDir}/tallymesh.sqlite3`,
    schemaVersion: 1,
    logDir: `${dataDir}/logs`,
    startedAtMs: now - (3 * 60 + 12) * MINUTE_MS - 41_000,
    peerId: "12D3KooWRfYU5FaY9SmJcRD5uZp4Jk8pMGcAq6ZbQ3vHkS7tXn2W",
    listenAddrs: ["/ip4/127.0.0.1/udp/47811/quic-v1", "/ip4/192.168.1.40/tcp/47811"],
    connectedPeers: 3,
    reachability: { kind: "private" },
  };
}

/** The party the sample node acts for. */
export function sampleIdentity(now: number, peerId = sampleNodeState(now).peerId): Extract<IdentityState, { state: "ready" }> {
  const partyId = mockPartyId(SAMPLE_NAME);
  return {
    state: "ready",
    partyId,
    fingerprint: fingerprintOf(partyId),
    displayName: SAMPLE_NAME,
    createdAtMs: now - 40 * DAY_MS,
    devicePeerId: peerId,
  };
}

interface RunningScan {
  onUpdate: (update: ScanUpdate) => void;
  timers: ReturnType<typeof setTimeout>[];
  ended: boolean;
}

/**
 * A node that lives in memory, so every screen runs in a plain browser and in
 * tests. It checks what it is given the way the node does and refuses with the
 * node's sentences. Tests steer it: change the status, make calls fail, emit events.
 */
export class MockBackend implements Backend {
  private state: MockNodeState;
  private failure: BackendError | null;
  private readonly latencyMs: number;
  private readonly now: () => number;
  private readonly listeners = new Set<(event: NodeEvent) => void>();
  private autoEventsTimer: ReturnType<typeof setInterval> | null = null;
  private calls = 0;
  private identity: IdentityState;
  private contactCards = new Map<string, Contact>();
  private ownInvites: OwnInvite[] = [];
  private openedLinks: string[];
  private camera: MockCamera | null;
  private readonly scanStepMs: number;
  private scan: RunningScan | null = null;
  private backupSavePath: string | null;
  private phraseReads = 0;
  private cardsSigned = 0;
  private peers = new Map<string, MockPeer>();
  private lastSeen = new Map<string, number>();
  private unreachable: Set<string>;
  private redeemedInvites: Set<string>;
  private cadre: CadreDevice[];
  private readonly deviceName: string;
  private thisDeviceRevoked: boolean;
  /** One-time enrollment tokens: when each expires, and whether a device used it. */
  private cadreTokens = new Map<string, { expiresAtMs: number; used: boolean }>();
  /** The tallies, and the partners' side of them, which tests steer. */
  readonly talliesBook: MockTallies;
  /** The conversations, and the other parties' side of them, which tests steer. */
  readonly chatBook: MockChat;
  /** Trust scores, attestations and evidence, and the rest of the network's side of them, which tests steer. */
  readonly trustBook: MockTrust;

  constructor(options: MockBackendOptions = {}) {
    this.now = options.now ?? Date.now;
    this.state = { ...sampleNodeState(this.now()), ...options.status };
    this.failure = options.failWith ?? null;
    this.latencyMs = options.latencyMs ?? 0;
    this.identity = this.initialIdentity(options.identity ?? "ready");
    const contacts = options.contacts ?? (this.identity.state === "none" ? [] : sampleContacts(this.now()));
    for (const contact of contacts) this.contactCards.set(contact.partyId, contact);
    const now = this.now();
    const peers =
      options.peers ??
      samplePeers(now).filter((peer) => peer.partyId === null || this.contactCards.has(peer.partyId));
    for (const peer of peers) this.peers.set(peer.peerId, { ...peer, addresses: [...peer.addresses] });
    for (const [partyId, at] of Object.entries(options.lastSeen ?? (options.contacts ? {} : sampleLastSeen(now)))) {
      this.lastSeen.set(partyId, at);
    }
    // The status counts the peers unless a test pins the number.
    if (options.status?.connectedPeers === undefined) this.state.connectedPeers = this.peers.size;
    this.unreachable = new Set(options.unreachable ?? []);
    this.redeemedInvites = new Set(options.usedInvites ?? []);
    this.deviceName = options.deviceName ?? SAMPLE_DEVICE_NAME;
    this.thisDeviceRevoked = options.thisDeviceRevoked ?? false;
    this.cadre = (options.cadre ?? this.initialCadre()).map((device) => ({ ...device }));
    this.openedLinks = [...(options.openedLinks ?? [])];
    this.camera = options.camera ?? null;
    this.scanStepMs = options.scanStepMs ?? 250;
    this.backupSavePath =
      options.backupSavePath === undefined ? "/home/ana/Documents/Ana-Lima.tallymesh-backup" : options.backupSavePath;
    const tallies =
      options.tallies ??
      (this.identity.state === "none" ? [] : sampleTallies(now, [...this.contactCards.values()], this.state.peerId));
    this.talliesBook = new MockTallies(
      {
        now: this.now,
        emit: (tally, change) => this.emit({ kind: "tallyChanged", tally, change }),
        contact: (partyId) => this.contactCards.get(partyId),
        ourPeerId: () => this.state.peerId,
        cadreNodes: () => [this.state.peerId, ...this.cadre.filter((device) => !device.revoked).map((device) => device.peerId)],
        ourName: () => (this.identity.state === "none" ? "" : this.identity.displayName),
        certifyMs: options.tallyCertifyMs ?? 600,
        replyMs: options.autoEvents ? 4_000 : null,
      },
      tallies,
    );
    this.chatBook = new MockChat({
      now: this.now,
      emit: (event) => this.emit(event),
      contact: (partyId) => this.contactCards.get(partyId),
      contacts: () => [...this.contactCards.values()],
      ownPartyId: () => (this.identity.state === "ready" || this.identity.state === "member" ? this.identity.partyId : ""),
      online: (partyId) => [...this.peers.values()].some((peer) => peer.partyId === partyId),
      tallies: () => this.talliesBook.list(),
      pay: (tallyId, amount, memo) => this.pay(tallyId, amount, memo),
      replyMs: options.autoEvents ? 4_000 : null,
    });
    this.trustBook = new MockTrust({
      now: this.now,
      emit: (event) => this.emit(event),
      contacts: () => [...this.contactCards.values()],
      own: () =>
        this.identity.state === "ready" || this.identity.state === "member"
          ? { partyId: this.identity.partyId, displayName: this.identity.displayName }
          : null,
    });
    if (options.trustHistory ?? (options.contacts === undefined && this.identity.state !== "none")) {
      this.trustBook.seedSample();
    }
    if (options.autoEvents) this.startAutoEvents();
  }

  /** How many times `nodeStatus` has been called. */
  get nodeStatusCalls(): number {
    return this.calls;
  }

  /** How many times the recovery phrase was read. */
  get recoveryPhraseReads(): number {
    return this.phraseReads;
  }

  /** How many cards were signed (every `myCard` call signs one). */
  get cardsSignedCount(): number {
    return this.cardsSigned;
  }

  /** How many event subscriptions are open. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Whether a camera scan is running. */
  get scanning(): boolean {
    return this.scan !== null && !this.scan.ended;
  }

  /** The identity now, as `identityState` would answer. */
  get currentIdentity(): IdentityState {
    return this.identity;
  }

  async nodeStatus(): Promise<NodeStatus> {
    this.calls += 1;
    await this.ready();
    const uptimeSecs = Math.max(0, Math.floor((this.now() - this.state.startedAtMs) / 1000));
    return { ...this.state, listenAddrs: [...this.state.listenAddrs], uptimeSecs };
  }

  async onNodeEvent(callback: (event: NodeEvent) => void): Promise<Unsubscribe> {
    this.listeners.add(callback);
    return () => {
      this.listeners.delete(callback);
    };
  }

  async identityState(): Promise<IdentityState> {
    await this.ready();
    return { ...this.identity };
  }

  async createIdentity(displayName: string): Promise<IdentityState> {
    await this.ready();
    const name = checkDisplayName(displayName);
    if (this.identity.state !== "none") {
      throw invalid(
        `this node already acts for ${this.identity.displayName} (${this.identity.partyId}); a node acts for one party — use another data directory for another`,
      );
    }
    return this.adopt(mockPartyId(`${name}:${this.now()}`), name);
  }

  async recoveryPhrase(): Promise<string[]> {
    await this.ready();
    this.requireReady();
    this.phraseReads += 1;
    return [...MOCK_RECOVERY_PHRASE];
  }

  async saveBackup(passphrase: string, _dialog: SaveDialogText): Promise<string | null> {
    await this.ready();
    if (this.identity.state !== "ready") {
      throw invalid("There is no identity to back up yet: create one or restore one first.");
    }
    if ([...passphrase].length < MIN_PASSPHRASE_CHARS) {
      throw invalid(`A backup passphrase needs at least ${MIN_PASSPHRASE_CHARS} characters.`);
    }
    return this.backupSavePath;
  }

  async restoreFromPhrase(phrase: string, displayName: string): Promise<IdentityState> {
    await this.ready();
    const words = phrase.trim().toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length !== 24) {
      throw invalid(`The recovery phrase has ${words.length} words; a Tallymesh recovery phrase has 24.`);
    }
    if (words.some((word, i) => word !== MOCK_RECOVERY_PHRASE[i])) {
      throw invalid("The recovery phrase's checksum does not match: a word is wrong, or two are swapped.");
    }
    const name = checkDisplayName(displayName);
    return this.restore(MOCK_RESTORED_PARTY_ID, name);
  }

  async restoreFromBackup(backup: Uint8Array, passphrase: string): Promise<IdentityState> {
    await this.ready();
    const opened = openMockBackup(backup, passphrase);
    if (opened === "unreadable") throw invalid("Cannot read the backup: it is not a Tallymesh backup; nothing was changed.");
    if (opened === "wrongPassphrase") {
      throw invalid("Wrong passphrase for this backup (or the file has been altered); nothing was changed.");
    }
    return this.restore(opened.partyId, opened.displayName);
  }

  async contacts(): Promise<Contact[]> {
    await this.ready();
    this.requireParty();
    return [...this.contactCards.values()]
      .map((contact) => ({ ...contact, addresses: [...contact.addresses] }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName));
  }

  async contact(partyId: string): Promise<Contact> {
    await this.ready();
    this.requireParty();
    const kept = this.contactCards.get(partyId);
    if (!kept) throw invalid(`There is no contact with the party id ${partyId}.`);
    return { ...kept, addresses: [...kept.addresses] };
  }

  async removeContact(partyId: string): Promise<void> {
    await this.ready();
    this.requireParty();
    if (!this.contactCards.delete(partyId)) throw invalid(`There is no contact with the party id ${partyId}.`);
    this.emit({ kind: "contactsChanged", partyId });
  }

  async myCard(invite: InviteRequest | null): Promise<MyCard> {
    await this.ready();
    if (this.identity.state === "member" && invite === null) {
      // The party's card as the main device last signed it: no invite on it.
      const member = this.identity;
      const link = mockCardLink({
        partyId: member.partyId,
        displayName: member.displayName,
        devices: 1 + this.cadre.filter((device) => !device.revoked).length,
        issuedAtMs: this.now() - DAY_MS,
        invite: null,
        addresses: [],
      });
      return { partyId: member.partyId, link, invite: null, qrSvg: mockQrSvg(link) };
    }
    const me = this.requireMainDevice();
    if (invite && invite.expiresInSecs < 1) throw invalid("An invite must stay valid for at least a second.");
    this.cardsSigned += 1;
    const now = this.now();
    let cardInvite = null;
    if (invite) {
      const own: OwnInvite = {
        token: mockToken(`${now}:${this.cardsSigned}`),
        reusable: invite.reusable,
        expiresAtMs: now + invite.expiresInSecs * 1000,
        timesUsed: 0,
        createdAtMs: now,
        revoked: false,
      };
      this.ownInvites.unshift(own);
      cardInvite = { token: own.token, reusable: own.reusable, expiresAtMs: own.expiresAtMs };
    }
    const link = mockCardLink({
      partyId: me.partyId,
      displayName: me.displayName,
      devices: 1,
      issuedAtMs: now,
      invite: cardInvite,
      addresses: [...this.state.listenAddrs],
    });
    return { partyId: me.partyId, link, invite: cardInvite, qrSvg: mockQrSvg(link) };
  }

  async readCardLink(link: string): Promise<CardPreview> {
    await this.ready();
    const card = this.checkCard(link);
    return previewOf(card, link, this.contactCards.has(card.partyId));
  }

  async readCardImage(image: Uint8Array): Promise<CardPreview> {
    await this.ready();
    const read = readMockImage(image);
    if (read === "notAnImage") throw invalid("This file is not an image that can be read (unknown format).");
    if (read === "noCode") throw invalid("No QR code could be read in this image.");
    return this.readCardLinkNow(read.payload);
  }

  async addContact(link: string): Promise<Contact> {
    await this.ready();
    return this.keepCard(this.checkCard(link));
  }

  async redeemContact(link: string): Promise<Contact> {
    await this.ready();
    const card = this.checkCard(link);
    // Reaching another party's devices takes longer than asking this node.
    await this.delay(REDEEM_LATENCY_FACTOR);
    const name = card.displayName;
    if (!card.invite) {
      throw invalid(`This card carries no invite, so ${name} would not accept yours. Ask ${name} for a card with an invite.`);
    }
    if (this.unreachable.has(card.partyId)) {
      throw new BackendError(
        "unavailable",
        `Could not reach ${name}'s devices (no connection could be made). Check that ${name}'s Tallymesh is running and online, then try again.`,
      );
    }
    if (!card.invite.reusable && this.redeemedInvites.has(card.invite.token)) {
      throw invalid(`${name} refused: This invite was already used.`);
    }
    this.redeemedInvites.add(card.invite.token);
    const contact = this.keepCard(card);
    // The exchange leaves a connection open to the device that answered.
    this.connectPeer(contactPeer(card, REDEEM_RTT_MS));
    return contact;
  }

  async contactsPresence(): Promise<ContactPresence[]> {
    await this.ready();
    this.requireParty();
    return [...this.contactCards.keys()].map((partyId) => this.presenceOf(partyId));
  }

  async networkPeers(): Promise<PeerInfo[]> {
    await this.ready();
    const peers = [...this.peers.values()].map((peer): PeerInfo => {
      const contact = peer.partyId === null ? undefined : this.contactCards.get(peer.partyId);
      return {
        peerId: peer.peerId,
        addresses: [...peer.addresses],
        rttMs: peer.rttMs,
        partyId: contact?.partyId ?? null,
        displayName: contact?.displayName ?? null,
        strikes: peer.strikes ?? 0,
      };
    });
    // Contacts' devices first, by name; then the others.
    return peers.sort(
      (a, b) =>
        Number(a.partyId === null) - Number(b.partyId === null) ||
        (a.displayName ?? "").localeCompare(b.displayName ?? "") ||
        a.peerId.localeCompare(b.peerId),
    );
  }

  async cadreDevices(): Promise<CadreDevice[]> {
    await this.ready();
    const identity = this.requireParty();
    const enrolledAtMs = identity.state === "ready" ? identity.createdAtMs : this.now();
    const own: CadreDevice = {
      peerId: this.state.peerId,
      name: this.deviceName,
      enrolledAtMs,
      revoked: identity.state === "member" && this.thisDeviceRevoked,
      thisDevice: true,
      // This device is the app.
      kind: "desktop",
    };
    // A member knows the devices the party's card lists: never a revoked one.
    const others = identity.state === "member" ? this.cadre.filter((device) => !device.revoked) : this.cadre;
    return [own, ...others.map((device) => ({ ...device }))];
  }

  /** On a member device: the main device's newer card arrives, and it leaves this device off. */
  receiveCardWithoutThisDevice(): void {
    this.thisDeviceRevoked = true;
    this.emit({ kind: "cadreChanged" });
  }

  async cadreInvite(expiresInSecs: number | null): Promise<EnrollmentLink> {
    await this.ready();
    const me = this.requireMainDevice();
    const secs = expiresInSecs ?? DEFAULT_ENROLLMENT_SECS;
    if (secs < 1) throw invalid("An enrollment link must stay valid for at least a second.");
    const now = this.now();
    const token = mockToken(`cadre:${now}:${this.cadreTokens.size}`);
    const expiresAtMs = now + secs * 1000;
    this.cadreTokens.set(token, { expiresAtMs, used: false });
    const link = mockCadreLink({ partyId: me.partyId, displayName: me.displayName, token, expiresAtMs });
    return { link, expiresAtMs, qrSvg: mockQrSvg(link) };
  }

  async revokeDevice(peerId: string): Promise<void> {
    await this.ready();
    this.requireMainDevice();
    const id = peerId.trim();
    if (id === this.state.peerId) throw invalid("This is the party's main device itself; it cannot be revoked from here.");
    const device = this.cadre.find((entry) => entry.peerId === id && !entry.revoked);
    if (!device) {
      throw invalid(`No device with the peer id ${id} is enrolled in this party's cadre (or it was revoked already).`);
    }
    device.revoked = true;
    this.emit({ kind: "cadreChanged" });
  }

  async invites(): Promise<OwnInvite[]> {
    await this.ready();
    this.requireParty();
    return this.ownInvites.map((invite) => ({ ...invite }));
  }

  async revokeInvite(token: string): Promise<void> {
    await this.ready();
    this.requireParty();
    const invite = this.ownInvites.find((own) => own.token === token);
    if (!invite) throw invalid("This invite is not known here.");
    invite.revoked = true;
  }

  async scanCard(onUpdate: (update: ScanUpdate) => void): Promise<StopScan> {
    await this.ready();
    this.endScan({ kind: "stopped" });
    const scan: RunningScan = { onUpdate, timers: [], ended: false };
    this.scan = scan;
    const camera = this.camera;
    const steps: ScanUpdate[] = [];
    if (!camera) {
      steps.push({
        kind: "failed",
        reason: "noCamera",
        message: "No camera was found. Connect a webcam, or add the contact from a link or an image file.",
      });
    } else {
      steps.push({ kind: "started", camera: camera.name ?? "Integrated Camera" });
      let frame = 0;
      const preview = (): ScanUpdate => ({ kind: "preview", image: mockCameraFrame(frame++), width: 320, height: 240 });
      steps.push(preview(), preview());
      for (const link of camera.refuses ?? []) {
        steps.push(preview(), this.refusalOf(link), preview());
      }
      if (camera.finds) {
        steps.push(preview(), { kind: "found", card: this.readCardLinkNow(camera.finds) });
      } else {
        steps.push(preview(), preview(), preview(), {
          kind: "failed",
          reason: "timedOut",
          message: "No card was seen in time. Hold the code steady in front of the camera and try again.",
        });
      }
    }
    steps.forEach((update, index) => {
      scan.timers.push(
        setTimeout(() => {
          if (scan.ended) return;
          const last = update.kind === "found" || update.kind === "failed";
          if (last) this.endScan(update);
          else scan.onUpdate(update);
        }, this.scanStepMs * (index + 1)),
      );
    });
    return async () => {
      if (this.scan === scan) this.endScan({ kind: "stopped" });
    };
  }

  async trustList(): Promise<TrustScore[]> {
    await this.ready();
    return this.trustBook.list();
  }

  async trust(subject: string): Promise<TrustDetail> {
    await this.ready();
    return this.trustBook.show(subject);
  }

  async attest(attest: Attest): Promise<AttestationView> {
    await this.ready();
    if (this.identity.state === "member") {
      throw new BackendError(
        "invalidInput",
        `This device acts for ${this.identity.displayName} without the party's secret; do this on the main device.`,
      );
    }
    return this.trustBook.attest(attest);
  }

  async evidence(): Promise<EvidenceView[]> {
    await this.ready();
    return this.trustBook.evidence();
  }

  async takeOpenedLinks(): Promise<string[]> {
    await this.ready();
    const links = this.openedLinks;
    this.openedLinks = [];
    return links;
  }

  async tallies(): Promise<TallySummary[]> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.list();
  }

  async tally(id: string): Promise<TallyDetail> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.get(id);
  }

  async proposeTally(offer: TallyOffer): Promise<TallySummary> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.propose(offer);
  }

  async counterTally(id: string, terms: TallyTerms): Promise<TallySummary> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.counter(id, terms);
  }

  async acceptTally(id: string): Promise<TallySummary> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.accept(id);
  }

  async refuseTally(id: string, reason: string): Promise<TallySummary> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.refuse(id, reason);
  }

  async pay(id: string, amount: string, memo: string): Promise<ChitView> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.pay(id, amount, memo);
  }

  async invoice(id: string, amount: string, memo: string): Promise<ChitView> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.invoice(id, amount, memo);
  }

  async approveInvoice(id: string, invoice: string): Promise<ChitView> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.approve(id, invoice);
  }

  async declineInvoice(id: string, invoice: string): Promise<ChitView> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.decline(id, invoice);
  }

  async setTrading(id: string, setting: SettingInput): Promise<ChitView> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.set(id, setting);
  }

  async closeTally(id: string): Promise<ChitView> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.close(id);
  }

  async chits(id: string, before: string | null, limit: number): Promise<ChitPage> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.chits(id, before, limit);
  }

  async exportTallyCsv(id: string, _dialog: SaveDialogText): Promise<string | null> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.exportCsv(id);
  }

  async netPositions(): Promise<NetPosition[]> {
    await this.ready();
    this.requireParty();
    return this.talliesBook.positions();
  }

  setStatus(patch: Partial<MockNodeState>): void {
    this.state = { ...this.state, ...patch };
  }

  /** A device connects (or reconnects): a contact's device brings the contact online. */
  connectPeer(peer: MockPeer): void {
    this.peers.set(peer.peerId, { ...peer, addresses: [...peer.addresses] });
    this.setStatus({ connectedPeers: this.peers.size });
    this.emit({ kind: "peerConnected", peerId: peer.peerId });
    this.announcePresence(peer.partyId);
  }

  /** A device's last connection closes: a contact with no other device connected goes offline, seen now. */
  disconnectPeer(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    if (peer.partyId !== null && !this.isOnline(peer.partyId)) this.lastSeen.set(peer.partyId, this.now());
    this.setStatus({ connectedPeers: this.peers.size });
    this.emit({ kind: "peerDisconnected", peerId });
    this.announcePresence(peer.partyId);
  }

  /**
   * A ping to a device came back in `rttMs`. A contact's presence changes with
   * it; a stranger's round trip changes without an event, as on the node.
   */
  setPeerRtt(peerId: string, rttMs: number): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    peer.rttMs = rttMs;
    this.announcePresence(peer.partyId);
  }

  /** Brings a contact online (its first device connects, with this round trip), or all its devices offline. */
  setContactOnline(partyId: string, online: boolean, rttMs = 20): void {
    const contact = this.contactCards.get(partyId);
    if (!contact) throw new Error(`no contact ${partyId}`);
    if (online) {
      this.connectPeer(contactPeer(contact, rttMs));
      return;
    }
    for (const peer of [...this.peers.values()]) {
      if (peer.partyId === partyId) this.disconnectPeer(peer.peerId);
    }
  }

  /**
   * A device runs `tallymesh cadre join LINK`: the main device checks the token,
   * enrolls it under `name`, of the kind it says (a headless node unless told),
   * and tells the window. Returns the device, or throws the main device's refusal.
   */
  enrollDevice(
    link: string,
    name: string,
    peerId = mockPeerId(`enrolled:${name}:${this.cadre.length}`),
    kind: DeviceKind = "headless",
  ): CadreDevice {
    const invite = parseMockCadreLink(link);
    if (!invite) throw invalid("This is not a Tallymesh enrollment link (they start with tallymesh:cadre?).");
    const token = this.cadreTokens.get(invite.token);
    if (!token) throw invalid("This enrollment link is not known here; make a new one on the main device.");
    if (token.used) throw invalid("This enrollment link was already used; make a new one on the main device.");
    if (this.now() >= token.expiresAtMs) throw invalid("This enrollment link has expired; make a new one on the main device.");
    token.used = true;
    const device: CadreDevice = { peerId, name, enrolledAtMs: this.now(), revoked: false, thisDevice: false, kind };
    this.cadre.push(device);
    this.emit({ kind: "cadreChanged" });
    return { ...device };
  }

  /** AutoNAT finds anew whether the internet can dial this node. */
  setReachability(reachability: Reachability): void {
    this.setStatus({ reachability });
    this.emit({ kind: "reachabilityChanged", reachability });
  }

  /** Whether a party's devices can be reached to redeem its invites. */
  setReachable(partyId: string, reachable: boolean): void {
    if (reachable) this.unreachable.delete(partyId);
    else this.unreachable.add(partyId);
  }

  /** Plugs in (or takes away) a camera for the next scan. */
  setCamera(camera: MockCamera | null): void {
    this.camera = camera;
  }

  /** Where the next backups go; `null` acts as a cancelled save dialog. */
  setBackupSavePath(path: string | null): void {
    this.backupSavePath = path;
  }

  fail(code: ApiErrorCode = "unavailable", message = "The node is not running."): void {
    this.failure = new BackendError(code, message);
  }

  recover(): void {
    this.failure = null;
  }

  /** Delivers `event` to every subscriber, as the node would. */
  async chatConversations(): Promise<ConversationView[]> {
    return this.answer(() => this.chatBook.list());
  }

  async chatConversationWith(partyId: string): Promise<ConversationView> {
    return this.answer(() => this.chatBook.conversationWith(partyId));
  }

  async chatMessages(conversation: string, before: string | null, limit: number): Promise<MessageView[]> {
    return this.answer(() => this.chatBook.messages(conversation, before, limit));
  }

  async chatSend(conversation: string, text: string): Promise<MessageView> {
    return this.answer(() => this.chatBook.send(conversation, text));
  }

  async chatRequestPayment(conversation: string, tallyId: string, amount: string, memo: string): Promise<MessageView> {
    return this.answer(() => this.chatBook.requestPayment(conversation, tallyId, amount, memo));
  }

  async chatPay(conversation: string, messageId: string): Promise<MessageView> {
    return this.answer(() => this.chatBook.pay(conversation, messageId));
  }

  async chatCreateGroup(name: string, members: string[]): Promise<ConversationView> {
    return this.answer(() => this.chatBook.createGroup(name, members));
  }

  async chatMarkRead(conversation: string): Promise<number> {
    return this.answer(() => this.chatBook.markRead(conversation));
  }

  async chatTyping(_conversation: string, _typing: boolean): Promise<void> {
    return this.answer(() => undefined);
  }

  async chatPendingNotifications(): Promise<MessageView[]> {
    return this.answer(() => this.chatBook.pendingNotifications());
  }

  async chatMarkNotified(conversation: string, messageId: string): Promise<void> {
    return this.answer(() => this.chatBook.markNotified(conversation, messageId));
  }

  async chatMailboxStatus(): Promise<MailboxStatus> {
    return this.answer(() => this.chatBook.mailboxStatus());
  }

  emit(event: NodeEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  /** Hands `link` to the running app, as the operating system does when a `tallymesh:` link is opened. */
  openLink(link: string): void {
    this.emit({ kind: "linkOpened", link });
  }

  /** Stops the background events and any scan. */
  dispose(): void {
    if (this.autoEventsTimer !== null) clearInterval(this.autoEventsTimer);
    this.autoEventsTimer = null;
    this.endScan({ kind: "stopped" });
    this.talliesBook.dispose();
  }

  private initialIdentity(option: NonNullable<MockBackendOptions["identity"]>): IdentityState {
    const ready = sampleIdentity(this.now(), this.state.peerId);
    switch (option) {
      case "none":
        return { state: "none" };
      case "ready":
        return ready;
      case "keyMissing":
        return {
          state: "keyMissing",
          partyId: MOCK_RESTORED_PARTY_ID,
          fingerprint: fingerprintOf(MOCK_RESTORED_PARTY_ID),
          displayName: SAMPLE_NAME,
          keystore: "the system keychain (Secret Service)",
        };
      default:
        return option;
    }
  }

  /** The other devices of the party at the start. */
  private initialCadre(): CadreDevice[] {
    const identity = this.identity;
    if (identity.state === "ready") return sampleCadre(this.now(), identity.partyId);
    if (identity.state === "member") {
      // The main device that enrolled this one.
      return [
        {
          peerId: mockPeerId(`${identity.partyId}#main`),
          name: `${identity.displayName}'s laptop`,
          enrolledAtMs: this.now() - 40 * DAY_MS,
          revoked: false,
          thisDevice: false,
          // A member has only the party's card, which carries no kinds.
          kind: null,
        },
      ];
    }
    return [];
  }

  /** The party this node acts for, as its main device or as a member. */
  private requireParty(): Extract<IdentityState, { state: "ready" | "member" }> {
    if (this.identity.state === "member") return this.identity;
    return this.requireReady();
  }

  /** The party, on its main device: a member is told to ask the main device. */
  private requireMainDevice(): Extract<IdentityState, { state: "ready" }> {
    if (this.identity.state === "member") {
      const name = this.identity.displayName;
      throw invalid(
        `This device acts for ${name} as one of its devices and does not hold the party secret; do this on ${name}'s main device.`,
      );
    }
    return this.requireReady();
  }

  private requireReady(): Extract<IdentityState, { state: "ready" }> {
    if (this.identity.state === "ready") return this.identity;
    if (this.identity.state === "keyMissing") {
      throw new BackendError(
        "storage",
        `the party secret of ${this.identity.partyId} is missing from ${this.identity.keystore}; restore it from the recovery phrase or a backup`,
      );
    }
    throw new BackendError("unavailable", "This node has no identity yet: create one or restore one.");
  }

  private restore(partyId: string, displayName: string): IdentityState {
    if (this.identity.state !== "none" && this.identity.partyId !== partyId) {
      throw invalid(
        `this node acts for ${this.identity.partyId}, and the backup or phrase belongs to another party (${partyId}); restore it in a fresh data directory`,
      );
    }
    const createdAtMs = this.identity.state === "ready" ? this.identity.createdAtMs : this.now();
    return this.adopt(partyId, displayName, createdAtMs);
  }

  private adopt(partyId: string, displayName: string, createdAtMs = this.now()): IdentityState {
    this.identity = {
      state: "ready",
      partyId,
      fingerprint: fingerprintOf(partyId),
      displayName,
      createdAtMs,
      devicePeerId: this.state.peerId,
    };
    this.emit({ kind: "identityChanged", identity: { ...this.identity } });
    return { ...this.identity };
  }

  /** Keeps a card: a new party, or a newer card of a known one; an older card changes nothing. */
  private keepCard(card: MockCard): Contact {
    const kept = this.contactCards.get(card.partyId);
    if (kept && kept.cardIssuedAtMs >= card.issuedAtMs) return { ...kept, addresses: [...kept.addresses] };
    const contact = contactOf(card, kept?.addedAtMs ?? this.now());
    this.contactCards.set(card.partyId, contact);
    this.emit({ kind: "contactsChanged", partyId: card.partyId });
    return { ...contact, addresses: [...contact.addresses] };
  }

  private isOnline(partyId: string): boolean {
    return [...this.peers.values()].some((peer) => peer.partyId === partyId);
  }

  /** A contact's presence: online through its connected devices (the best round trip), or when last seen. */
  private presenceOf(partyId: string): ContactPresence {
    const devices = [...this.peers.values()].filter((peer) => peer.partyId === partyId);
    if (devices.length === 0) {
      return { partyId, online: false, rttMs: null, lastSeenMs: this.lastSeen.get(partyId) ?? null };
    }
    const rtts = devices.flatMap((device) => (device.rttMs === null ? [] : [device.rttMs]));
    return { partyId, online: true, rttMs: rtts.length > 0 ? Math.min(...rtts) : null, lastSeenMs: this.now() };
  }

  private announcePresence(partyId: string | null): void {
    if (partyId === null || !this.contactCards.has(partyId)) return;
    this.emit({ kind: "presenceChanged", presence: this.presenceOf(partyId) });
  }

  /** Reads and checks a card as the node does before showing or adding it. */
  private checkCard(link: string): MockCard {
    const me = this.requireReady();
    const card = parseMockLink(link);
    if (card === "notALink") throw invalid("This is not a Tallymesh contact link.");
    if (card === "damaged") throw invalid("This contact card is damaged (it may have been cut short when copied).");
    if (card === "tampered") throw invalid("This link was changed after it was made, so it can't be trusted.");
    if (card.partyId === me.partyId) throw invalid("This is your own card.");
    if (card.invite && card.invite.expiresAtMs <= this.now()) {
      throw invalid("The invite on this card has expired; ask for a new card.");
    }
    return card;
  }

  private readCardLinkNow(link: string): CardPreview {
    const card = this.checkCard(link);
    return previewOf(card, link, this.contactCards.has(card.partyId));
  }

  private refusalOf(link: string): ScanUpdate {
    try {
      this.checkCard(link);
      return { kind: "refused", message: "This card can't be added." };
    } catch (error) {
      return { kind: "refused", message: BackendError.from(error).message };
    }
  }

  private endScan(last: ScanUpdate): void {
    const scan = this.scan;
    if (!scan || scan.ended) return;
    scan.ended = true;
    for (const timer of scan.timers) clearTimeout(timer);
    this.scan = null;
    scan.onUpdate(last);
  }

  /** Waits like a node, fails like a node, then answers with `work`. */
  private async answer<T>(work: () => T | Promise<T>): Promise<T> {
    await this.ready();
    this.requireParty();
    return work();
  }

  private async ready(): Promise<void> {
    await this.delay();
    if (this.failure) throw this.failure;
  }

  private delay(factor = 1): Promise<void> {
    if (this.latencyMs <= 0) return Promise.resolve();
    if (!Number.isFinite(this.latencyMs)) return new Promise(() => {});
    return new Promise((resolve) => setTimeout(resolve, this.latencyMs * factor));
  }

  /**
   * A minute of a live node, over and over: a contact's round trip drifts, a
   * stranger connects, an offline contact comes online (or goes again), the
   * stranger leaves.
   */
  private startAutoEvents(): void {
    let step = 0;
    const passer: MockPeer = {
      peerId: mockPeerId("passing peer"),
      addresses: ["/ip4/203.0.113.54/udp/4001/quic-v1"],
      rttMs: 120,
      partyId: null,
    };
    const visitor = [...this.contactCards.values()].find((contact) => !this.isOnline(contact.partyId));
    this.autoEventsTimer = setInterval(() => {
      step += 1;
      switch (step % 4) {
        case 1: {
          const device = [...this.peers.values()].find((peer) => peer.partyId !== null && peer.rttMs !== null);
          if (device) this.setPeerRtt(device.peerId, Math.max(4, (device.rttMs ?? 0) + (step % 8 < 4 ? 3 : -3)));
          break;
        }
        case 2:
          this.connectPeer(passer);
          break;
        case 3:
          if (visitor && this.contactCards.has(visitor.partyId)) {
            this.setContactOnline(visitor.partyId, !this.isOnline(visitor.partyId), 40);
          }
          break;
        default:
          this.disconnectPeer(passer.peerId);
      }
    }, 15_000);
  }
}

function invalid(message: string): BackendError {
  return new BackendError("invalidInput", message);
}

/** Trims a display name and checks its length, as the node does. */
function checkDisplayName(name: string): string {
  const trimmed = name.trim();
  const chars = [...trimmed].length;
  if (chars === 0 || chars > MAX_DISPLAY_NAME || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw invalid(`A display name has 1 to ${MAX_DISPLAY_NAME} characters.`);
  }
  return trimmed;
}
