import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Check, Clock, FileText, Hourglass, PencilLine, X } from "lucide-react";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import {
  useBackend,
  type BackendError,
  type RevisionView,
  type TallyDetail,
  type TallySummary,
  type TallyTerms,
} from "@/backend";
import { FormError } from "@/components/form-error";
import { useToast } from "@/components/toaster";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { formatDateTime } from "@/i18n/format";
import { formatAmount, parseAmount, unitsToText } from "@/lib/amount";
import { cn } from "@/lib/utils";
import { NodePicker, nodesToName, useNodeOptions } from "@/tallies/node-picker";
import { tallyQueryKeys } from "@/tallies/queries";
import { TallyNodes } from "@/tallies/tally-nodes";
import { TermsFields, parseCallDays, termsReady, type TermsDraft } from "@/tallies/terms-fields";
import { TrustBadge } from "@/trust/trust-badge";

/** The offer being negotiated: where it stands, the latest terms against the ones before, and our answer. */
export function Negotiation({ detail }: { detail: TallyDetail }) {
  const { summary } = detail;
  const [countering, setCountering] = useState(false);
  const ourTurn = summary.stage === "offered" && summary.waitingFor === "us";
  const canCounter = summary.stage === "offered" && (ourTurn || summary.expired);
  return (
    <div className="flex flex-col gap-6" data-testid="negotiation">
      <NegotiationState detail={detail} />
      {countering ? (
        <CounterForm detail={detail} onDone={() => setCountering(false)} />
      ) : (
        canCounter && <Answer summary={summary} onCounter={() => setCountering(true)} />
      )}
      <TermsCompare detail={detail} />
      <NegotiationNodes detail={detail} />
      <RevisionHistory detail={detail} />
    </div>
  );
}

/** The nodes the latest revision names for each side. */
function NegotiationNodes({ detail }: { detail: TallyDetail }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="negotiation-nodes-title" className="flex flex-col gap-3" data-testid="negotiation-nodes">
      <div className="flex flex-col gap-1">
        <h2 id="negotiation-nodes-title" className="text-sm font-semibold">
          {t("tallies.nodes.title")}
        </h2>
        <p className="text-sm text-muted-foreground">{t("tallies.nodes.together", { name: detail.summary.partnerName })}</p>
      </div>
      <TallyNodes detail={detail} />
    </section>
  );
}

/** One line that says where the offer stands. */
function NegotiationState({ detail }: { detail: TallyDetail }) {
  const { t, i18n } = useTranslation();
  const { summary, refusal } = detail;
  const last = detail.revisions[detail.revisions.length - 1];
  const name = summary.partnerName;
  const until = last ? formatDateTime(last.expiresMs, i18n.language) : "";
  let icon: ReactNode;
  let text: string;
  let tone: "attention" | "muted" | "error";
  if (summary.stage === "refused") {
    icon = <X className="size-4 text-destructive" aria-hidden />;
    tone = "error";
    text =
      refusal?.by === "us"
        ? t("tallies.negotiation.refusedByUs")
        : t("tallies.negotiation.refusedByThem", { name });
  } else if (summary.expired) {
    icon = <Hourglass className="size-4 text-muted-foreground" aria-hidden />;
    tone = "muted";
    text =
      summary.waitingFor === "us"
        ? t("tallies.negotiation.expiredTheirs", { name, date: until })
        : t("tallies.negotiation.expiredOurs", { name, date: until });
  } else if (summary.waitingFor === "us") {
    icon = <PencilLine className="size-4 text-warning-strong" aria-hidden />;
    tone = "attention";
    text =
      summary.revision > 1
        ? t("tallies.negotiation.counterForYou", { name, date: until })
        : t("tallies.negotiation.offerForYou", { name, date: until });
  } else {
    icon = <Clock className="size-4 text-muted-foreground" aria-hidden />;
    tone = "muted";
    text = t("tallies.negotiation.waitingForThem", { name, date: until });
  }
  return (
    <div
      data-testid="negotiation-state"
      data-state={summary.stage === "refused" ? "refused" : summary.expired ? "expired" : `waiting-${summary.waitingFor}`}
      className={cn(
        "flex flex-col gap-1.5 rounded-xl border px-4 py-3.5 text-sm",
        tone === "attention" && "border-warning/40 bg-warning/10",
        tone === "muted" && "bg-muted/50",
        tone === "error" && "border-destructive/25 bg-destructive/[0.06]",
      )}
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <p className="flex items-start gap-2.5">
          <span className="mt-0.5 shrink-0">{icon}</span>
          <span>{text}</span>
        </p>
        {/* Whether to take an offer may well depend on how far the partner is trusted. */}
        <TrustBadge partyId={summary.partyId} name={summary.partnerName} />
      </div>
      {summary.stage === "refused" && refusal && (
        <p data-testid="refusal-reason" className="pl-[26px] text-muted-foreground">
          {refusal.reason ? t("tallies.negotiation.reason", { reason: refusal.reason }) : t("tallies.negotiation.noReason")}
        </p>
      )}
    </div>
  );
}

