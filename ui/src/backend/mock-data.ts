/**
 * What the mock node knows and makes: sample parties, card links, a recovery
 * phrase, a backup file and QR pictures. The formats only look like the real
 * ones; the mock checks them the way the node would and refuses with the
 * node's own sentences.
 */
import type {
  CadreDevice,
  CardInvite,
  CardPreview,
  ChitView,
  Contact,
  InvoiceView,
  RevisionView,
  TallySide,
  TallyStage,
  TradingVariablesView,
  UnitView,
  Who,
} from "./types";

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A small deterministic generator, so sample ids stay the same from run to run. */
function seededRandom(seed: string): () => number {
  let state = 2_166_136_261;
  for (const char of seed) state = Math.imul(state ^ char.charCodeAt(0), 16_777_619) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A party id shaped like the node's (`did:key:z6Mk…`), the same for the same seed. */
export function mockPartyId(seed: string): string {
  const next = seededRandom(seed);
  let tail = "";
  for (let i = 0; i < 44; i += 1) tail += BASE58[Math.floor(next() * BASE58.length)];
  return `did:key:z6Mk${tail}`;
}

/** A libp2p peer id shaped like the node's, the same for the same seed. */
export function mockPeerId(seed: string): string {
  const next = seededRandom(`peer:${seed}`);
  let tail = "";
  for (let i = 0; i < 44; i += 1) tail += BASE58[Math.floor(next() * BASE58.length)];
  return `12D3KooW${tail}`;
}

/** A 32-hex-digit invite token. */
export function mockToken(seed: string): string {
  const next = seededRandom(`token:${seed}`);
  let token = "";
  for (let i = 0; i < 32; i += 1) token += Math.floor(next() * 16).toString(16);
  return token;
}

export function fingerprintOf(partyId: string): string {
  return partyId.slice(-8);
}

/** The 24 words the mock node's party is restored from. */
export const MOCK_RECOVERY_PHRASE: readonly string[] = [
  "orbit", "velvet", "canyon", "marble", "thrive", "lemon",
  "absorb", "tumble", "harvest", "pilot", "quarter", "swift",
  "meadow", "ribbon", "equip", "forest", "gentle", "island",
  "jacket", "kitten", "ladder", "mango", "noble", "oyster",
];

/** The party a restore from the mock phrase or the mock backup brings back. */
export const MOCK_RESTORED_PARTY_ID = mockPartyId("restored party");
/** The name inside the mock backup file. */
export const MOCK_BACKUP_NAME = "Ana Lima";
/** The passphrase that opens the mock backup file. */
export const MOCK_BACKUP_PASSPHRASE = "tally sticks of hazel";

const BACKUP_MAGIC = "TALLYMESH-BACKUP v1\n";

/** The bytes of a backup file the mock can restore with {@link MOCK_BACKUP_PASSPHRASE}. */
export function mockBackupFile(passphrase = MOCK_BACKUP_PASSPHRASE, displayName = MOCK_BACKUP_NAME): Uint8Array {
  const body = JSON.stringify({ party: MOCK_RESTORED_PARTY_ID, name: displayName, lock: checksum(passphrase) });
  return new TextEncoder().encode(BACKUP_MAGIC + body);
}

/** Opens a mock backup: its party and name, `"wrongPassphrase"`, or `"unreadable"`. */
export function openMockBackup(
  bytes: Uint8Array,
  passphrase: string,
): { partyId: string; displayName: string } | "wrongPassphrase" | "unreadable" {
  const text = new TextDecoder().decode(bytes);
  if (!text.startsWith(BACKUP_MAGIC)) return "unreadable";
  try {
    const body = JSON.parse(text.slice(BACKUP_MAGIC.length)) as { party?: unknown; name?: unknown; lock?: unknown };
    if (typeof body.party !== "string" || typeof body.name !== "string") return "unreadable";
    if (body.lock !== checksum(passphrase)) return "wrongPassphrase";
    return { partyId: body.party, displayName: body.name };
  } catch {
    return "unreadable";
  }
}

/** FNV-1a as 8 hex digits: the mock's stand-in for a signature. */
function checksum(text: string): string {
  let hash = 2_166_136_261;
  for (const char of text) hash = Math.imul(hash ^ char.charCodeAt(0), 16_777_619) >>> 0;
  return hash.toString(16).padStart(8, "0");
}

/** What a mock card says. */
export interface MockCard {
  partyId: string;
  displayName: string;
  devices: number;
  issuedAtMs: number;
  invite: CardInvite | null;
  addresses: string[];
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** The `tallymesh:` link of a mock card, "signed" so that any change to it shows. */
export function mockCardLink(card: MockCard): string {
  const data = toBase64Url(JSON.stringify(card));
  return `tallymesh:card?v=1&d=${data}&s=${checksum(data)}`;
}

/** The same link with the name changed after it was made: the node refuses it as altered. */
export function tamperLink(link: string, displayName = "Mallory"): string {
  const read = parseMockLink(link);
  if (typeof read === "string") throw new Error("not a mock card link");
  const params = new URLSearchParams(link.slice(link.indexOf("?") + 1));
  const data = toBase64Url(JSON.stringify({ ...read, displayName }));
  return `tallymesh:card?v=1&d=${data}&s=${params.get("s") ?? ""}`;
}

export type CardRefusal = "notALink" | "damaged" | "tampered";

/** Reads a mock card link as the node reads a real one. */
export function parseMockLink(text: string): MockCard | CardRefusal {
  const link = text.trim();
  if (!/^tallymesh:card\?/i.test(link)) return "notALink";
  const params = new URLSearchParams(link.slice(link.indexOf("?") + 1));
  const data = params.get("d");
  const signature = params.get("s");
  if (!data || !signature) return "damaged";
  let card: MockCard;
  try {
    card = JSON.parse(fromBase64Url(data)) as MockCard;
  } catch {
    return "damaged";
  }
  if (checksum(data) !== signature) return "tampered";
  if (typeof card.partyId !== "string" || typeof card.displayName !== "string") return "damaged";
  return { ...card, invite: card.invite ?? null, addresses: card.addresses ?? [] };
}

export function previewOf(card: MockCard, link: string, known: boolean): CardPreview {
  return {
    partyId: card.partyId,
    displayName: card.displayName,
    fingerprint: fingerprintOf(card.partyId),
    devices: card.devices,
    issuedAtMs: card.issuedAtMs,
    invite: card.invite,
    known,
    link: link.trim(),
  };
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * A "picture of a QR code" the mock can read: a PNG header and then the text
 * the code holds. Real pictures go to the node, which decodes them for real.
 */
export function mockQrImage(payload: string): Uint8Array {
  const text = new TextEncoder().encode(payload);
  const bytes = new Uint8Array(PNG_MAGIC.length + text.length);
  bytes.set(PNG_MAGIC);
  bytes.set(text, PNG_MAGIC.length);
  return bytes;
}

/** What the mock sees in an image file: the code's text, no code, or not an image at all. */
export function readMockImage(bytes: Uint8Array): { payload: string } | "noCode" | "notAnImage" {
  const isPng = PNG_MAGIC.every((byte, i) => bytes[i] === byte);
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) return "notAnImage";
  const text = new TextDecoder().decode(bytes.subarray(isPng ? PNG_MAGIC.length : 2));
  const start = text.indexOf("tallymesh:");
  return start >= 0 ? { payload: text.slice(start) } : "noCode";
}

/** A QR-like SVG for the mock's card: finder squares and modules drawn from the link. */
export function mockQrSvg(link: string): string {
  const size = 29;
  const next = seededRandom(link);
  const cells: string[] = [];
  const inFinder = (x: number, y: number) =>
    (x < 8 && y < 8) || (x >= size - 8 && y < 8) || (x < 8 && y >= size - 8);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      if (!inFinder(x, y) && next() < 0.5) cells.push(`M${x + 4} ${y + 4}h1v1h-1z`);
    }
  }
  const finder = (x: number, y: number) =>
    `M${x + 4} ${y + 4}h7v7h-7zM${x + 5} ${y + 5}v5h5v-5zM${x + 6} ${y + 6}h3v3h-3z`;
  const path = [finder(0, 0), finder(size - 7, 0), finder(0, size - 7), ...cells].join("");
  const full = size + 8;
  return `<?xml version="1.0" encoding="UTF-8"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" shape-rendering="crispEdges"><rect width="${full}" height="${full}" fill="#fff"/><path fill="#000" fill-rule="evenodd" d="${path}"/></svg>`;
}

