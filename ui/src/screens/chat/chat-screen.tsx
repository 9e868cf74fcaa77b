import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Check, CheckCheck, Clock, HandCoins, Inbox, Lock, MessagesSquare, Send, Users } from "lucide-react";
import { useEffect, useId, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type ConversationView, type MessageView } from "@/backend";
import { chatQueryKeys, useConversations, useMessages, useTyping } from "@/chat/queries";
import { Avatar } from "@/components/avatar";
import { CopyButton } from "@/components/copy-button";
import { ErrorPanel } from "@/components/error-panel";
import { FormError } from "@/components/form-error";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { Textarea } from "@/components/ui/textarea";
import { useContacts } from "@/contacts/queries";
import { formatLongDate } from "@/i18n/format";
import { useRoute } from "@/navigation/route";
import { useTallies, tallyQueryKeys } from "@/tallies/queries";

/** Chat: the conversations, and the one open (`#/chat/<conversation id>`). */
export function ChatScreen() {
  const { t } = useTranslation();
  const { param, navigate } = useRoute();
  const conversations = useConversations();
  const [grouping, setGrouping] = useState(false);
  const open = (conversations.data ?? []).find((c) => c.id === param) ?? null;

  return (
    <div data-testid="chat-screen">
      <PageHeader
        title={t("chat.title")}
        description={t("chat.subtitle")}
        actions={
          <Button variant="outline" onClick={() => setGrouping(true)} data-testid="chat-new-group">
            <Users aria-hidden />
            {t("chat.group.open")}
          </Button>
        }
      />
      {conversations.isError ? (
        <ErrorPanel
          error={conversations.error}
          onRetry={() => void conversations.refetch()}
          retrying={conversations.isFetching}
        />
      ) : conversations.isPending ? (
        <div role="status" className="flex flex-col gap-2" data-testid="chat-loading">
          <span className="sr-only">{t("chat.loading")}</span>
          {[0, 1, 2].map((row) => (
            <Skeleton key={row} className="h-16 rounded-xl" />
          ))}
        </div>
      ) : (
        <div className="grid gap-4 md:grid-cols-[18rem_minmax(0,1fr)]">
          <ConversationList
            conversations={conversations.data}
            selected={param}
            onOpen={(id) => navigate("chat", id)}
          />
          {open ? (
            <Thread key={open.id} conversation={open} />
          ) : (
            <ChatEmpty hasConversations={conversations.data.length > 0} />
          )}
        </div>
      )}
      <GroupDialog
        open={grouping}
        onOpenChange={setGrouping}
        onMade={(id) => {
          setGrouping(false);
          navigate("chat", id);
        }}
      />
    </div>
  );
}

function ChatEmpty({ hasConversations }: { hasConversations: boolean }) {
  const { t } = useTranslation();
  return (
    <div
      data-testid="chat-empty"
      className="flex flex-col items-start gap-3 rounded-xl border border-dashed bg-card p-6"
    >
      <span className="flex size-10 items-center justify-center rounded-lg bg-brand-soft text-brand-soft-foreground">
        <MessagesSquare className="size-5" aria-hidden />
      </span>
      <h2 className="font-semibold">{hasConversations ? t("chat.pick.title") : t("chat.empty.title")}</h2>
      <p className="text-sm leading-relaxed text-muted-foreground">
        {hasConversations ? t("chat.pick.body") : t("chat.empty.body")}
      </p>
    </div>
  );
}

/** The one-line preview of a message in the list. */
function preview(message: MessageView | null, t: ReturnType<typeof useTranslation>["t"]): string {
  if (!message) return t("chat.noMessages");
  switch (message.body.kind) {
    case "text":
      return message.body.text;
    case "paymentRequest":
      return t("chat.preview.request", { amount: message.body.amount });
    case "payment":
      return t("chat.preview.payment", { amount: message.body.amount });
    case "tallyEvent":
      return t("chat.preview.tally", { what: message.body.what });
    default:
      return t("chat.preview.token");
  }
}

