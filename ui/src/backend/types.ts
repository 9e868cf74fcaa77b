/**
 * The backend's vocabulary as the rest of the UI sees it. Types come from the
 * generated bindings so a regenerated file keeps every screen honest.
 */
import type {
  ApiError,
  AttestationView_Serialize as GeneratedAttestationView,
  CadreDevice_Serialize,
  CardInvite,
  CardPreview_Serialize,
  Contact,
  DeviceKind,
  EnrollmentLink_Serialize,
  ContactPresence_Serialize,
  IdentityState,
  MyCard_Serialize,
  NodeChoice,
  NodeEvent as GeneratedNodeEvent,
  NodeStatus,
  OwnInvite,
  PeerInfo_Serialize,
  Reachability,
  ScanFailure,
  ScanUpdate_Serialize,
  TrustEvent as GeneratedTrustEvent,
  TrustLevel,
  TrustScore_Serialize as GeneratedTrustScore,
  EvidenceView_Serialize,
} from "./bindings";

import type {
  ChitPage,
  ChitView,
  NetPosition,
  SettingInput,
  TallyDetail,
  TallyOffer,
  TallySummary,
  TallyTerms,
} from "./tally-types";

export type * from "./tally-types";
export type * from "./chat-types";

import type { ConversationView, MailboxStatus, MessageView } from "./chat-types";

export type {
  CardInvite,
  Contact,
  DeviceKind,
  IdentityState,
  NodeStatus,
  OwnInvite,
  Reachability,
  ScanFailure,
  TrustLevel,
};

/**
 * The generated types give every float as `number | null` (JSON has no NaN);
 * the node's trust numbers are always finite, so the UI reads them as numbers.
 */
type Finite<T> = { [K in keyof T]: null extends T[K] ? (NonNullable<T[K]> extends number ? number : T[K]) : T[K] };
/** A party's (or a device's) standing: score, trend, tally record, reputation, whether evidence names it. */
export type TrustScore = Finite<GeneratedTrustScore>;
/** One change of a score, with its reason. */
export type TrustEvent = Finite<GeneratedTrustEvent>;
/**
 * An attestation: who vouches for whom, for what, how much, until when, how much the attester's
 * word weighs here (`recommender`: `null` when it does not count) and the boost it gives now.
 */
export type AttestationView = Omit<Finite<GeneratedAttestationView>, "recommender"> & { recommender: number | null };
/** Verified evidence of misbehaviour, as kept. */
export type EvidenceView = EvidenceView_Serialize;
/** Everything behind one score. */
export interface TrustDetail {
  score: TrustScore;
  events: TrustEvent[];
  attestations: AttestationView[];
  evidence: EvidenceView[];
}
/** What to attest: a party, `identity`/`trade`/`service`, a score from 0 to 1, for how many days. */
export interface Attest {
  partyId: string;
  kind: string;
  score: number;
  validDays: number;
}

/** Something the node did or saw. */
export type NodeEvent = GeneratedNodeEvent;

/** A verified card that has not been added yet: what a person confirms before "Add contact". */
export type CardPreview = CardPreview_Serialize;
/** This party's card, signed now: its link, the invite it carries and a QR code (an SVG document). */
export type MyCard = MyCard_Serialize;
/** What a camera scan reports while it runs; the last update is `found`, `failed` or `stopped`. */
export type ScanUpdate = ScanUpdate_Serialize;
/** How a contact can be reached right now: online with a round trip, or when it was last seen. */
export type ContactPresence = ContactPresence_Serialize;
/** A device of the party: its name, its kind when known, whether it is this one or was revoked. */
export type CadreDevice = CadreDevice_Serialize;
export type { NodeChoice };
/** A one-time enrollment link: the link, when it expires, and a QR code of it (`null` when too long for one). */
export type EnrollmentLink = EnrollmentLink_Serialize;
/** A connected peer: its addresses, round trip, and the contact it belongs to, if any. */
export type PeerInfo = PeerInfo_Serialize;
/** An invite to put on a new card: reusable or one-time, and how long it is accepted. */
export interface InviteRequest {
  reusable: boolean;
  expiresInSecs: number;
}
/** The identity once the node acts for a party. */
export type ReadyIdentity = Extract<IdentityState, { state: "ready" }>;
/** The identity of a device enrolled in another device's party: it acts for the party without its secret. */
export type MemberIdentity = Extract<IdentityState, { state: "member" }>;
/** A party the database names but whose secret the keystore lost. */
export type KeyMissingIdentity = Extract<IdentityState, { state: "keyMissing" }>;

export type ApiErrorCode = ApiError["code"];

const API_ERROR_CODES: readonly ApiErrorCode[] = ["invalidInput", "notFound", "unavailable", "storage", "internal"];

