import { ShieldAlert, ShieldCheck } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { AttestationView, EvidenceView, TrustDetail, TrustEvent } from "@/backend";
import { ErrorPanel } from "@/components/error-panel";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { formatDateTime } from "@/i18n/format";
import { cn } from "@/lib/utils";
import { scorePercent, useTrust } from "./queries";

/**
 * Everything behind one score: the score with its reputation, the evidence
 * against the party, the attestations about it, and the history of events
 * that moved it, newest first. `actions` sit beside the score (attest).
 */
export function TrustPanel({ subject, actions }: { subject: string; actions?: ReactNode }) {
  const { t } = useTranslation();
  const detail = useTrust(subject);
  if (detail.isError) {
    return <ErrorPanel error={detail.error} onRetry={() => void detail.refetch()} retrying={detail.isFetching} />;
  }
  if (!detail.data) {
    return (
      <div role="status" aria-busy className="flex flex-col gap-3">
        <span className="sr-only">{t("trust.loading")}</span>
        <Skeleton className="h-8 w-1/3" />
        <Skeleton className="h-4 w-full" />
        <Skeleton className="h-4 w-2/3" />
      </div>
    );
  }
  return (
    <div data-testid="trust-panel" className="flex flex-col gap-6">
      <ScoreSummary detail={detail.data} actions={actions} />
      {detail.data.evidence.length > 0 && <EvidenceList evidence={detail.data.evidence} />}
      <Attestations attestations={detail.data.attestations} />
      <History events={detail.data.events} />
    </div>
  );
}

function ScoreSummary({ detail, actions }: { detail: TrustDetail; actions?: ReactNode }) {
  const { t } = useTranslation();
  const { score } = detail;
  const level = score.level;
  return (
    <div className="flex flex-wrap items-start justify-between gap-4">
      <div className="flex flex-col gap-1">
        <p className="text-sm text-muted-foreground">{t("trust.score")}</p>
        <p className="flex items-baseline gap-2">
          <span data-testid="trust-score" className="text-3xl font-semibold tabular-nums">
            {scorePercent(score.score)}
          </span>
          <span className="text-sm text-muted-foreground">/ 100 · {t(`trust.level.${level}`)}</span>
        </p>
        <p data-testid="trust-level-meaning" className="text-sm">
          {t(`trust.levelMeaning.${level}`)}
        </p>
        <p data-testid="trust-parts" className="text-sm text-muted-foreground">
          {t("trust.parts", { earned: scorePercent(score.earned), attested: Math.round(Math.max(0, score.attested) * 100) })}
        </p>
        <p className="text-sm text-muted-foreground">
          {t("trust.reputation", {
            reputation: scorePercent(score.reputation),
            trend: scorePercent(score.trend),
            statistics: scorePercent(score.statistics),
          })}
        </p>
        <p className="text-xs text-muted-foreground">{t("trust.statistics", { kept: score.kept, broken: score.broken })}</p>
        {score.convicted && (
          <p data-testid="trust-convicted" className="flex items-center gap-1.5 text-sm font-medium text-destructive">
            <ShieldAlert className="size-4" aria-hidden />
            {t("trust.convicted")}
          </p>
        )}
      </div>
      {actions && <div className="flex shrink-0 gap-2">{actions}</div>}
    </div>
  );
}

function Section({ title, children, testId }: { title: string; children: ReactNode; testId: string }) {
  return (
    <section data-testid={testId} className="flex flex-col gap-2">
      <h3 className="text-sm font-semibold">{title}</h3>
      {children}
    </section>
  );
}