/** A small picture of what the mock camera "sees", as the node sends previews: a data URL. */
export function mockCameraFrame(frame: number): string {
  const shade = 40 + ((frame * 13) % 30);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240"><rect width="320" height="240" fill="rgb(${shade},${shade + 6},${shade + 10})"/><rect x="110" y="70" width="100" height="100" rx="6" fill="none" stroke="#fff" stroke-opacity=".6" stroke-width="3" stroke-dasharray="14 8"/></svg>`;
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}

function sampleCard(displayName: string, devices: number, issuedAgoMs: number, now: number): MockCard {
  const partyId = mockPartyId(displayName);
  return {
    partyId,
    displayName,
    devices,
    issuedAtMs: now - issuedAgoMs,
    invite: null,
    addresses: [`/ip4/192.168.1.${(partyId.charCodeAt(20) % 200) + 20}/udp/47811/quic-v1`, "/ip4/203.0.113.7/tcp/47811"].slice(
      0,
      devices > 1 ? 2 : 1,
    ),
  };
}

/** The parties the sample node knows. */
export function sampleContacts(now: number): Contact[] {
  return [
    sampleCard("Bruno Costa", 2, 9 * DAY_MS, now),
    sampleCard("Chiara Rossi", 1, 30 * DAY_MS, now),
    sampleCard("Huerta Comunal La Esperanza", 3, 2 * DAY_MS, now),
    sampleCard("Dmitri Volkov", 1, 64 * DAY_MS, now),
  ]
    .map((card, index) => contactOf(card, card.issuedAtMs + (index + 1) * HOUR_MS))
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
}