function ConversationList({
  conversations,
  selected,
  onOpen,
}: {
  conversations: ConversationView[];
  selected: string | null;
  onOpen: (id: string) => void;
}) {
  const { t } = useTranslation();
  const contacts = useContacts();
  const queryClient = useQueryClient();
  const backend = useBackend();
  const start = useMutation<ConversationView, BackendError, string>({
    mutationFn: (partyId) => backend.chatConversationWith(partyId),
    onSuccess: (conversation) => {
      void queryClient.invalidateQueries({ queryKey: chatQueryKeys.conversations });
      onOpen(conversation.id);
    },
  });
  const known = new Set(conversations.map((c) => c.partyId));
  const others = (contacts.data ?? []).filter((contact) => !known.has(contact.partyId));
  return (
    <nav aria-label={t("chat.listLabel")} className="flex flex-col gap-3">
      <ul className="flex flex-col divide-y overflow-hidden rounded-xl border bg-card shadow-xs">
        {conversations.map((conversation) => (
          <li key={conversation.id}>
            <button
              type="button"
              data-testid="chat-conversation"
              data-conversation-id={conversation.id}
              aria-current={conversation.id === selected ? "page" : undefined}
              onClick={() => onOpen(conversation.id)}
              className="flex w-full cursor-pointer items-center gap-3 px-3 py-3 text-left outline-none hover:bg-muted/60 focus-visible:bg-muted/60 aria-[current=page]:bg-muted"
            >
              <span className="relative shrink-0">
                <Avatar name={conversation.title} seed={conversation.partyId ?? conversation.id} />
                <span
                  data-testid="chat-presence"
                  data-online={conversation.online}
                  aria-label={conversation.online ? t("chat.online") : t("chat.offline")}
                  className={`absolute -right-0.5 -bottom-0.5 size-3 rounded-full ring-2 ring-card ${conversation.online ? "bg-emerald-500" : "bg-muted-foreground/40"}`}
                />
              </span>
              <span className="flex min-w-0 flex-1 flex-col">
                <span className="flex items-center gap-1.5 truncate text-sm font-medium">
                  {conversation.kind === "group" && <Users className="size-3.5 shrink-0" aria-hidden />}
                  <span className="truncate" data-testid="chat-conversation-title">
                    {conversation.title}
                  </span>
                </span>
                <span className="truncate text-xs text-muted-foreground">
                  {preview(conversation.lastMessage, t)}
                </span>
              </span>
              {conversation.unread > 0 && (
                <span
                  data-testid="chat-unread"
                  aria-label={t("chat.unread", { count: conversation.unread })}
                  className="rounded-full bg-primary px-2 py-0.5 text-xs font-semibold text-primary-foreground tabular-nums"
                >
                  {conversation.unread}
                </span>
              )}
            </button>
          </li>
        ))}
        {conversations.length === 0 && (
          <li className="px-3 py-3 text-sm text-muted-foreground">{t("chat.noConversations")}</li>
        )}
      </ul>
      {others.length > 0 && (
        <div className="flex flex-col gap-1.5">
          <p className="px-1 text-xs font-medium text-muted-foreground">{t("chat.startWith")}</p>
          <ul className="flex flex-wrap gap-1.5">
            {others.map((contact) => (
              <li key={contact.partyId}>
                <Button
                  size="sm"
                  variant="outline"
                  data-testid="chat-start"
                  data-party-id={contact.partyId}
                  onClick={() => start.mutate(contact.partyId)}
                >
                  {contact.displayName}
                </Button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </nav>
  );
}

/** Messages of one day, under a separator. */
function byDay(messages: MessageView[]): { day: string; at: number; messages: MessageView[] }[] {
  const days: { day: string; at: number; messages: MessageView[] }[] = [];
  for (const message of messages) {
    const at = message.sentAtMs || message.receivedAtMs;
    const date = new Date(at);
    const day = `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
    const last = days.at(-1);
    if (last && last.day === day) last.messages.push(message);
    else days.push({ day, at, messages: [message] });
  }
  return days;
}

function Thread({ conversation }: { conversation: ConversationView }) {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const messages = useMessages(conversation.id);
  const typing = useTyping(conversation.id);
  const [verifying, setVerifying] = useState(false);
  const [requesting, setRequesting] = useState(false);
  const bottom = useRef<HTMLDivElement>(null);

  // Reading the thread reads its messages: their senders get read receipts.
  const unread = (messages.data ?? []).some((m) => m.status === "received");
  useEffect(() => {
    if (!unread) return;
    void backend
      .chatMarkRead(conversation.id)
      .then(() => {
        void queryClient.invalidateQueries({ queryKey: chatQueryKeys.all });
      })
      .catch(() => undefined);
  }, [backend, conversation.id, queryClient, unread]);
  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [messages.data?.length]);

  const names = new Map(conversation.members.map((m) => [m.partyId, m.displayName]));
  const typists = typing.map((party) => names.get(party) ?? t("chat.someone"));

  return (
    <section
      aria-label={conversation.title}
      data-testid="chat-thread"
      className="flex min-h-[28rem] flex-col rounded-xl border bg-card shadow-xs"
    >
      <header className="flex items-center justify-between gap-3 border-b px-4 py-3">
        <div className="flex min-w-0 items-center gap-3">
          <Avatar name={conversation.title} seed={conversation.partyId ?? conversation.id} />
          <div className="flex min-w-0 flex-col">
            <h2 className="truncate font-semibold" data-testid="chat-thread-title">
              {conversation.title}
            </h2>
            <p className="text-xs text-muted-foreground">
              {conversation.kind === "group"
                ? t("chat.members", { count: conversation.members.length })
                : conversation.online
                  ? t("chat.online")
                  : t("chat.offline")}
            </p>
          </div>
        </div>
        <Button variant="outline" size="sm" onClick={() => setVerifying(true)} data-testid="chat-e2e-badge">
          <Lock aria-hidden />
          {t("chat.e2e.badge")}
        </Button>
      </header>
      <ol className="flex flex-1 flex-col gap-2 overflow-y-auto px-4 py-3" aria-live="polite">
        {messages.isError ? (
          <li>
            <ErrorPanel error={messages.error} onRetry={() => void messages.refetch()} retrying={messages.isFetching} />
          </li>
        ) : messages.isPending ? (
          <li role="status">
            <Skeleton className="h-10 w-2/3 rounded-lg" />
          </li>
        ) : messages.data.length === 0 ? (
          <li className="py-6 text-center text-sm text-muted-foreground" data-testid="chat-thread-empty">
            {t("chat.threadEmpty")}
          </li>
        ) : (
          byDay(messages.data).map((day) => (
            <li key={day.day} className="flex flex-col gap-2">
              <p
                data-testid="chat-day"
                className="my-1 self-center rounded-full bg-muted px-3 py-0.5 text-xs text-muted-foreground"
              >
                {formatLongDate(day.at, i18n.language)}
              </p>
              <ol className="flex flex-col gap-2">
                {day.messages.map((message) => (
                  <MessageRow key={message.id} message={message} group={conversation.kind === "group"} />
                ))}
              </ol>
            </li>
          ))
        )}
        <div ref={bottom} />
      </ol>
      <p className="min-h-5 px-4 text-xs text-muted-foreground" data-testid="chat-typing" aria-live="polite">
        {typists.length > 0 ? t("chat.typing", { names: typists.join(", ") }) : ""}
      </p>
      <Composer conversation={conversation} onRequest={() => setRequesting(true)} />
      <VerifyDialog conversation={conversation} open={verifying} onOpenChange={setVerifying} />
      {conversation.kind === "direct" && conversation.partyId && (
        <RequestDialog
          conversation={conversation}
          partyId={conversation.partyId}
          open={requesting}
          onOpenChange={setRequesting}
        />
      )}
    </section>
  );
}

function StatusMark({ message }: { message: MessageView }) {
  const { t } = useTranslation();
  const label = t(`chat.status.${message.status}`);
  const icon =
    message.status === "pending" ? (
      <Clock className="size-3.5" aria-hidden />
    ) : message.status === "held" ? (
      <Inbox className="size-3.5" aria-hidden />
    ) : message.status === "delivered" ? (
      <Check className="size-3.5" aria-hidden />
    ) : (
      <CheckCheck className="size-3.5" aria-hidden />
    );
  return (
    <span className="inline-flex items-center gap-1" data-testid="chat-status" data-status={message.status}>
      {icon}
      <span className="sr-only">{label}</span>
      <span aria-hidden className="hidden sm:inline">
        {label}
      </span>
    </span>
  );
}

function MessageRow({ message, group }: { message: MessageView; group: boolean }) {
  const { t, i18n } = useTranslation();
  const time = new Intl.DateTimeFormat(i18n.language, { timeStyle: "short" }).format(message.sentAtMs);
  if (message.body.kind === "tallyEvent") {
    return (
      <li data-testid="chat-tally-event" className="self-center text-xs text-muted-foreground">
        {t("chat.tallyEvent", { what: message.body.what })} · {time}
      </li>
    );
  }
  return (
    <li
      data-testid="chat-message"
      data-message-id={message.id}
      data-outgoing={message.outgoing}
      className={`flex max-w-[80%] flex-col gap-1 rounded-2xl px-3 py-2 text-sm ${message.outgoing ? "self-end bg-primary text-primary-foreground" : "self-start bg-muted"}`}
    >
      {group && !message.outgoing && (
        <span className="text-xs font-medium opacity-80">{message.senderName ?? t("chat.someone")}</span>
      )}
      <MessageContent message={message} />
      <span className="flex items-center justify-end gap-2 text-[11px] opacity-80">
        <time dateTime={new Date(message.sentAtMs).toISOString()}>{time}</time>
        {message.outgoing && <StatusMark message={message} />}
      </span>
    </li>
  );
}

function MessageContent({ message }: { message: MessageView }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const pay = useMutation<MessageView, BackendError>({
    mutationFn: () => backend.chatPay(message.conversation, message.id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: chatQueryKeys.all });
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
    },
  });
  const body = message.body;
  switch (body.kind) {
    case "text":
      return (
        <p className="whitespace-pre-wrap break-words" data-testid="chat-text">
          {body.text}
        </p>
      );
    case "paymentRequest": {
      const paid = body.paidChit !== null;
      return (
        <div className="flex flex-col gap-2" data-testid="chat-payment-request" data-paid={paid}>
          <p className="flex items-center gap-2 font-medium">
            <HandCoins className="size-4" aria-hidden />
            {message.outgoing
              ? t("chat.request.asked", { amount: body.amount })
              : t("chat.request.asks", { amount: body.amount })}
          </p>
          {body.memo && <p className="text-xs opacity-90">{body.memo}</p>}
          {paid ? (
            <p className="text-xs font-medium" data-testid="chat-request-paid">
              {t("chat.request.paid")}
            </p>
          ) : message.outgoing ? (
            <p className="text-xs opacity-90">{t("chat.request.waiting")}</p>
          ) : (
            <>
              <Button size="sm" onClick={() => pay.mutate()} disabled={pay.isPending} data-testid="chat-pay">
                {t("chat.request.pay", { amount: body.amount })}
              </Button>
              {pay.isError && <FormError message={pay.error.message} />}
            </>
          )}
        </div>
      );
    }
    case "payment":
      return (
        <p className="flex items-center gap-2 font-medium" data-testid="chat-payment">
          <HandCoins className="size-4" aria-hidden />
          {message.outgoing ? t("chat.payment.sent", { amount: body.amount }) : t("chat.payment.received", { amount: body.amount })}
        </p>
      );
    default:
      return <p className="italic">{t("chat.preview.token")}</p>;
  }
}

function Composer({ conversation, onRequest }: { conversation: ConversationView; onRequest: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [text, setText] = useState("");
  const typingSent = useRef(0);
  const send = useMutation<MessageView, BackendError, string>({
    mutationFn: (words) => backend.chatSend(conversation.id, words),
    onSuccess: () => {
      setText("");
      typingSent.current = 0;
      void backend.chatTyping(conversation.id, false).catch(() => undefined);
      void queryClient.invalidateQueries({ queryKey: chatQueryKeys.all });
    },
  });
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (text.trim() === "" || send.isPending) return;
    send.mutate(text);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      submit();
    }
  };
  const onChange = (value: string) => {
    setText(value);
    const now = Date.now();
    // Typing is told at most every few seconds, and never stored.
    if (value.trim() !== "" && now - typingSent.current > 3_000) {
      typingSent.current = now;
      void backend.chatTyping(conversation.id, true).catch(() => undefined);
    }
  };
  return (
    <form onSubmit={submit} className="flex flex-col gap-2 border-t px-4 py-3">
      <Label htmlFor={`composer-${conversation.id}`} className="sr-only">
        {t("chat.composer.label")}
      </Label>
      <Textarea
        id={`composer-${conversation.id}`}
        data-testid="chat-composer"
        value={text}
        rows={2}
        placeholder={t("chat.composer.placeholder")}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
      />
      {send.isError && <FormError message={send.error.message} />}
      <div className="flex items-center justify-between gap-2">
        {conversation.kind === "direct" ? (
          <Button type="button" variant="outline" size="sm" onClick={onRequest} data-testid="chat-request-open">
            <HandCoins aria-hidden />
            {t("chat.request.open")}
          </Button>
        ) : (
          <span />
        )}
        <Button type="submit" disabled={text.trim() === "" || send.isPending} data-testid="chat-send">
          <Send aria-hidden />
          {t("chat.composer.send")}
        </Button>
      </div>
    </form>
  );
}

function VerifyDialog({
  conversation,
  open,
  onOpenChange,
}: {
  conversation: ConversationView;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent data-testid="chat-e2e-dialog">
        <DialogHeader>
          <DialogTitle>{t("chat.e2e.title")}</DialogTitle>
          <DialogDescription>{t("chat.e2e.body")}</DialogDescription>
        </DialogHeader>
        <ul className="flex flex-col gap-3">
          {conversation.members.map((member) => (
            <li key={member.partyId} className="flex flex-col gap-1">
              <span className="text-sm font-medium">{member.displayName}</span>
              <span className="flex items-center gap-2">
                <code className="break-all text-xs" data-testid="chat-e2e-party-id">
                  {member.partyId}
                </code>
                <CopyButton value={member.partyId} label={t("chat.e2e.copy")} />
              </span>
            </li>
          ))}
        </ul>
      </DialogContent>
    </Dialog>
  );
}

function RequestDialog({
  conversation,
  partyId,
  open,
  onOpenChange,
}: {
  conversation: ConversationView;
  partyId: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const tallies = useTallies();
  const shared = useMemo(
    () => (tallies.data ?? []).filter((tally) => tally.partyId === partyId && tally.stage === "open"),
    [tallies.data, partyId],
  );
  const [tallyId, setTallyId] = useState("");
  const [amount, setAmount] = useState("");
  const [memo, setMemo] = useState("");
  const ids = { tally: useId(), amount: useId(), memo: useId() };
  const chosen = tallyId || shared[0]?.id || "";
  const request = useMutation<MessageView, BackendError>({
    mutationFn: () => backend.chatRequestPayment(conversation.id, chosen, amount, memo),
    onSuccess: () => {
      setAmount("");
      setMemo("");
      onOpenChange(false);
      void queryClient.invalidateQueries({ queryKey: chatQueryKeys.all });
    },
  });
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent data-testid="chat-request-dialog">
        <DialogHeader>
          <DialogTitle>{t("chat.request.title", { name: conversation.title })}</DialogTitle>
          <DialogDescription>{t("chat.request.body")}</DialogDescription>
        </DialogHeader>
        {shared.length === 0 ? (
          <p className="text-sm text-muted-foreground" data-testid="chat-request-no-tally">
            {t("chat.request.noTally", { name: conversation.title })}
          </p>
        ) : (
          <form
            className="flex flex-col gap-3"
            onSubmit={(event) => {
              event.preventDefault();
              request.mutate();
            }}
          >
            <div className="flex flex-col gap-1.5">
              <Label htmlFor={ids.tally}>{t("chat.request.tally")}</Label>
              <select
                id={ids.tally}
                data-testid="chat-request-tally"
                value={chosen}
                onChange={(event) => setTallyId(event.target.value)}
                className="h-9 rounded-md border bg-background px-2 text-sm"
              >
                {shared.map((tally) => (
                  <option key={tally.id} value={tally.id}>
                    {tally.memo || tally.id.slice(0, 8)} ({tally.unit.code})
                  </option>
                ))}
              </select>
            </div>
            <div className="flex flex-col gap-1.5">
              <Label htmlFor={ids.amount}>{t("chat.request.amount")}</Label>
              <Input
                id={ids.amount}
                data-testid="chat-request-amount"
                inputMode="decimal"
                value={amount}
                onChange={(event) => setAmount(event.target.value)}
              />
            </div>
            <div className="flex flex-col gap-1.5">
              <Label htmlFor={ids.memo}>{t("chat.request.memo")}</Label>
              <Input
                id={ids.memo}
                data-testid="chat-request-memo"
                value={memo}
                onChange={(event) => setMemo(event.target.value)}
              />
            </div>
            {request.isError && <FormError message={request.error.message} />}
            <DialogFooter>
              <Button type="submit" disabled={amount.trim() === "" || request.isPending} data-testid="chat-request-send">
                {t("chat.request.send")}
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}

function GroupDialog({
  open,
  onOpenChange,
  onMade,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onMade: (id: string) => void;
}) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const contacts = useContacts();
  const [name, setName] = useState("");
  const [members, setMembers] = useState<string[]>([]);
  const nameId = useId();
  const make = useMutation<ConversationView, BackendError>({
    mutationFn: () => backend.chatCreateGroup(name, members),
    onSuccess: (conversation) => {
      setName("");
      setMembers([]);
      void queryClient.invalidateQueries({ queryKey: chatQueryKeys.conversations });
      onMade(conversation.id);
    },
  });
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent data-testid="chat-group-dialog">
        <DialogHeader>
          <DialogTitle>{t("chat.group.title")}</DialogTitle>
          <DialogDescription>{t("chat.group.body")}</DialogDescription>
        </DialogHeader>
        <form
          className="flex flex-col gap-3"
          onSubmit={(event) => {
            event.preventDefault();
            make.mutate();
          }}
        >
          <div className="flex flex-col gap-1.5">
            <Label htmlFor={nameId}>{t("chat.group.name")}</Label>
            <Input id={nameId} data-testid="chat-group-name" value={name} onChange={(event) => setName(event.target.value)} />
          </div>
          <fieldset className="flex flex-col gap-1.5">
            <legend className="mb-1 text-sm font-medium">{t("chat.group.members")}</legend>
            {(contacts.data ?? []).map((contact) => (
              <label key={contact.partyId} className="flex items-center gap-2 text-sm">
                <input
                  type="checkbox"
                  data-testid="chat-group-member"
                  data-party-id={contact.partyId}
                  checked={members.includes(contact.partyId)}
                  onChange={(event) =>
                    setMembers((now) =>
                      event.target.checked ? [...now, contact.partyId] : now.filter((p) => p !== contact.partyId),
                    )
                  }
                />
                {contact.displayName}
              </label>
            ))}
          </fieldset>
          {make.isError && <FormError message={make.error.message} />}
          <DialogFooter>
            <Button
              type="submit"
              disabled={name.trim() === "" || members.length === 0 || make.isPending}
              data-testid="chat-group-create"
            >
              {t("chat.group.create")}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