function EvidenceList({ evidence }: { evidence: EvidenceView[] }) {
  const { t, i18n } = useTranslation();
  return (
    <Section title={t("trust.evidence.title")} testId="trust-evidence">
      <ul className="flex flex-col gap-2">
        {evidence.map((piece) => (
          <li key={piece.offence} className="rounded-md border border-destructive/30 bg-destructive/5 px-3 py-2 text-sm">
            <p className="font-medium">{piece.summary}</p>
            <p className="text-xs text-muted-foreground">
              {t(piece.reportedBy ? "trust.evidence.received" : "trust.evidence.found", {
                when: formatDateTime(piece.receivedAtMs, i18n.language),
                kind: t(`trust.evidenceKind.${piece.kind}`, { defaultValue: piece.kind }),
              })}
            </p>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Attestations({ attestations }: { attestations: AttestationView[] }) {
  const { t, i18n } = useTranslation();
  return (
    <Section title={t("trust.attestations.title")} testId="trust-attestations">
      {attestations.length === 0 ? (
        <p className="text-sm text-muted-foreground">{t("trust.attestations.none")}</p>
      ) : (
        <ul className="flex flex-col gap-2">
          {attestations.map((view) => (
            <li
              key={view.id}
              data-testid="trust-attestation"
              className={cn("flex items-start gap-2 rounded-md border px-3 py-2 text-sm", view.expired && "opacity-60")}
            >
              <ShieldCheck className="mt-0.5 size-4 shrink-0 text-primary" aria-hidden />
              <div className="flex min-w-0 flex-col gap-0.5">
                <p>
                  {view.byMe
                    ? t("trust.attestations.lineByMe", {
                        kind: t(`trust.kind.${view.kind}`, { defaultValue: view.kind }),
                        score: scorePercent(view.score),
                      })
                    : t("trust.attestations.line", {
                        attester: view.attesterName ?? `…${view.attester.slice(-8)}`,
                        kind: t(`trust.kind.${view.kind}`, { defaultValue: view.kind }),
                        score: scorePercent(view.score),
                      })}
                </p>
                <p className="text-xs text-muted-foreground">
                  {view.expired
                    ? t("trust.attestations.expired", { when: formatDateTime(view.expiresAtMs, i18n.language) })
                    : t("trust.attestations.until", { when: formatDateTime(view.expiresAtMs, i18n.language) })}
                </p>
                {!view.expired && (
                  <p data-testid="trust-attestation-weight" className="text-xs text-muted-foreground">
                    {view.recommender === null
                      ? t("trust.attestations.notCounted")
                      : t("trust.attestations.counts", { boost: (view.boost * 100).toFixed(1) })}
                  </p>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function History({ events }: { events: TrustEvent[] }) {
  const { t, i18n } = useTranslation();
  return (
    <Section title={t("trust.history.title")} testId="trust-history">
      {events.length === 0 ? (
        <p className="text-sm text-muted-foreground">{t("trust.history.none")}</p>
      ) : (
        <Card className="gap-0 py-0">
          <ol className="flex flex-col divide-y text-sm">
            {events.map((event) => (
              <li key={event.id} data-testid="trust-event" data-kind={event.kind} className="flex items-center gap-3 px-4 py-2.5">
                <span
                  className={cn(
                    "w-16 shrink-0 text-right font-medium tabular-nums",
                    event.delta < 0 ? "text-destructive" : "text-emerald-700 dark:text-emerald-400",
                  )}
                >
                  {event.delta < 0 ? "−" : "+"}
                  {Math.abs(event.delta * 100).toFixed(1)}
                </span>
                <span className="min-w-0 flex-1">
                  <span className="block">{t(`trust.eventKind.${event.kind}`, { defaultValue: event.kind })}</span>
                  <span className="block truncate text-xs text-muted-foreground">{event.reason}</span>
                </span>
                <span className="shrink-0 text-right text-xs text-muted-foreground tabular-nums">
                  <span className="block">{t("trust.history.after", { score: scorePercent(event.score) })}</span>
                  <span className="block">{formatDateTime(event.atMs, i18n.language)}</span>
                </span>
              </li>
            ))}
          </ol>
        </Card>
      )}
    </Section>
  );
}