/** A card of someone the sample node does not know yet, to add. */
export function sampleStrangerCard(now: number, invite: CardInvite | null = null): MockCard {
  return { ...sampleCard("Lucía Fernández", 2, 5 * 60_000, now), invite };
}

export function contactOf(card: MockCard, addedAtMs: number): Contact {
  return {
    partyId: card.partyId,
    displayName: card.displayName,
    fingerprint: fingerprintOf(card.partyId),
    addedAtMs,
    cardIssuedAtMs: card.issuedAtMs,
    devices: card.devices,
    addresses: [...card.addresses],
  };
}

/** A device connected to the mock node. */
export interface MockPeer {
  /** Its libp2p peer id. */
  peerId: string;
  /** The remote address of each open connection. */
  addresses: string[];
  /** The latest ping round trip, in milliseconds; `null` until one completed. */
  rttMs: number | null;
  /** The party whose card certifies this device, when the node knows it; `null` for others. */
  partyId: string | null;
  /** How often it broke our protocols' rules; none when absent. */
  strikes?: number;
}

/** The peer id of a party's `device`-th device, the same every time. */
export function devicePeerId(partyId: string, device = 0): string {
  return mockPeerId(`${partyId}#${device}`);
}

/** The peer of a party's device, connected at the first address its card names. */
export function contactPeer(contact: Pick<Contact, "partyId" | "addresses">, rttMs: number | null, device = 0): MockPeer {
  return {
    peerId: devicePeerId(contact.partyId, device),
    addresses: contact.addresses.slice(0, 1),
    rttMs,
    partyId: contact.partyId,
  };
}

