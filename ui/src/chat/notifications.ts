import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type MessageView } from "@/backend";
import { useToast } from "@/components/toaster";
import { notify, windowInFront } from "@/lib/notify";
import { navigateTo, routeFromHash } from "@/navigation/route";

/** The words of a message in a notice: its text, or what it is. */
export function noticeBody(message: MessageView, t: (key: string, options?: Record<string, unknown>) => string): string {
  switch (message.body.kind) {
    case "text":
      return message.body.text.length > 140 ? `${message.body.text.slice(0, 139)}…` : message.body.text;
    case "paymentRequest":
      return t("chat.notify.paymentRequest", { amount: message.body.amount });
    case "payment":
      return t("chat.notify.payment", { amount: message.body.amount });
    default:
      return t("chat.notify.other");
  }
}

/**
 * Tells of new messages: a system notification when the window is in the
 * background, a toast when it is in front and the conversation is not open.
 * Each message is marked notified once told, so one a crash interrupted is
 * told after the next start (the node keeps them).
 */
export function useChatNotifier(): void {
  const { t } = useTranslation();
  const backend = useBackend();
  const toast = useToast();
  useEffect(() => {
    let unsubscribe: (() => void) | null = null;
    let stopped = false;
    const told = new Set<string>();
    const tell = async (message: MessageView) => {
      if (told.has(message.id)) return;
      told.add(message.id);
      const title = t("chat.notify.title", { name: message.senderName ?? t("chat.someone") });
      const body = noticeBody(message, t);
      const open = routeFromHash(window.location.hash);
      const showing = open.screen === "chat" && open.param === message.conversation;
      if (windowInFront()) {
        if (!showing) toast(`${title} — ${body}`);
      } else {
        const shown = await notify({ title, body, tag: `chat:${message.conversation}` }, () =>
          navigateTo("chat", message.conversation),
        );
        if (!shown && !showing) toast(`${title} — ${body}`);
      }
      await backend.chatMarkNotified(message.conversation, message.id).catch(() => undefined);
    };
    void backend
      .chatPendingNotifications()
      .then(async (pending) => {
        for (const message of pending) if (!stopped) await tell(message);
      })
      .catch(() => undefined);
    void backend
      .onNodeEvent((event) => {
        if (event.kind === "chatMessage" && !event.message.outgoing && event.message.status === "received") {
          void tell(event.message as MessageView);
        }
      })
      .then((stop) => {
        if (stopped) stop();
        else unsubscribe = stop;
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
      unsubscribe?.();
    };
  }, [backend, t, toast]);
}
