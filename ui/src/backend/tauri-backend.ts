import { Channel } from "@tauri-apps/api/core";
import { bytesToBase64 } from "./base64";
import {
  commands,
  events,
  type ApiError,
  type AttestationView_Serialize,
  type Result,
  type ScanUpdate_Deserialize,
  type TrustDetail_Serialize,
  type TrustEvent as GeneratedTrustEvent,
  type TrustScore_Serialize,
} from "./bindings";
import {
  type Attest,
  type AttestationView,
  type Backend,
  BackendError,
  type EvidenceView,
  type TrustDetail,
  type TrustEvent,
  type TrustScore,
  type CadreDevice,
  type NodeChoice,
  type ConversationView,
  type MailboxStatus,
  type MessageView,
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
  type ScanUpdate,
  type StopScan,
  type Unsubscribe,
} from "./types";

/** Awaits a command and returns its data; an error result or a failed IPC call becomes a `BackendError`. */
async function call<T>(command: () => Promise<Result<T, ApiError>>): Promise<T> {
  let result;
  try {
    result = await command();
  } catch (cause) {
    throw BackendError.from(cause);
  }
  if (result.status === "error") throw BackendError.from(result.error);
  return result.data;
}

/** A scan update as the channel delivers it, in the shape the screens read (no missing invite). */
function scanUpdateOf(update: ScanUpdate_Deserialize): ScanUpdate {
  if (update.kind !== "found") return update;
  return { kind: "found", card: { ...update.card, invite: update.card.invite ?? null } };
}

/** A trust number as the node sends it: always finite, so never `null` in practice. */
function finite(value: number | null): number {
  return value ?? 0;
}

function trustScoreOf(score: TrustScore_Serialize): TrustScore {
  return {
    ...score,
    score: finite(score.score),
    earned: finite(score.earned),
    attested: finite(score.attested),
    trend: finite(score.trend),
    statistics: finite(score.statistics),
    reputation: finite(score.reputation),
  };
}

function trustEventOf(event: GeneratedTrustEvent): TrustEvent {
  return { ...event, delta: finite(event.delta), score: finite(event.score) };
}

function attestationOf(view: AttestationView_Serialize): AttestationView {
  return { ...view, score: finite(view.score), boost: finite(view.boost) };
}

function trustDetailOf(detail: TrustDetail_Serialize): TrustDetail {
  return {
    score: trustScoreOf(detail.score),
    events: detail.events.map(trustEventOf),
    attestations: detail.attestations.map(attestationOf),
    evidence: detail.evidence,
  };
}

/** The backend inside the desktop app: typed commands and events over Tauri IPC. */
export class TauriBackend implements Backend {
  /** The channel of the scan this window started last; only its owner may stop it. */
  private currentScan: Channel<ScanUpdate_Deserialize> | null = null;

  nodeStatus(): Promise<NodeStatus> {
    return call(() => commands.nodeStatus());
  }

  async onNodeEvent(callback: (event: NodeEvent) => void): Promise<Unsubscribe> {
    return events.nodeEvent.listen((event) => callback(event.payload));
  }

  identityState(): Promise<IdentityState> {
    return call(() => commands.identityState());
  }

  createIdentity(displayName: string): Promise<IdentityState> {
    return call(() => commands.identityCreate(displayName));
  }

  recoveryPhrase(): Promise<string[]> {
    return call(() => commands.identityRecoveryPhrase());
  }

  saveBackup(passphrase: string, dialog: SaveDialogText): Promise<string | null> {
    return call(() => commands.identitySaveBackup(passphrase, dialog.title, dialog.fileKind));
  }

  restoreFromPhrase(phrase: string, displayName: string): Promise<IdentityState> {
    return call(() => commands.identityRestorePhrase(phrase, displayName));
  }

  restoreFromBackup(backup: Uint8Array, passphrase: string): Promise<IdentityState> {
    return call(() => commands.identityRestoreBackup(bytesToBase64(backup), passphrase));
  }

  contacts(): Promise<Contact[]> {
    return call(() => commands.contactsList());
  }

  contact(partyId: string): Promise<Contact> {
    return call(() => commands.contactGet(partyId));
  }

  async removeContact(partyId: string): Promise<void> {
    await call(() => commands.contactRemove(partyId));
  }

  myCard(invite: InviteRequest | null): Promise<MyCard> {
    return call(() => commands.contactMyCard(invite));
  }

  readCardLink(link: string): Promise<CardPreview> {
    return call(() => commands.contactReadLink(link));
  }

  readCardImage(image: Uint8Array): Promise<CardPreview> {
    return call(() => commands.contactReadImage(bytesToBase64(image)));
  }

  addContact(link: string): Promise<Contact> {
    return call(() => commands.contactAdd(link));
  }

  redeemContact(link: string): Promise<Contact> {
    return call(() => commands.contactRedeem(link));
  }

  contactsPresence(): Promise<ContactPresence[]> {
    return call(() => commands.contactsPresence());
  }

  networkPeers(): Promise<PeerInfo[]> {
    return call(() => commands.networkPeers());
  }

  async trustList(): Promise<TrustScore[]> {
    return (await call(() => commands.trustList())).map(trustScoreOf);
  }

  async trust(subject: string): Promise<TrustDetail> {
    return trustDetailOf(await call(() => commands.trustShow(subject)));
  }

  async attest(attest: Attest): Promise<AttestationView> {
    return attestationOf(await call(() => commands.trustAttest(attest)));
  }