/** A relay the sample node keeps a connection to: a peer that is nobody's contact. */
export const SAMPLE_RELAY_PEER: MockPeer = {
  peerId: mockPeerId("relay"),
  addresses: ["/ip4/198.51.100.23/udp/4001/quic-v1"],
  rttMs: 84,
  partyId: null,
};

/**
 * Who the sample node is connected to: Bruno (one of his two devices) and the
 * Huerta, online; a relay. Chiara was seen a few minutes ago, Dmitri never.
 */
export function samplePeers(now: number): MockPeer[] {
  const contacts = sampleContacts(now);
  const bruno = contacts.find((contact) => contact.displayName === "Bruno Costa")!;
  const huerta = contacts.find((contact) => contact.displayName.startsWith("Huerta"))!;
  return [contactPeer(bruno, 12), contactPeer(huerta, 31), { ...SAMPLE_RELAY_PEER }];
}

/** When the sample contacts that are offline were last connected (ms), by party id. */
export function sampleLastSeen(now: number): Record<string, number> {
  const chiara = sampleContacts(now).find((contact) => contact.displayName === "Chiara Rossi")!;
  return { [chiara.partyId]: now - 5 * MINUTE_MS };
}

/** What a mock enrollment link carries: the party, and the one-time token with its expiry. */
export interface MockCadreInvite {
  partyId: string;
  displayName: string;
  token: string;
  expiresAtMs: number;
}

/** An enrollment link shaped like the node's (`tallymesh:cadre?v=1&d=…`). */
export function mockCadreLink(invite: MockCadreInvite): string {
  return `tallymesh:cadre?v=1&d=${toBase64Url(JSON.stringify(invite))}`;
}

/** The invite of a mock enrollment link, or `null` when it is not one. */
export function parseMockCadreLink(link: string): MockCadreInvite | null {
  const prefix = "tallymesh:cadre?";
  const text = link.trim();
  if (!text.startsWith(prefix)) return null;
  const data = new URLSearchParams(text.slice(prefix.length)).get("d");
  if (!data) return null;
  try {
    return JSON.parse(fromBase64Url(data)) as MockCadreInvite;
  } catch {
    return null;
  }
}

/**
 * The devices the sample party's main device enrolled: an always-on home box,
 * and an old phone that was revoked.
 */
export function sampleCadre(now: number, partyId: string): CadreDevice[] {
  return [
    {
      peerId: devicePeerId(partyId, 1),
      name: "Home box",
      enrolledAtMs: now - 12 * DAY_MS - 3 * HOUR_MS,
      revoked: false,
      thisDevice: false,
      kind: "headless",
    },
    {
      peerId: devicePeerId(partyId, 2),
      name: "Old phone",
      enrolledAtMs: now - 30 * DAY_MS,
      revoked: true,
      thisDevice: false,
      // Enrolled before devices said what they are.
      kind: null,
    },
  ];
}

/** The CHIP: the default unit, counted in thousandths. */
export const CHIP: UnitView = { code: "CHIP", scale: 3 };

/** A tally as the mock node keeps it: its revisions, chits (oldest first) and open invoices. */
export interface MockTally {
  id: string;
  partyId: string;
  partnerName: string;
  side: TallySide;
  stage: TallyStage;
  waitingFor: Who | null;
  unit: UnitView;
  revisions: RevisionView[];
  refusal: { by: Who; reason: string } | null;
  ourNodes: string[];
  theirNodes: string[];
  variables: { ours: TradingVariablesView; theirs: TradingVariablesView } | null;
  invoices: InvoiceView[];
  chits: ChitView[];
  updatedAtMs: number;
}

/** A 32-hex-digit id for a tally, chit or invoice, the same for the same seed. */
export function mockHexId(seed: string): string {
  return mockToken(`hex:${seed}`) + mockToken(`hex2:${seed}`);
}