/** A failed backend call: one of the few codes the UI can act on, and a message for people. */
export class BackendError extends Error {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = "BackendError";
    this.code = code;
  }

  /** Turns whatever a call threw or returned as its error into a `BackendError`. */
  static from(cause: unknown): BackendError {
    if (cause instanceof BackendError) return cause;
    if (isApiError(cause)) return new BackendError(cause.code, cause.message);
    if (cause instanceof Error) return new BackendError("internal", cause.message);
    return new BackendError("internal", typeof cause === "string" ? cause : "Unknown error");
  }
}

function isApiError(value: unknown): value is ApiError {
  if (typeof value !== "object" || value === null) return false;
  const { code, message } = value as Record<string, unknown>;
  return (
    typeof message === "string" && typeof code === "string" && (API_ERROR_CODES as readonly string[]).includes(code)
  );
}

export type Unsubscribe = () => void;

/** The words of the system's save dialog, in the window's language. */
export interface SaveDialogText {
  /** The dialog's title. */
  title: string;
  /** The name of the kind of file saved, shown by its filter. */
  fileKind: string;
}

/** Ends a camera scan; resolves once the node was told. */
export type StopScan = () => Promise<void>;

/**
 * Everything the UI asks of the node. Implemented over Tauri in the app and by
 * a mock elsewhere. Every method rejects with a {@link BackendError} whose
 * message is already a sentence for people.
 */
export interface Backend {
  /** The node's current status. */
  nodeStatus(): Promise<NodeStatus>;
  /** Calls `callback` for every node event until the returned function is called. */
  onNodeEvent(callback: (event: NodeEvent) => void): Promise<Unsubscribe>;

  /** Whom the node acts for: nobody yet, a party, or a party whose secret is missing. */
  identityState(): Promise<IdentityState>;
  /** Creates a new party with this display name (1–64 characters). */
  createIdentity(displayName: string): Promise<IdentityState>;
  /** The 24 words of the recovery phrase, in order. A secret: ask only when the person wants to see it. */
  recoveryPhrase(): Promise<string[]>;
  /**
   * Asks where to save an encrypted backup (the system's save dialog) and writes it there.
   * Resolves to the saved file's path, or `null` if the person cancelled the dialog.
   */
  saveBackup(passphrase: string, dialog: SaveDialogText): Promise<string | null>;
  /** Restores the party of a recovery phrase, under `displayName`. */
  restoreFromPhrase(phrase: string, displayName: string): Promise<IdentityState>;
  /** Restores the party of a backup file's bytes, unlocked with `passphrase`. */
  restoreFromBackup(backup: Uint8Array, passphrase: string): Promise<IdentityState>;

  /** Every contact, by name. */
  contacts(): Promise<Contact[]>;
  /** One contact. */
  contact(partyId: string): Promise<Contact>;
  /** Forgets a contact. */
  removeContact(partyId: string): Promise<void>;
  /** My card, signed now; with `invite`, a new invite is made and the card carries it. */
  myCard(invite: InviteRequest | null): Promise<MyCard>;
  /** Reads and verifies the card of a pasted or opened link, without adding it. */
  readCardLink(link: string): Promise<CardPreview>;
  /** Reads and verifies the card in a QR code image file's bytes, without adding it. */
  readCardImage(image: Uint8Array): Promise<CardPreview>;
  /** Adds the party of a card link, as a preview gave it, without reaching them. */
  addContact(link: string): Promise<Contact>;
  /**
   * Redeems the invite on a card link, as a preview gave it: reaches the party's
   * devices and exchanges cards, so each keeps the other's. Rejects with
   * `unavailable` when none of their devices can be reached, and with
   * `invalidInput` when they refuse (an invite already used, a card with no invite).
   */
  redeemContact(link: string): Promise<Contact>;
  /** Every contact's presence: online with a round trip, or when last seen. */
  contactsPresence(): Promise<ContactPresence[]>;
  /** Every invite this party made, newest first. */
  invites(): Promise<OwnInvite[]>;
  /** Withdraws an invite. */
  revokeInvite(token: string): Promise<void>;
  /**
   * Starts a camera scan for a card; `onUpdate` hears every update. A scan
   * already running stops. Call the returned function to stop this one.
   */
  scanCard(onUpdate: (update: ScanUpdate) => void): Promise<StopScan>;

  /** The peers connected now, contacts' devices first. */
  networkPeers(): Promise<PeerInfo[]>;

  /** The party's devices, this one first; on the main device revoked ones are kept, marked. */
  cadreDevices(): Promise<CadreDevice[]>;
  /**
   * A new one-time enrollment link, accepted for `expiresInSecs` (an hour when
   * `null`), with its expiry and a QR code. Only on the party's main device.
   */
  cadreInvite(expiresInSecs: number | null): Promise<EnrollmentLink>;
  /** Revokes an enrolled device: it drops off the party's card. */
  revokeDevice(peerId: string): Promise<void>;

