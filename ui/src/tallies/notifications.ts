import { useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type TallyChange, type TallyChangedEvent, type TallySummary } from "@/backend";
import { useToast } from "@/components/toaster";
import { notify, windowInFront } from "@/lib/notify";
import { navigateTo } from "@/navigation/route";
import { tallyQueryKeys } from "./queries";

/** The changes a person hears about; the others only refresh the screens. */
export const NOTIFIED_CHANGES: readonly TallyChange[] = [
  "offerReceived",
  "counterReceived",
  "chitReceived",
  "invoiceReceived",
];

/**
 * What to do with a `tallyChanged` event that a person should hear about: a
 * system notification when the window is in the background, a toast when it is
 * in front. Clicking the notification opens the tally.
 */
export function useTallyNotifier(): (event: TallyChangedEvent) => void {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const toast = useToast();
  return useCallback(
    (event: TallyChangedEvent) => {
      if (!NOTIFIED_CHANGES.includes(event.change)) return;
      void (async () => {
        const known = queryClient
          .getQueryData<TallySummary[]>(tallyQueryKeys.list)
          ?.find((tally) => tally.id === event.tally);
        let name = known?.partnerName ?? null;
        if (name === null) {
          try {
            name = (await backend.tally(event.tally)).summary.partnerName;
          } catch {
            name = t("tallies.notify.someone");
          }
        }
        const title = t(`tallies.notify.${event.change}.title`, { name });
        const body = t(`tallies.notify.${event.change}.body`, { name });
        if (windowInFront()) {
          toast(`${title} — ${body}`);
          return;
        }
        const shown = await notify({ title, body, tag: `tally:${event.tally}` }, () => navigateTo("tallies", event.tally));
        if (!shown) toast(`${title} — ${body}`);
      })();
    },
    [backend, queryClient, t, toast],
  );
}