/** The text of the sample contract the Huerta tally names. */
export const HUERTA_AGREEMENT =
  "Members receive one vegetable box a week, collected on Saturdays. A box not collected by Sunday evening is given away.";

export const SAMPLE_TRADING: TradingVariablesView = { target: 0, bound: 0, rewardPpm: 0, clutchPpm: 0, call: 30 };

function sampleRevision(
  revision: number,
  by: Who,
  dateMs: number,
  terms: RevisionView["terms"],
  memo: string,
  changes: string[] = [],
  contract: RevisionView["contract"] = null,
): RevisionView {
  return { revision, by, dateMs, expiresMs: dateMs + 3 * DAY_MS, memo, terms, contract, changes };
}

/** Transactions over `days` days, deterministic, that stay within the limits and end at `target`. */
function sampleHistory(
  seed: string,
  now: number,
  count: number,
  days: number,
  target: number,
  limits: { weGrant: number; theyGrant: number },
  memos: string[],
): ChitView[] {
  const next = seededRandom(seed);
  const amounts: number[] = [];
  let balance = 0;
  for (let i = 0; i < count - 1; i += 1) {
    let amount = Math.round((next() * 9 + 0.5) * 1000 / 50) * 50 * (next() < 0.55 ? 1 : -1);
    if (balance + amount > limits.weGrant || balance + amount < -limits.theyGrant) amount = -amount;
    balance += amount;
    amounts.push(amount);
  }
  amounts.push(target - balance);
  balance = 0;
  const start = now - days * DAY_MS;
  return amounts.map((units, index) => {
    balance += units;
    const dateMs = Math.round(start + ((index + 1) / (count + 1)) * days * DAY_MS);
    return {
      id: mockHexId(`${seed}:chit:${index}`),
      by: units < 0 ? "us" : "partner",
      kind: "transaction",
      units,
      memo: memos[index % memos.length] ?? "",
      dateMs,
      status: "final",
      refusedReason: null,
      balanceAfter: balance,
      invoice: null,
    } satisfies ChitView;
  });
}

/**
 * The sample party's tallies: an open one with Bruno, who owes 12.500 CHIP,
 * with a long history; an open one with Chiara, to whom we owe 20.000 CHIP and
 * who sent an invoice; the Huerta's counter-offer waiting for our answer; and
 * our offer to Dmitri, which expired unanswered.
 */
