import { ShieldAlert, ShieldCheck } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { TrustScore } from "@/backend";
import { Avatar } from "@/components/avatar";
import { ErrorPanel } from "@/components/error-panel";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { formatDateTime } from "@/i18n/format";
import { useIdentity } from "@/identity/identity";
import { shortenId } from "@/lib/ids";
import { cn } from "@/lib/utils";
import { useRoute } from "@/navigation/route";
import { AttestDialog } from "@/trust/attest-dialog";
import { scorePercent, useEvidence, useTrustList } from "@/trust/queries";
import { TrustBadge } from "@/trust/trust-badge";
import { TrustPanel } from "@/trust/trust-panel";

/** How far this node trusts each party it deals with, why, and the evidence of misbehaviour it keeps. */
export function TrustScreen() {
  const { t } = useTranslation();
  const { param: selected, navigate } = useRoute();
  const list = useTrustList();
  return (
    <div data-testid="trust-screen">
      <PageHeader title={t("trust.title")} description={t("trust.subtitle")} />
      <div className="grid items-start gap-6 lg:grid-cols-[20rem_minmax(0,1fr)]">
        <div className="flex flex-col gap-6">
          <SubjectList
            scores={list.data}
            error={list.isError ? list.error : null}
            onRetry={() => void list.refetch()}
            selected={selected}
            onSelect={(subject) => navigate("trust", subject)}
          />
          <EvidenceCard onSelect={(subject) => navigate("trust", subject)} />
        </div>
        {selected ? (
          <SubjectDetail key={selected} subject={selected} score={list.data?.find((s) => s.subject === selected)} />
        ) : (
          <Card data-testid="trust-empty-detail" className="items-center gap-2 px-6 py-12 text-center">
            <ShieldCheck className="size-8 text-muted-foreground" aria-hidden />
            <p className="text-sm text-muted-foreground">{t("trust.pick")}</p>
          </Card>
        )}
      </div>
    </div>
  );
}

function nameOf(score: TrustScore): string {
  return score.displayName ?? shortenId(score.subject);
}

function SubjectList({
  scores,
  error,
  onRetry,
  selected,
  onSelect,
}: {
  scores: TrustScore[] | undefined;
  error: Parameters<typeof ErrorPanel>[0]["error"] | null;
  onRetry: () => void;
  selected: string | null;
  onSelect: (subject: string) => void;
}) {
  const { t } = useTranslation();
  if (error) return <ErrorPanel error={error} onRetry={onRetry} retrying={false} />;
  if (!scores) {
    return (
      <Card className="gap-3 p-4" aria-busy>
        <Skeleton className="h-10 w-full" />
        <Skeleton className="h-10 w-full" />
      </Card>
    );
  }
  if (scores.length === 0) {
    return (
      <Card data-testid="trust-list-empty" className="gap-2 p-6 text-sm text-muted-foreground">
        {t("trust.empty")}
      </Card>
    );
  }
  return (
    <Card className="gap-0 py-0">
      <ul aria-label={t("trust.listLabel")} data-testid="trust-list" className="flex flex-col divide-y">
        {scores.map((score) => {
          const level = score.level;
          return (
            <li key={score.subject}>
              <button
                type="button"
                data-testid="trust-row"
                data-subject={score.subject}
                aria-current={score.subject === selected ? "true" : undefined}
                onClick={() => onSelect(score.subject)}
                className={cn(
                  "flex w-full items-center gap-3 px-4 py-3 text-left outline-none hover:bg-muted/60 focus-visible:ring-[3px] focus-visible:ring-ring/50",
                  score.subject === selected && "bg-muted",
                )}
              >
                <Avatar name={nameOf(score)} seed={score.subject} />
                <span className="flex min-w-0 flex-1 flex-col">
                  <span className="truncate text-sm font-medium">{nameOf(score)}</span>
                  <span className="truncate text-xs text-muted-foreground">
                    {score.isContact ? t("trust.contact") : score.partyId ? t("trust.party") : t("trust.device")}
                  </span>
                </span>
                <span className="flex flex-col items-end text-xs">
                  <span className="text-sm font-semibold tabular-nums">{scorePercent(score.score)}</span>
                  <span className={cn("text-muted-foreground", level === "none" && "text-destructive")}>
                    {t(`trust.level.${level}`)}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </Card>
  );
}

function EvidenceCard({ onSelect }: { onSelect: (subject: string) => void }) {
  const { t, i18n } = useTranslation();
  const evidence = useEvidence();
  if (!evidence.data || evidence.data.length === 0) return null;
  return (
    <Card data-testid="trust-evidence-card" className="gap-2 p-4">
      <h2 className="flex items-center gap-2 text-sm font-semibold">
        <ShieldAlert className="size-4 text-destructive" aria-hidden />
        {t("trust.evidence.all", { count: evidence.data.length })}
      </h2>
      <ul className="flex flex-col gap-2 text-sm">
        {evidence.data.map((piece) => (
          <li key={piece.offence}>
            <button
              type="button"
              className="text-left underline-offset-2 hover:underline"
              onClick={() => onSelect(piece.partyId ?? piece.node)}
            >
              <span className="font-medium">{piece.partyName ?? shortenId(piece.partyId ?? piece.node)}</span>{" "}
              {piece.summary}
            </button>
            <p className="text-xs text-muted-foreground">{formatDateTime(piece.receivedAtMs, i18n.language)}</p>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function SubjectDetail({ subject, score }: { subject: string; score: TrustScore | undefined }) {
  const { t } = useTranslation();
  const identity = useIdentity();
  const [attestOpen, setAttestOpen] = useState(false);
  const name = score ? nameOf(score) : shortenId(subject);
  const canAttest = score?.partyId != null && identity.data?.state === "ready";
  return (
    <Card data-testid="trust-detail" className="gap-6 p-6">
      <header className="flex items-center gap-3">
        <Avatar name={name} seed={subject} className="size-12 text-base" />
        <div className="flex min-w-0 flex-col gap-1">
          <h2 data-testid="trust-detail-name" className="truncate text-lg font-semibold tracking-tight">
            {name}
          </h2>
          <p className="font-mono text-xs break-all text-muted-foreground">{subject}</p>
        </div>
        {score?.partyId && <TrustBadge partyId={subject} name={name} className="ml-auto" />}
      </header>
      <TrustPanel
        subject={subject}
        actions={
          canAttest ? (
            <Button variant="outline" data-testid="trust-attest-open" onClick={() => setAttestOpen(true)}>
              <ShieldCheck aria-hidden />
              {t("trust.attest.open")}
            </Button>
          ) : undefined
        }
      />
      {canAttest && <AttestDialog partyId={subject} name={name} open={attestOpen} onOpenChange={setAttestOpen} />}
    </Card>
  );
}
