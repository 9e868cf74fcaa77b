/**
 * The mock node's chat: conversations with contacts and groups, messages
 * with their receipts, payment requests paid through the mock tallies, and
 * typing. The other parties' side is played by methods tests (and the
 * browser demo) call: they send messages, type, and acknowledge.
 */
import {
  BackendError,
  type ChitView,
  type Contact,
  type ConversationView,
  type MailboxStatus,
  type MessageBody,
  type MessageStatus,
  type MessageView,
  type NodeEvent,
  type TallySummary,
} from "./types";

const MAX_TEXT_BYTES = 4_096;

export interface MockChatOptions {
  now: () => number;
  /** Delivers an event to the window. */
  emit: (event: NodeEvent) => void;
  /** The contact of a party id, if the node knows it. */
  contact: (partyId: string) => Contact | undefined;
  /** Every contact. */
  contacts: () => Contact[];
  /** This party's id. */
  ownPartyId: () => string;
  /** Whether a contact is online now. */
  online: (partyId: string) => boolean;
  /** The tallies, for payment requests. */
  tallies: () => TallySummary[];
  /** Pays on a tally, as the tally API does. */
  pay: (tallyId: string, amount: string, memo: string) => Promise<ChitView>;
  /** When set, contacts acknowledge and read by themselves this long after a message (the browser demo). */
  replyMs: number | null;
}

interface MockConversation {
  id: string;
  kind: "direct" | "group";
  partyId: string | null;
  name: string | null;
  members: string[];
  messages: MessageView[];
}

function invalid(message: string): BackendError {
  return new BackendError("invalidInput", message);
}

let counter = 0;

/** A ULID-shaped id that sorts by time: 26 characters of Crockford base32. */
function mockUlid(now: number): string {
  const digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let time = now;
  let head = "";
  for (let i = 0; i < 10; i++) {
    head = digits[time % 32]! + head;
    time = Math.floor(time / 32);
  }
  counter += 1;
  let tail = "";
  let n = counter;
  for (let i = 0; i < 16; i++) {
    tail = digits[n % 32]! + tail;
    n = Math.floor(n / 32);
  }
  return head + tail;
}

/** A 32-hex-digit conversation id derived from a seed. */
function conversationId(seed: string): string {
  let hash = 0x811c9dc5;
  let out = "";
  for (let round = 0; round < 4; round++) {
    for (const char of `${round}:${seed}`) {
      hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
    }
    out += hash.toString(16).padStart(8, "0");
  }
  return out;
}

function amountOf(units: number, tally: TallySummary | undefined): string {
  if (!tally) return String(units);
  const { code, scale } = tally.unit;
  const base = 10 ** scale;
  const whole = Math.floor(units / base);
  const fraction = scale > 0 ? `.${String(units % base).padStart(scale, "0")}` : "";
  return `${whole}${fraction} ${code}`;
}

export class MockChat {
  private readonly options: MockChatOptions;
  private readonly conversations = new Map<string, MockConversation>();
  /** Messages whose "message received" notification was not marked shown. */
  private readonly unnotified: MessageView[] = [];

  constructor(options: MockChatOptions) {
    this.options = options;
  }

  private conversationOf(id: string): MockConversation {
    const conversation = this.conversations.get(id);
    if (!conversation) throw invalid(`There is no conversation ${id}.`);
    return conversation;
  }

  private direct(partyId: string): MockConversation {
    const contact = this.options.contact(partyId);
    if (!contact) throw invalid(`${partyId} is not one of your contacts; add them first.`);
    const id = conversationId([this.options.ownPartyId(), partyId].sort().join("|"));
    let conversation = this.conversations.get(id);
    if (!conversation) {
      conversation = { id, kind: "direct", partyId, name: null, members: [partyId], messages: [] };
      this.conversations.set(id, conversation);
    }
    return conversation;
  }

  private resolve(to: string): MockConversation {
    return to.startsWith("did:key:") ? this.direct(to) : this.conversationOf(to);
  }

  private nameOf(partyId: string): string {
    if (partyId === this.options.ownPartyId()) return "You";
    return this.options.contact(partyId)?.displayName ?? partyId.slice(-8);
  }