  evidence(): Promise<EvidenceView[]> {
    return call(() => commands.trustEvidence());
  }

  cadreDevices(): Promise<CadreDevice[]> {
    return call(() => commands.cadreList());
  }

  tallyNodeChoice(): Promise<NodeChoice> {
    return call(() => commands.tallyNodeChoice());
  }

  cadreInvite(expiresInSecs: number | null): Promise<EnrollmentLink> {
    return call(() => commands.cadreInvite(expiresInSecs));
  }

  async revokeDevice(peerId: string): Promise<void> {
    await call(() => commands.cadreRevoke(peerId));
  }

  invites(): Promise<OwnInvite[]> {
    return call(() => commands.contactInvites());
  }

  async revokeInvite(token: string): Promise<void> {
    await call(() => commands.contactInviteRevoke(token));
  }

  async scanCard(onUpdate: (update: ScanUpdate) => void): Promise<StopScan> {
    const channel = new Channel<ScanUpdate_Deserialize>();
    channel.onmessage = (update) => onUpdate(scanUpdateOf(update));
    const previous = this.currentScan;
    this.currentScan = channel;
    try {
      await call(() => commands.contactScanStart(channel));
    } catch (error) {
      // A scan that never started replaced nothing: the one before, if any, still runs.
      if (this.currentScan === channel) this.currentScan = previous;
      throw error;
    }
    return async () => {
      // The node runs one scan at a time: a stale stop must not end a newer scan.
      if (this.currentScan !== channel) return;
      this.currentScan = null;
      await call(() => commands.contactScanStop());
    };
  }

  takeOpenedLinks(): Promise<string[]> {
    return call(() => commands.linksTake());
  }

  tallies(): Promise<TallySummary[]> {
    return call(() => commands.talliesList());
  }

  tally(id: string): Promise<TallyDetail> {
    return call(() => commands.tallyGet(id));
  }

  proposeTally(offer: TallyOffer): Promise<TallySummary> {
    return call(() => commands.tallyPropose(offer));
  }

  counterTally(id: string, terms: TallyTerms): Promise<TallySummary> {
    return call(() => commands.tallyCounter(id, terms));
  }

  acceptTally(id: string): Promise<TallySummary> {
    return call(() => commands.tallyAccept(id));
  }

  refuseTally(id: string, reason: string): Promise<TallySummary> {
    return call(() => commands.tallyRefuse(id, reason));
  }

  pay(id: string, amount: string, memo: string): Promise<ChitView> {
    return call(() => commands.tallyPay(id, amount, memo));
  }

  invoice(id: string, amount: string, memo: string): Promise<ChitView> {
    return call(() => commands.tallyInvoice(id, amount, memo));
  }

  approveInvoice(id: string, invoice: string): Promise<ChitView> {
    return call(() => commands.tallyApprove(id, invoice));
  }

  declineInvoice(id: string, invoice: string): Promise<ChitView> {
    return call(() => commands.tallyDecline(id, invoice));
  }

  setTrading(id: string, setting: SettingInput): Promise<ChitView> {
    return call(() => commands.tallySet(id, setting));
  }

  closeTally(id: string): Promise<ChitView> {
    return call(() => commands.tallyClose(id));
  }

  chits(id: string, before: string | null, limit: number): Promise<ChitPage> {
    return call(() => commands.tallyChits(id, before, limit));
  }

  exportTallyCsv(id: string, dialog: SaveDialogText): Promise<string | null> {
    return call(() => commands.tallyExportCsv(id, dialog.title, dialog.fileKind));
  }

  netPositions(): Promise<NetPosition[]> {
    return call(() => commands.talliesPosition());
  }

  chatConversations(): Promise<ConversationView[]> {
    return call(() => commands.chatConversations());
  }

  chatConversationWith(partyId: string): Promise<ConversationView> {
    return call(() => commands.chatConversationWith(partyId));
  }

  chatMessages(conversation: string, before: string | null, limit: number): Promise<MessageView[]> {
    return call(() => commands.chatMessages(conversation, before, limit));
  }

  chatSend(conversation: string, text: string): Promise<MessageView> {
    return call(() => commands.chatSend(conversation, text));
  }

  chatRequestPayment(conversation: string, tallyId: string, amount: string, memo: string): Promise<MessageView> {
    return call(() => commands.chatRequestPayment(conversation, tallyId, amount, memo));
  }

  chatPay(conversation: string, messageId: string): Promise<MessageView> {
    return call(() => commands.chatPay(conversation, messageId));
  }

  chatCreateGroup(name: string, members: string[]): Promise<ConversationView> {
    return call(() => commands.chatCreateGroup(name, members));
  }

  chatMarkRead(conversation: string): Promise<number> {
    return call(() => commands.chatMarkRead(conversation));
  }

  async chatTyping(conversation: string, typing: boolean): Promise<void> {
    await call(() => commands.chatTyping(conversation, typing));
  }

  chatPendingNotifications(): Promise<MessageView[]> {
    return call(() => commands.chatPendingNotifications());
  }

  async chatMarkNotified(conversation: string, messageId: string): Promise<void> {
    await call(() => commands.chatMarkNotified(conversation, messageId));
  }

  chatMailboxStatus(): Promise<MailboxStatus> {
    return call(() => commands.chatMailboxStatus());
  }
}

/** True inside the Tauri webview, where the IPC bridge is injected before any script runs. */
export function isTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}
