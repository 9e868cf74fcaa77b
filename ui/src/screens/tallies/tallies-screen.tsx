import { NotebookTabs, Plus } from "lucide-react";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { TallySummary } from "@/backend";
import { Avatar } from "@/components/avatar";
import { ErrorPanel } from "@/components/error-panel";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { PresenceDot } from "@/contacts/presence";
import { useContactsPresence } from "@/contacts/queries";
import { useRoute } from "@/navigation/route";
import { BalanceBar, SignedAmount, StageBadge, balanceWords } from "@/tallies/balance";
import { useTallies } from "@/tallies/queries";
import { NewTally } from "./new-tally";
import { TallyPage } from "./tally-page";
import { TrustBadge } from "@/trust/trust-badge";

/** The route part that opens the new-tally flow (`#/tallies/new`); tally ids are hex, so it can't be one. */
export const NEW_TALLY = "new";

/** Tallies: the list, a new offer (`#/tallies/new`), or one tally (`#/tallies/<id>`). */
export function TalliesScreen() {
  const { param, navigate } = useRoute();
  if (param === NEW_TALLY) {
    return <NewTally onDone={(id) => navigate("tallies", id)} onCancel={() => navigate("tallies")} />;
  }
  if (param) return <TallyPage key={param} id={param} onBack={() => navigate("tallies")} />;
  return <TallyListScreen onOpen={(id) => navigate("tallies", id)} onNew={() => navigate("tallies", NEW_TALLY)} />;
}

/** Offers waiting for us first, then open tallies, then the rest; the newest first within each. */
function rank(tally: TallySummary): number {
  if (tally.stage === "offered" && tally.waitingFor === "us" && !tally.expired) return 0;
  if (tally.stage === "open" || tally.stage === "closing") return 1;
  if (tally.stage === "offered") return 2;
  return 3;
}

function TallyListScreen({ onOpen, onNew }: { onOpen: (id: string) => void; onNew: () => void }) {
  const { t } = useTranslation();
  const tallies = useTallies();
  const sorted = useMemo(
    () => [...(tallies.data ?? [])].sort((a, b) => rank(a) - rank(b) || b.updatedAtMs - a.updatedAtMs),
    [tallies.data],
  );

  return (
    <div data-testid="tallies-screen">
      <PageHeader
        title={t("tallies.title")}
        description={t("tallies.subtitle")}
        actions={
          <Button onClick={onNew} data-testid="new-tally-open">
            <Plus aria-hidden />
            {t("tallies.new.open")}
          </Button>
        }
      />
      {tallies.isError ? (
        <ErrorPanel error={tallies.error} onRetry={() => void tallies.refetch()} retrying={tallies.isFetching} />
      ) : tallies.isPending ? (
        <div role="status" className="flex flex-col gap-2" data-testid="tallies-loading">
          <span className="sr-only">{t("tallies.loading")}</span>
          {[0, 1, 2].map((row) => (
            <Skeleton key={row} className="h-[74px] rounded-xl" />
          ))}
        </div>
      ) : sorted.length === 0 ? (
        <div
          data-testid="tallies-empty"
          className="flex flex-col items-start gap-4 rounded-xl border border-dashed bg-card p-6"
        >
          <span className="flex size-10 items-center justify-center rounded-lg bg-brand-soft text-brand-soft-foreground">
            <NotebookTabs className="size-5" aria-hidden />
          </span>
          <div className="flex flex-col gap-1.5">
            <h2 className="font-semibold">{t("tallies.empty.title")}</h2>
            <p className="text-sm leading-relaxed text-muted-foreground">{t("tallies.empty.body")}</p>
          </div>
          <Button onClick={onNew}>
            <Plus aria-hidden />
            {t("tallies.new.open")}
          </Button>
        </div>
      ) : (
        <TallyList tallies={sorted} onOpen={onOpen} />
      )}
    </div>
  );
}

function TallyList({ tallies, onOpen }: { tallies: TallySummary[]; onOpen: (id: string) => void }) {
  const { t, i18n } = useTranslation();
  const presence = useContactsPresence();
  const presenceByParty = useMemo(
    () => new Map((presence.data ?? []).map((entry) => [entry.partyId, entry])),
    [presence.data],
  );
  return (
    <ul aria-label={t("tallies.listLabel")} className="flex flex-col divide-y overflow-hidden rounded-xl border bg-card shadow-xs">
      {tallies.map((tally) => {
        const seen = presenceByParty.get(tally.partyId);
        const live = tally.stage === "open" || tally.stage === "closing";
        return (
          <li key={tally.id}>
            <button
              type="button"
              data-testid="tally-row"
              data-tally-id={tally.id}
              onClick={() => onOpen(tally.id)}
              className="grid w-full cursor-pointer grid-cols-[auto_minmax(0,1fr)] items-center gap-x-4 gap-y-2 px-4 py-3.5 text-left outline-none transition-colors hover:bg-muted/60 focus-visible:bg-muted/60 focus-visible:ring-[3px] focus-visible:ring-ring/50 focus-visible:ring-inset sm:grid-cols-[auto_minmax(0,1fr)_14rem]"
            >
              <span className="relative row-span-2 shrink-0 sm:row-span-1">
                <Avatar name={tally.partnerName} seed={tally.partyId} />
                {seen && <PresenceDot presence={seen} className="absolute -right-0.5 -bottom-0.5 ring-2 ring-card" />}
              </span>
              <span className="flex min-w-0 flex-col gap-0.5">
                <span className="flex min-w-0 items-center gap-2">
                  <span className="truncate text-sm font-medium" title={tally.partyId}>
                    {tally.partnerName}
                  </span>
                  <StageBadge tally={tally} />
                  <TrustBadge partyId={tally.partyId} name={tally.partnerName} still />
                </span>
                <span className="truncate text-xs text-muted-foreground">
                  {tally.memo || t(`tallies.side.${tally.side}.short`)}
                </span>
              </span>
              <span className="col-start-2 flex flex-col gap-1.5 sm:col-start-3">
                {live ? (
                  <>
                    <span className="flex items-baseline justify-between gap-2 text-xs">
                      <span className="truncate text-muted-foreground" data-testid="tally-row-words">
                        {balanceWords(tally.balance, tally.unit, tally.partnerName, t, i18n.language)}
                      </span>
                      <SignedAmount units={tally.balance} unit={tally.unit} className="text-sm" testId="tally-row-balance" />
                    </span>
                    <BalanceBar tally={tally} />
                  </>
                ) : (
                  <span className="text-right text-xs text-muted-foreground">
                    {t("tallies.revisionN", { revision: tally.revision })}
                  </span>
                )}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