  /** The `tallymesh:` links the app was opened with, oldest first; each is handed out once. */
  takeOpenedLinks(): Promise<string[]>;

  /** Every tally, in any stage. */
  tallies(): Promise<TallySummary[]>;
  /** The devices that may keep a new tally for our side (this one first) and how many of them a quorum needs. */
  tallyNodeChoice(): Promise<NodeChoice>;
  /** One tally in full: revisions, refusal, nodes, trading variables, open invoices, room left. */
  tally(id: string): Promise<TallyDetail>;
  /** Offers a new tally to a contact. */
  proposeTally(offer: TallyOffer): Promise<TallySummary>;
  /** Answers an offer with other terms: a new revision, awaiting the partner. */
  counterTally(id: string, terms: TallyTerms): Promise<TallySummary>;
  /** Accepts the partner's latest revision: the tally opens. */
  acceptTally(id: string): Promise<TallySummary>;
  /** Refuses an offer, saying why. */
  refuseTally(id: string, reason: string): Promise<TallySummary>;
  /** Pays the partner `amount` (decimal text in the tally's unit). Over the limit rejects with the node's sentence. */
  pay(id: string, amount: string, memo: string): Promise<ChitView>;
  /** Asks the partner to pay us `amount`. */
  invoice(id: string, amount: string, memo: string): Promise<ChitView>;
  /** Pays an invoice the partner sent. */
  approveInvoice(id: string, invoice: string): Promise<ChitView>;
  /** Declines an invoice the partner sent. */
  declineInvoice(id: string, invoice: string): Promise<ChitView>;
  /** Changes our trading variables (and call); `null` fields stay as they are. */
  setTrading(id: string, setting: SettingInput): Promise<ChitView>;
  /** Asks to close the tally; it closes once the balance is zero. */
  closeTally(id: string): Promise<ChitView>;
  /** A page of chits, newest first; `before` continues from the previous page's `before`. */
  chits(id: string, before: string | null, limit: number): Promise<ChitPage>;
  /** Asks where to save the tally's chits as CSV (the system's save dialog); `null` if cancelled. */
  exportTallyCsv(id: string, dialog: SaveDialogText): Promise<string | null>;
  /** Net position per unit over the open tallies, with its history. */
  netPositions(): Promise<NetPosition[]>;

  /** Every conversation, the latest first, with unread counts and presence. */
  chatConversations(): Promise<ConversationView[]>;
  /** The one-to-one conversation with a contact, made if there is none. */
  chatConversationWith(partyId: string): Promise<ConversationView>;
  /** Up to `limit` messages of a conversation, oldest first, before the message `before` (the latest when null). */
  chatMessages(conversation: string, before: string | null, limit: number): Promise<MessageView[]>;
  /** Sends a text message (1–4,096 bytes). */
  chatSend(conversation: string, text: string): Promise<MessageView>;
  /** Asks the other party of a conversation to pay `amount` (decimal text in the tally's unit) on a tally. */
  chatRequestPayment(conversation: string, tallyId: string, amount: string, memo: string): Promise<MessageView>;
  /** Pays a payment request of the thread from its tally; resolves to the payment message. */
  chatPay(conversation: string, messageId: string): Promise<MessageView>;
  /** Makes a group conversation named `name` with these contacts. */
  chatCreateGroup(name: string, members: string[]): Promise<ConversationView>;
  /** Marks a conversation read (its senders get read receipts); resolves to how many. */
  chatMarkRead(conversation: string): Promise<number>;
  /** Tells the other parties we started or stopped typing (never stored). */
  chatTyping(conversation: string, typing: boolean): Promise<void>;
  /** Received messages whose notification was not shown yet (kept across restarts). */
  chatPendingNotifications(): Promise<MessageView[]>;
  /** Marks a message's notification shown. */
  chatMarkNotified(conversation: string, messageId: string): Promise<void>;
  /** What this device's mailbox holds for the party's other devices. */
  chatMailboxStatus(): Promise<MailboxStatus>;

  /** Every party (or device) this node scores, and every contact, contacts first. */
  trustList(): Promise<TrustScore[]>;
  /** Everything behind one score: its events newest first, the attestations about it, the evidence against it. */
  trust(subject: string): Promise<TrustDetail>;
  /** Signs an attestation about a party and hands it to contacts and the network. Only on the main device. */
  attest(attest: Attest): Promise<AttestationView>;
  /** The verified evidence of misbehaviour the node keeps, newest first. */
  evidence(): Promise<EvidenceView[]>;
}
