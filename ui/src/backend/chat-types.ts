/**
 * The node's chat API as the UI sees it, from the generated bindings, in
 * their serialised shape: every field present, absent values as null.
 */
import type {
  ChatMember,
  ConversationKind,
  ConversationView_Serialize,
  MailboxHeldView_Serialize,
  MailboxStatus_Serialize,
  MessageBody_Serialize,
  MessageStatus,
  MessageView_Serialize,
} from "./bindings";

export type { ChatMember, ConversationKind, MessageStatus };

/** A conversation as the list shows it: title, members, unread count, latest message, presence. */
export type ConversationView = ConversationView_Serialize;
/** One message of a thread. */
export type MessageView = MessageView_Serialize;
/** What a message says: text, a payment request, a payment, a tally event, a token offer. */
export type MessageBody = MessageBody_Serialize;
/** What this device's mailbox holds for its party's other devices. */
export type MailboxStatus = MailboxStatus_Serialize;
/** What the mailbox holds for one device. */
export type MailboxHeldView = MailboxHeldView_Serialize;