  private view(conversation: MockConversation): ConversationView {
    const members = conversation.members.map((partyId) => ({ partyId, displayName: this.nameOf(partyId) }));
    const last = conversation.messages.at(-1) ?? null;
    return {
      id: conversation.id,
      kind: conversation.kind,
      partyId: conversation.partyId,
      title: conversation.kind === "direct" ? this.nameOf(conversation.partyId ?? "") : (conversation.name ?? "Group"),
      members,
      unread: conversation.messages.filter((m) => m.status === "received").length,
      lastAtMs: last ? Math.max(last.sentAtMs, last.receivedAtMs) : 0,
      lastMessage: last ? { ...last } : null,
      online: conversation.members.some((partyId) => this.options.online(partyId)),
    };
  }

  list(): ConversationView[] {
    return [...this.conversations.values()]
      .map((c) => this.view(c))
      .sort((a, b) => b.lastAtMs - a.lastAtMs || a.id.localeCompare(b.id));
  }

  conversationWith(partyId: string): ConversationView {
    const conversation = this.direct(partyId);
    this.options.emit({ kind: "chatConversationsChanged" });
    return this.view(conversation);
  }

  messages(id: string, before: string | null, limit: number): MessageView[] {
    const all = this.conversationOf(id).messages;
    const upTo = before === null ? all.length : all.findIndex((m) => m.id === before);
    return all.slice(Math.max(0, (upTo < 0 ? all.length : upTo) - limit), upTo < 0 ? all.length : upTo).map((m) => ({ ...m }));
  }

  private add(conversation: MockConversation, message: MessageView): MessageView {
    conversation.messages.push(message);
    conversation.messages.sort((a, b) => a.id.localeCompare(b.id));
    this.options.emit({ kind: "chatMessage", message: { ...message } });
    this.options.emit({ kind: "chatConversationsChanged" });
    return { ...message };
  }

  private outgoing(conversation: MockConversation, body: MessageBody): MessageView {
    const now = this.options.now();
    const message: MessageView = {
      id: mockUlid(now),
      conversation: conversation.id,
      senderPartyId: this.options.ownPartyId(),
      senderName: "You",
      outgoing: true,
      sentAtMs: now,
      receivedAtMs: now,
      status: "pending",
      body,
    };
    const sent = this.add(conversation, message);
    if (this.options.replyMs !== null) {
      const id = message.id;
      setTimeout(() => this.acknowledge(conversation.id, id, "delivered"), this.options.replyMs / 4);
      setTimeout(() => this.acknowledge(conversation.id, id, "read"), this.options.replyMs);
    }
    return sent;
  }

  send(to: string, text: string): MessageView {
    if (text.trim() === "") throw invalid("This message can't be sent: an empty message.");
    if (new TextEncoder().encode(text).length > MAX_TEXT_BYTES) {
      throw invalid(`This message can't be sent: a message of more than ${MAX_TEXT_BYTES} bytes.`);
    }
    return this.outgoing(this.resolve(to), { kind: "text", text });
  }

  requestPayment(to: string, tallyId: string, amount: string, memo: string): MessageView {
    const conversation = this.resolve(to);
    if (conversation.kind !== "direct") throw invalid("This message can't be sent: a payment request goes to one party.");
    const tally = this.options.tallies().find((t) => t.id === tallyId);
    if (!tally || tally.partyId !== conversation.partyId) {
      throw invalid("That payment request names a tally you don't share with its sender.");
    }
    const parsed = Number(amount.trim());
    if (!Number.isFinite(parsed) || parsed <= 0) throw invalid("The amount must be more than zero.");
    const units = Math.round(parsed * 10 ** tally.unit.scale);
    return this.outgoing(conversation, {
      kind: "paymentRequest",
      tallyId,
      units,
      amount: amountOf(units, tally),
      memo: memo.trim(),
      paidChit: null,
    });
  }