export function sampleTallies(now: number, contacts: Contact[], ourPeerId: string): MockTally[] {
  const named = (prefix: string) => contacts.find((contact) => contact.displayName.startsWith(prefix));
  const tallies: MockTally[] = [];
  const bruno = named("Bruno");
  if (bruno) {
    const terms = { weGrant: 50_000, theyGrant: 20_000, ourCall: 30, theirCall: 30 };
    const chits = sampleHistory("bruno", now, 42, 58, 12_500, terms, [
      "Bike repair",
      "Inner tubes",
      "Lights and bell",
      "Brake pads",
      "Chain and cassette",
      "Wheel truing",
    ]);
    tallies.push({
      id: mockHexId("tally:bruno"),
      partyId: bruno.partyId,
      partnerName: bruno.displayName,
      side: "stock",
      stage: "open",
      waitingFor: null,
      unit: CHIP,
      revisions: [sampleRevision(1, "us", now - 60 * DAY_MS, terms, "Bike workshop account")],
      refusal: null,
      ourNodes: [ourPeerId],
      theirNodes: [devicePeerId(bruno.partyId, 0), devicePeerId(bruno.partyId, 1)],
      variables: { ours: { ...SAMPLE_TRADING, bound: 20_000 }, theirs: { ...SAMPLE_TRADING } },
      invoices: [],
      chits,
      updatedAtMs: chits[chits.length - 1]?.dateMs ?? now,
    });
  }
  const chiara = named("Chiara");
  if (chiara) {
    const terms = { weGrant: 10_000, theyGrant: 30_000, ourCall: 14, theirCall: 30 };
    const chits = sampleHistory("chiara", now, 9, 20, -20_000, terms, ["Bread", "Cheese", "Olive oil"]);
    const invoice: InvoiceView = {
      id: mockHexId("chiara:invoice"),
      payee: "partner",
      units: 4_000,
      memo: "Bread and cheese, week 14",
      dateMs: now - 2 * 3_600_000,
    };
    chits.push({
      id: invoice.id,
      by: "partner",
      kind: "invoice",
      units: invoice.units,
      memo: invoice.memo,
      dateMs: invoice.dateMs,
      status: "final",
      refusedReason: null,
      balanceAfter: null,
      invoice: null,
    });
    tallies.push({
      id: mockHexId("tally:chiara"),
      partyId: chiara.partyId,
      partnerName: chiara.displayName,
      side: "foil",
      stage: "open",
      waitingFor: null,
      unit: CHIP,
      revisions: [
        sampleRevision(1, "partner", now - 23 * DAY_MS, { ...terms, theyGrant: 20_000 }, "Bakery"),
        sampleRevision(2, "us", now - 22 * DAY_MS, terms, "Bakery", ["theyGrant"]),
      ],
      refusal: null,
      ourNodes: [ourPeerId],
      theirNodes: [devicePeerId(chiara.partyId, 0)],
      variables: { ours: { ...SAMPLE_TRADING, call: 14 }, theirs: { ...SAMPLE_TRADING } },
      invoices: [invoice],
      chits,
      updatedAtMs: invoice.dateMs,
    });
  }
  const huerta = named("Huerta");
  if (huerta) {
    const ours = { weGrant: 50_000, theyGrant: 100_000, ourCall: 30, theirCall: 30 };
    const theirs = { weGrant: 50_000, theyGrant: 80_000, ourCall: 30, theirCall: 60 };
    tallies.push({
      id: mockHexId("tally:huerta"),
      partyId: huerta.partyId,
      partnerName: huerta.displayName,
      side: "foil",
      stage: "offered",
      waitingFor: "us",
      unit: CHIP,
      revisions: [
        sampleRevision(1, "us", now - 5 * DAY_MS, ours, "Weekly vegetable box", [], {
          title: "Huerta member agreement",
          hash: "9f2c4e0b7a61d3f8",
          text: HUERTA_AGREEMENT,
        }),
        {
          ...sampleRevision(2, "partner", now - 20 * 3_600_000, theirs, "Weekly vegetable box", ["theyGrant", "theirCall"], {
            title: "Huerta member agreement",
            hash: "9f2c4e0b7a61d3f8",
            text: HUERTA_AGREEMENT,
          }),
          expiresMs: now + 52 * 3_600_000,
        },
      ],
      refusal: null,
      ourNodes: [ourPeerId],
      theirNodes: [devicePeerId(huerta.partyId, 0)],
      variables: null,
      invoices: [],
      chits: [],
      updatedAtMs: now - 20 * 3_600_000,
    });
  }
  const dmitri = named("Dmitri");
  if (dmitri) {
    const terms = { weGrant: 25_000, theyGrant: 5_000, ourCall: 30, theirCall: 30 };
    tallies.push({
      id: mockHexId("tally:dmitri"),
      partyId: dmitri.partyId,
      partnerName: dmitri.displayName,
      side: "stock",
      stage: "offered",
      waitingFor: "partner",
      unit: CHIP,
      revisions: [sampleRevision(1, "us", now - 10 * DAY_MS, terms, "Translation work")],
      refusal: null,
      ourNodes: [ourPeerId],
      theirNodes: [],
      variables: null,
      invoices: [],
      chits: [],
      updatedAtMs: now - 10 * DAY_MS,
    });
  }
  return tallies;
}
