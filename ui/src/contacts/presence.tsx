import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import type { ContactPresence } from "@/backend";
import { formatDateTime, formatRoundTrip, formatTimeAgo } from "@/i18n/format";
import { cn } from "@/lib/utils";

const MINUTE_MS = 60_000;

/** How often "last seen" texts are brought up to date. */
export const PRESENCE_TICK_MS = 30_000;

/** A presence in words: "Online · 12 ms", "Last seen 5 minutes ago", "Never seen online". */
export function presenceLabel(presence: ContactPresence, t: TFunction, locale: string, now: number): string {
  if (presence.online) {
    return presence.rttMs === null
      ? t("contacts.presence.online")
      : t("contacts.presence.onlineRtt", { rtt: formatRoundTrip(presence.rttMs, locale) });
  }
  if (presence.lastSeenMs === null) return t("contacts.presence.never");
  if (now - presence.lastSeenMs < MINUTE_MS) return t("contacts.presence.lastSeenJustNow");
  return t("contacts.presence.lastSeen", { when: formatTimeAgo(presence.lastSeenMs, now, locale) });
}

/**
 * A contact's presence as a dot: green when online, grey when offline, an
 * empty ring when never seen. Decorative: the words always sit beside it.
 */
export function PresenceDot({ presence, className }: { presence: ContactPresence; className?: string }) {
  const neverSeen = !presence.online && presence.lastSeenMs === null;
  return (
    <span
      aria-hidden
      data-testid="presence-dot"
      data-online={String(presence.online)}
      className={cn(
        "inline-block size-2.5 shrink-0 rounded-full",
        presence.online ? "bg-success" : neverSeen ? "border-2 border-muted-foreground/50 bg-card" : "bg-muted-foreground/50",
        className,
      )}
    />
  );
}

/** The dot and the words together, with the exact time of "last seen" on hover. */
export function PresenceText({
  presence,
  now,
  testId,
  className,
}: {
  presence: ContactPresence;
  now: number;
  testId?: string;
  className?: string;
}) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const seenAt = !presence.online && presence.lastSeenMs !== null ? formatDateTime(presence.lastSeenMs, locale) : undefined;
  return (
    <span data-testid={testId} title={seenAt} className={cn("truncate", className)}>
      {presenceLabel(presence, t, locale, now)}
    </span>
  );
}
