import { useCallback, useEffect, useRef } from "react";
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
 * told after the next start (the node keeps them). Returns what to call with
 * each `chatMessage` event.
 */
export function useChatNotifier(enabled: boolean): (message: MessageView) => void {
  const { t } = useTranslation();
  const backend = useBackend();
  const toast = useToast();
  const told = useRef(new Set<string>());
  const tell = useCallback(
    (message: MessageView) => {
      if (message.outgoing || message.status !== "received" || told.current.has(message.id)) return;
      told.current.add(message.id);
      void (async () => {
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
      })();
    },
    [backend, t, toast],
  );
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    void backend
      .chatPendingNotifications()
      .then((pending) => {
        for (const message of pending) if (!stopped) tell(message);
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
    };
  }, [backend, enabled, tell]);
  return tell;
}