  async pay(id: string, messageId: string): Promise<MessageView> {
    const conversation = this.conversationOf(id);
    const request = conversation.messages.find((m) => m.id === messageId);
    if (!request) throw invalid(`There is no message ${messageId} in this conversation.`);
    if (request.body.kind !== "paymentRequest" || request.outgoing) {
      throw invalid("That message is not a payment request from the other party.");
    }
    if (request.body.paidChit !== null) throw invalid("That payment request was paid already.");
    const tally = this.options.tallies().find((t) => t.id === (request.body as { tallyId: string }).tallyId);
    const units = request.body.units;
    const amount = amountOf(units, tally).split(" ")[0]!;
    const chit = await this.options.pay(request.body.tallyId, amount, request.body.memo || "Paid from chat");
    request.body = { ...request.body, paidChit: chit.id };
    this.options.emit({ kind: "chatMessage", message: { ...request } });
    return this.outgoing(conversation, {
      kind: "payment",
      requestId: request.id,
      tallyId: request.body.tallyId,
      chitId: chit.id,
      units,
      amount: amountOf(units, tally),
    });
  }

  createGroup(name: string, members: string[]): ConversationView {
    const trimmed = name.trim();
    if (trimmed === "" || [...trimmed].length > 64) throw invalid("This group can't be made: a group name has 1 to 64 characters.");
    for (const member of members) {
      if (!this.options.contact(member)) throw invalid(`${member} is not one of your contacts; add them first.`);
    }
    const unique = [...new Set(members)];
    if (unique.length < 1) throw invalid("This group can't be made: a group has 2 to 32 members.");
    const id = conversationId(`group:${trimmed}:${this.options.now()}:${unique.join(",")}`);
    const conversation: MockConversation = {
      id,
      kind: "group",
      partyId: null,
      name: trimmed,
      members: [this.options.ownPartyId(), ...unique],
      messages: [],
    };
    this.conversations.set(id, conversation);
    this.options.emit({ kind: "chatConversationsChanged" });
    return this.view(conversation);
  }

  markRead(id: string): number {
    const conversation = this.conversationOf(id);
    let count = 0;
    for (const message of conversation.messages) {
      if (message.status === "received") {
        message.status = "read";
        count += 1;
        this.options.emit({ kind: "chatMessage", message: { ...message } });
      }
    }
    if (count > 0) this.options.emit({ kind: "chatConversationsChanged" });
    return count;
  }

  pendingNotifications(): MessageView[] {
    return this.unnotified.map((m) => ({ ...m }));
  }

  markNotified(conversation: string, messageId: string): void {
    const at = this.unnotified.findIndex((m) => m.conversation === conversation && m.id === messageId);
    if (at >= 0) this.unnotified.splice(at, 1);
  }

  mailboxStatus(): MailboxStatus {
    return { chats: true, held: [], mailboxes: [] };
  }

  // The other parties' side, for tests and the demo.

  /** A contact sends a message: to the one-to-one conversation, or a group they are in. */
  receive(from: string, body: MessageBody | string, conversation?: string): MessageView {
    const target = conversation ? this.conversationOf(conversation) : this.direct(from);
    const now = this.options.now();
    const message: MessageView = {
      id: mockUlid(now),
      conversation: target.id,
      senderPartyId: from,
      senderName: this.nameOf(from),
      outgoing: false,
      sentAtMs: now,
      receivedAtMs: now,
      status: "received",
      body: typeof body === "string" ? { kind: "text", text: body } : body,
    };
    this.unnotified.push({ ...message });
    return this.add(target, message);
  }

  /** A contact's device took (`delivered`) or read one of our messages. */
  acknowledge(conversation: string, messageId: string, status: Extract<MessageStatus, "held" | "delivered" | "read">): void {
    const message = this.conversations.get(conversation)?.messages.find((m) => m.id === messageId);
    if (!message || !message.outgoing) return;
    const rank = { pending: 0, received: 0, held: 1, delivered: 2, read: 3 } as const;
    if (rank[status] <= rank[message.status]) return;
    message.status = status;
    this.options.emit({ kind: "chatMessage", message: { ...message } });
  }

  /** A contact starts or stops typing. */
  type(conversation: string, partyId: string, typing: boolean): void {
    this.options.emit({ kind: "chatTyping", conversation, partyId, typing });
  }
}