function Answer({ summary, onCounter }: { summary: TallySummary; onCounter: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [refusing, setRefusing] = useState(false);
  const accept = useMutation<TallySummary, BackendError>({
    mutationFn: () => backend.acceptTally(summary.id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
      toast(t("tallies.negotiation.accepted", { name: summary.partnerName }));
    },
  });
  const ourTurn = summary.waitingFor === "us" && !summary.expired;
  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-wrap gap-2">
        {ourTurn && (
          <Button data-testid="tally-accept" onClick={() => accept.mutate()} disabled={accept.isPending}>
            <Check aria-hidden />
            {accept.isPending ? t("tallies.negotiation.accepting") : t("tallies.negotiation.accept")}
          </Button>
        )}
        <Button variant="outline" data-testid="tally-counter" onClick={onCounter}>
          <PencilLine aria-hidden />
          {ourTurn ? t("tallies.negotiation.counter") : t("tallies.negotiation.offerAgain")}
        </Button>
        {summary.waitingFor === "us" && (
          <Button variant="ghost" data-testid="tally-refuse" onClick={() => setRefusing(true)} className="hover:text-destructive">
            <X aria-hidden />
            {t("tallies.negotiation.refuse")}
          </Button>
        )}
      </div>
      {accept.isError && <FormError message={accept.error.message} testId="tally-answer-error" />}
      <RefuseDialog summary={summary} open={refusing} onOpenChange={setRefusing} />
    </div>
  );
}

function RefuseDialog({
  summary,
  open,
  onOpenChange,
}: {
  summary: TallySummary;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const id = useId();
  const [reason, setReason] = useState("");
  const refuse = useMutation<TallySummary, BackendError, string>({
    mutationFn: (text) => backend.refuseTally(summary.id, text),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
      onOpenChange(false);
    },
  });
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        onOpenChange(next);
        if (!next) refuse.reset();
      }}
    >
      <DialogContent data-testid="refuse-dialog">
        <DialogHeader>
          <DialogTitle>{t("tallies.negotiation.refuseTitle", { name: summary.partnerName })}</DialogTitle>
          <DialogDescription>{t("tallies.negotiation.refuseBody", { name: summary.partnerName })}</DialogDescription>
        </DialogHeader>
        <form
          className="flex flex-col gap-4"
          onSubmit={(event: FormEvent) => {
            event.preventDefault();
            refuse.mutate(reason.trim());
          }}
        >
          <div className="flex flex-col gap-2">
            <Label htmlFor={id}>{t("tallies.negotiation.refuseReason")}</Label>
            <Textarea id={id} data-testid="refuse-reason" value={reason} maxLength={200} onChange={(event) => setReason(event.target.value)} />
          </div>
          {refuse.isError && <FormError message={refuse.error.message} />}
          <DialogFooter>
            <Button variant="outline" onClick={() => onOpenChange(false)}>
              {t("dialog.cancel")}
            </Button>
            <Button type="submit" variant="destructive" data-testid="refuse-confirm" disabled={refuse.isPending}>
              {t("tallies.negotiation.refuseConfirm")}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

