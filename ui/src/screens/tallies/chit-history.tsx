import { CheckCircle2, Clock, XCircle } from "lucide-react";
import { useTranslation } from "react-i18next";
import type { ChitView, TallySummary } from "@/backend";
import { ErrorPanel } from "@/components/error-panel";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { formatDateTime } from "@/i18n/format";
import { formatAmount } from "@/lib/amount";
import { cn } from "@/lib/utils";
import { SignedAmount } from "@/tallies/balance";
import { useChits } from "@/tallies/queries";

/** What a chit did, in words: "You paid", "Chiara asked you to pay", "You declined an invoice". */
function chitTitle(chit: ChitView, name: string, t: (key: string, options?: Record<string, unknown>) => string): string {
  const who = chit.by === "us" ? "us" : "partner";
  const key = chit.kind === "transaction" && chit.invoice ? "invoicePaid" : chit.kind;
  return t(`tallies.chit.${key}.${who}`, { name });
}

/** The chits of a tally, newest first, a page at a time; pending, final and refused each said in words. */
export function ChitHistory({ summary }: { summary: TallySummary }) {
  const { t, i18n } = useTranslation();
  const chits = useChits(summary.id);
  if (chits.isError) {
    return <ErrorPanel error={chits.error} onRetry={() => void chits.refetch()} retrying={chits.isFetching} />;
  }
  if (chits.isPending) {
    return (
      <div role="status" className="flex flex-col gap-2">
        <span className="sr-only">{t("tallies.history.loading")}</span>
        {[0, 1, 2, 3].map((row) => (
          <Skeleton key={row} className="h-14 rounded-lg" />
        ))}
      </div>
    );
  }
  const all = chits.data.pages.flatMap((page) => page.chits);
  if (all.length === 0) {
    return (
      <p data-testid="chits-empty" className="rounded-xl border border-dashed p-6 text-center text-sm text-muted-foreground">
        {t("tallies.history.empty", { name: summary.partnerName })}
      </p>
    );
  }
  return (
    <div className="flex flex-col gap-3">
      <ul className="flex flex-col divide-y rounded-xl border bg-card" aria-label={t("tallies.history.label")} data-testid="chit-list">
        {all.map((chit) => (
          <li
            key={chit.id}
            data-testid="chit-row"
            data-chit-id={chit.id}
            data-status={chit.status}
            className={cn("grid grid-cols-[auto_minmax(0,1fr)_auto] items-center gap-3 px-4 py-3", chit.status === "refused" && "bg-destructive/[0.04]")}
          >
            <StatusIcon status={chit.status} />
            <span className="flex min-w-0 flex-col gap-0.5">
              <span className="truncate text-sm font-medium" data-testid="chit-title">{chitTitle(chit, summary.partnerName, t)}</span>
              <span className="flex min-w-0 flex-wrap items-center gap-x-2 text-xs text-muted-foreground">
                <span className="tabular-nums">{formatDateTime(chit.dateMs, i18n.language)}</span>
                {chit.memo && (
                  <>
                    <span aria-hidden>·</span>
                    <span className="truncate">{chit.memo}</span>
                  </>
                )}
                <span aria-hidden>·</span>
                <span data-testid="chit-status" className={cn(chit.status === "refused" && "font-medium text-destructive")}>
                  {t(`tallies.chitStatus.${chit.status}`)}
                </span>
              </span>
              {chit.status === "refused" && chit.refusedReason && (
                <span className="text-xs text-destructive" data-testid="chit-refused-reason">
                  {chit.refusedReason}
                </span>
              )}
            </span>
            <span className="flex flex-col items-end gap-0.5 text-right">
              {chit.units !== null &&
                (chit.kind === "transaction" ? (
                  <SignedAmount
                    units={chit.units}
                    unit={summary.unit}
                    className={cn("text-sm", chit.status !== "final" && "opacity-60")}
                    testId="chit-amount"
                  />
                ) : (
                  <span className="text-sm text-muted-foreground tabular-nums" data-testid="chit-amount">
                    {formatAmount(chit.units, summary.unit, i18n.language)}
                  </span>
                ))}
              {chit.balanceAfter !== null && (
                <span className="text-xs text-muted-foreground tabular-nums">
                  {t("tallies.history.balanceAfter", {
                    amount: formatAmount(chit.balanceAfter, summary.unit, i18n.language, { sign: "always" }),
                  })}
                </span>
              )}
            </span>
          </li>
        ))}
      </ul>
      {chits.hasNextPage && (
        <Button
          variant="outline"
          className="self-center"
          data-testid="chits-more"
          onClick={() => void chits.fetchNextPage()}
          disabled={chits.isFetchingNextPage}
        >
          {chits.isFetchingNextPage ? t("tallies.history.loadingMore") : t("tallies.history.more")}
        </Button>
      )}
    </div>
  );
}

function StatusIcon({ status }: { status: ChitView["status"] }) {
  if (status === "pending") return <Clock className="size-4 text-muted-foreground" aria-hidden />;
  if (status === "refused") return <XCircle className="size-4 text-destructive" aria-hidden />;
  return <CheckCircle2 className="size-4 text-success" aria-hidden />;
}