/** Edits the latest terms and sends them back as a new revision. */
function CounterForm({ detail, onDone }: { detail: TallyDetail; onDone: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const toast = useToast();
  const memoId = useId();
  const { summary } = detail;
  const last = detail.revisions[detail.revisions.length - 1];
  const scale = summary.unit.scale;
  const [draft, setDraft] = useState<TermsDraft>(() => ({
    weGrant: last ? unitsToText(last.terms.weGrant, scale) : "",
    theyGrant: last ? unitsToText(last.terms.theyGrant, scale) : "",
    ourCall: String(last?.terms.ourCall ?? 30),
    theirCall: String(last?.terms.theirCall ?? 30),
  }));
  const [memo, setMemo] = useState(last?.memo ?? "");
  const nodeOptions = useNodeOptions();
  // `null` until the person changes the choice: the nodes this revision names for us.
  const [nodes, setNodes] = useState<string[] | null>(null);
  const counter = useMutation<TallySummary, BackendError, TallyTerms>({
    mutationFn: (terms) => backend.counterTally(summary.id, terms),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
      toast(t("tallies.negotiation.countered", { name: summary.partnerName }));
      onDone();
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!termsReady(draft, scale)) return;
    const weGrant = parseAmount(draft.weGrant, scale, { allowZero: true });
    const theyGrant = parseAmount(draft.theyGrant, scale, { allowZero: true });
    if (!weGrant.ok || !theyGrant.ok) return;
    counter.mutate({
      weGrant: weGrant.text,
      theyGrant: theyGrant.text,
      ourCall: parseCallDays(draft.ourCall) ?? 0,
      theirCall: parseCallDays(draft.theirCall) ?? 0,
      memo: memo.trim(),
      ourNodes: nodesToName(nodeOptions.data, nodes, detail.ourNodes),
    });
  }
  return (
    <Card className="gap-5 p-6" data-testid="counter-form">
      <div className="flex flex-col gap-1">
        <h2 className="font-semibold">{t("tallies.negotiation.counterTitle")}</h2>
        <p className="text-sm text-muted-foreground">{t("tallies.negotiation.counterHelp", { name: summary.partnerName })}</p>
      </div>
      <form onSubmit={submit} noValidate className="flex flex-col gap-5">
        <TermsFields draft={draft} onChange={setDraft} unit={summary.unit} partnerName={summary.partnerName} showEmpty />
        <div className="flex flex-col gap-2">
          <Label htmlFor={memoId}>{t("tallies.new.memo")}</Label>
          <Input id={memoId} data-testid="counter-memo" value={memo} maxLength={200} onChange={(event) => setMemo(event.target.value)} />
        </div>
        <fieldset className="flex flex-col gap-3">
          <legend className="mb-1 text-sm font-medium">{t("tallies.nodes.title")}</legend>
          <NodePicker chosen={nodes} initial={detail.ourNodes} onChange={setNodes} testId="counter-nodes" />
        </fieldset>
        {counter.isError && <FormError message={counter.error.message} testId="counter-error" />}
        <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
          <Button variant="outline" onClick={onDone}>
            {t("dialog.cancel")}
          </Button>
          <Button type="submit" data-testid="counter-submit" disabled={counter.isPending || !termsReady(draft, scale)}>
            {t("tallies.negotiation.counterSend")}
          </Button>
        </div>
      </form>
    </Card>
  );
}

const TERM_ROWS = ["weGrant", "theyGrant", "ourCall", "theirCall", "memo", "contract"] as const;
type TermRow = (typeof TERM_ROWS)[number];

function termValue(revision: RevisionView, row: TermRow, unit: TallySummary["unit"], locale: string, t: (key: string, options?: Record<string, unknown>) => string): string {
  switch (row) {
    case "weGrant":
    case "theyGrant":
      return formatAmount(revision.terms[row], unit, locale);
    case "ourCall":
    case "theirCall":
      return t("tallies.terms.daysN", { count: revision.terms[row] });
    case "memo":
      return revision.memo || "—";
    case "contract":
      return revision.contract ? revision.contract.title : t("tallies.terms.noContract");
  }
}

/** The latest terms beside the ones before, with what changed marked in words and colour. */
export function TermsCompare({ detail }: { detail: TallyDetail }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const { summary, revisions } = detail;
  const latest = revisions[revisions.length - 1];
  const previous = revisions.length > 1 ? revisions[revisions.length - 2] : undefined;
  if (!latest) return null;
  const changed = new Set(latest.changes);
  const label = (row: TermRow) =>
    row === "memo" ? t("tallies.new.memo") : row === "contract" ? t("tallies.terms.contract") : t(`tallies.terms.row.${row}`, { name: summary.partnerName });
  const author = (revision: RevisionView) =>
    t("tallies.terms.revisionBy", {
      revision: revision.revision,
      who: revision.by === "us" ? t("tallies.you") : summary.partnerName,
    });
  return (
    <section aria-labelledby="terms-compare-title" className="flex flex-col gap-3">
      <h2 id="terms-compare-title" className="text-sm font-semibold">
        {previous ? t("tallies.terms.compareTitle") : t("tallies.terms.title")}
      </h2>
      <div className="overflow-x-auto rounded-xl border bg-card">
        <table className="w-full text-sm" data-testid="terms-diff">
          <thead className="border-b bg-muted/40 text-left text-xs text-muted-foreground">
            <tr>
              <th scope="col" className="px-4 py-2.5 font-medium">
                <span className="sr-only">{t("tallies.terms.term")}</span>
              </th>
              {previous && (
                <th scope="col" className="px-4 py-2.5 text-right font-medium">
                  {author(previous)}
                </th>
              )}
              <th scope="col" className="px-4 py-2.5 text-right font-medium">
                {author(latest)}
              </th>
            </tr>
          </thead>
          <tbody className="divide-y">
            {TERM_ROWS.map((row) => {
              const isChanged = changed.has(row);
              return (
                <tr key={row} data-testid={`terms-row-${row}`} data-changed={isChanged ? "true" : "false"} className={cn(isChanged && "bg-warning/10")}>
                  <th scope="row" className="px-4 py-2.5 text-left font-normal text-muted-foreground">
                    <span className="flex items-center gap-2">
                      {label(row)}
                      {isChanged && (
                        <span className="rounded-full border border-warning/50 px-1.5 py-px text-[11px] font-medium text-foreground">
                          {t("tallies.terms.changed")}
                        </span>
                      )}
                    </span>
                  </th>
                  {previous && (
                    <td className={cn("px-4 py-2.5 text-right tabular-nums", isChanged && "text-muted-foreground line-through")} data-testid={`terms-before-${row}`}>
                      {termValue(previous, row, summary.unit, locale, t)}
                    </td>
                  )}
                  <td className={cn("px-4 py-2.5 text-right tabular-nums", isChanged && "font-semibold")} data-testid={`terms-after-${row}`}>
                    {termValue(latest, row, summary.unit, locale, t)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {latest.contract && (
        <div className="flex flex-col gap-2" data-testid="contract">
          <p className="flex items-center gap-2 text-xs text-muted-foreground">
            <FileText className="size-3.5" aria-hidden />
            {t("tallies.terms.contractHash", { hash: latest.contract.hash })}
          </p>
          {latest.contract.text !== null ? (
            <details className="rounded-lg border bg-card px-4 py-2.5 text-sm">
              <summary className="cursor-pointer font-medium">
                {t("tallies.terms.contractText")}: {latest.contract.title}
              </summary>
              <p className="mt-2 whitespace-pre-wrap text-muted-foreground" data-testid="contract-text">
                {latest.contract.text}
              </p>
            </details>
          ) : (
            <p className="text-xs text-muted-foreground" data-testid="contract-text-missing">
              {t("tallies.terms.contractTextMissing")}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

/** Every revision, oldest first: who proposed it, when, and what it changed. */
export function RevisionHistory({ detail }: { detail: TallyDetail }) {
  const { t, i18n } = useTranslation();
  const { summary } = detail;
  return (
    <section aria-labelledby="revisions-title" className="flex flex-col gap-3">
      <h2 id="revisions-title" className="text-sm font-semibold">
        {t("tallies.terms.revisions")}
      </h2>
      <ol className="flex flex-col gap-2" data-testid="revision-list">
        {detail.revisions.map((revision) => (
          <li key={revision.revision} data-testid="revision" className="flex flex-col gap-0.5 rounded-lg border bg-card px-4 py-3 text-sm">
            <span className="font-medium">
              {t("tallies.terms.revisionBy", {
                revision: revision.revision,
                who: revision.by === "us" ? t("tallies.you") : summary.partnerName,
              })}
            </span>
            <span className="text-xs text-muted-foreground tabular-nums">{formatDateTime(revision.dateMs, i18n.language)}</span>
            <span className="text-xs text-muted-foreground">
              {revision.changes.length === 0
                ? revision.revision === 1
                  ? t("tallies.terms.firstOffer")
                  : t("tallies.terms.noChanges")
                : t("tallies.terms.changedList", {
                    list: new Intl.ListFormat(i18n.language, { type: "conjunction" }).format(
                      revision.changes.map((change) => t(`tallies.terms.change.${change}`, { name: summary.partnerName })),
                    ),
                  })}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
