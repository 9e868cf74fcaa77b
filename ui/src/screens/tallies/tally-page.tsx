import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ArrowDownLeft, ArrowLeft, ArrowUpRight, Download, Loader2, Lock, ReceiptText } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type ChitView, type InvoiceView, type TallyDetail } from "@/backend";
import { Avatar } from "@/components/avatar";
import { CopyButton } from "@/components/copy-button";
import { ErrorPanel } from "@/components/error-panel";
import { FormError } from "@/components/form-error";
import { useToast } from "@/components/toaster";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { formatDateTime } from "@/i18n/format";
import { formatAmount } from "@/lib/amount";
import { cn } from "@/lib/utils";
import { BalanceBar, BalanceBarLegend, StageBadge, balanceWords } from "@/tallies/balance";
import { tallyQueryKeys, useTally } from "@/tallies/queries";
import { TallyNodes } from "@/tallies/tally-nodes";
import { ChitHistory } from "./chit-history";
import { MoneyDialog, type MoneyKind } from "./money-dialog";
import { Negotiation, RevisionHistory, TermsCompare } from "./negotiation";
import { TradingForm } from "./trading-form";
import { TrustBadge } from "@/trust/trust-badge";

/** One tally: its header with the balance and limits, what waits for us, and its tabs. */
export function TallyPage({ id, onBack }: { id: string; onBack: () => void }) {
  const { t } = useTranslation();
  const tally = useTally(id);
  return (
    <div data-testid="tally-page" data-tally-id={id}>
      <Button variant="ghost" size="sm" onClick={onBack} className="-ml-2 mb-3" data-testid="tally-back">
        <ArrowLeft aria-hidden />
        {t("tallies.back")}
      </Button>
      {tally.isError ? (
        tally.error.code === "notFound" ? (
          <FormError message={t("tallies.missing")} testId="tally-missing" />
        ) : tally.error.code === "invalidInput" ? (
          <FormError message={tally.error.message} testId="tally-missing" />
        ) : (
          <ErrorPanel error={tally.error} onRetry={() => void tally.refetch()} retrying={tally.isFetching} />
        )
      ) : tally.isPending ? (
        <Card className="gap-4 p-6" aria-busy>
          <Skeleton className="h-10 w-1/2" />
          <Skeleton className="h-4 w-full" />
          <Skeleton className="h-4 w-2/3" />
        </Card>
      ) : (
        <TallyView detail={tally.data} />
      )}
    </div>
  );
}

function TallyView({ detail }: { detail: TallyDetail }) {
  const { t } = useTranslation();
  const { summary } = detail;
  const [money, setMoney] = useState<MoneyKind | null>(null);
  const live = summary.stage === "open" || summary.stage === "closing";
  const negotiating = summary.stage === "offered" || summary.stage === "refused";
  const theirInvoices = detail.openInvoices.filter((invoice) => invoice.payee === "partner");
  return (
    <div className="flex flex-col gap-6">
      <TallyHeader detail={detail} onMoney={setMoney} />
      {theirInvoices.length > 0 && <IncomingInvoices detail={detail} invoices={theirInvoices} />}
      {negotiating ? (
        <Negotiation detail={detail} />
      ) : (
        <Tabs defaultValue={live ? "history" : "terms"}>
          <TabsList aria-label={t("tallies.tabs.label")}>
            <TabsTrigger value="history" data-testid="tab-history">
              {t("tallies.tabs.history")}
            </TabsTrigger>
            <TabsTrigger value="terms" data-testid="tab-terms">
              {t("tallies.tabs.terms")}
            </TabsTrigger>
            {live && (
              <TabsTrigger value="trading" data-testid="tab-trading">
                {t("tallies.tabs.trading")}
              </TabsTrigger>
            )}
            <TabsTrigger value="network" data-testid="tab-network">
              {t("tallies.tabs.network")}
            </TabsTrigger>
          </TabsList>
          <TabsContent value="history">
            <ChitHistory summary={summary} />
          </TabsContent>
          <TabsContent value="terms" className="flex flex-col gap-6">
            <TermsCompare detail={detail} />
            <RevisionHistory detail={detail} />
          </TabsContent>
          {live && (
            <TabsContent value="trading">
              <TradingForm detail={detail} />
            </TabsContent>
          )}
          <TabsContent value="network">
            <TallyNodes detail={detail} />
          </TabsContent>
        </Tabs>
      )}
      {money && <MoneyDialog kind={money} detail={detail} open onOpenChange={(open) => !open && setMoney(null)} />}
    </div>
  );
}

function TallyHeader({ detail, onMoney }: { detail: TallyDetail; onMoney: (kind: MoneyKind) => void }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const { summary, room } = detail;
  const live = summary.stage === "open" || summary.stage === "closing";
  return (
    <Card className="gap-0 py-0" data-testid="tally-header">
      <header className="flex flex-col gap-4 px-6 py-5 sm:flex-row sm:items-start">
        <div className="flex min-w-0 flex-1 items-start gap-4">
          <Avatar name={summary.partnerName} seed={summary.partyId} className="size-12 text-base" />
          <div className="flex min-w-0 flex-col gap-1">
            <div className="flex min-w-0 flex-wrap items-center gap-2">
              <h1 className="truncate text-xl font-semibold tracking-tight" data-testid="tally-partner">
                {summary.partnerName}
              </h1>
              <StageBadge tally={summary} />
              <TrustBadge partyId={summary.partyId} name={summary.partnerName} />
            </div>
            <p className="flex items-center gap-1 text-xs text-muted-foreground">
              <span className="font-mono" title={summary.partyId}>
                …{summary.partyId.slice(-8)}
              </span>
              <CopyButton value={summary.partyId} label={t("copy.partyId")} className="-my-1" />
              <span aria-hidden>·</span>
              <span>{t(`tallies.side.${summary.side}.short`)}</span>
            </p>
            {summary.memo && <p className="text-sm text-muted-foreground">{summary.memo}</p>}
          </div>
        </div>
        {live && (
          <div className="flex flex-wrap gap-2 sm:justify-end">
            <Button onClick={() => onMoney("pay")} data-testid="pay-open" disabled={summary.stage !== "open"}>
              <ArrowUpRight aria-hidden />
              {t("tallies.pay.open")}
            </Button>
            <Button variant="outline" onClick={() => onMoney("invoice")} data-testid="invoice-open" disabled={summary.stage !== "open"}>
              <ArrowDownLeft aria-hidden />
              {t("tallies.invoice.open")}
            </Button>
          </div>
        )}
      </header>
      {live && (
        <div className="flex flex-col gap-3 border-t px-6 py-5">
          <div className="flex flex-wrap items-baseline justify-between gap-2">
            <p className="text-sm text-muted-foreground" data-testid="tally-balance-words">
              {balanceWords(summary.balance, summary.unit, summary.partnerName, t, locale)}
            </p>
            <p
              className={cn(
                "text-2xl font-semibold tracking-tight tabular-nums",
                summary.balance > 0 && "text-success-strong",
                summary.balance < 0 && "text-warning-strong",
              )}
              data-testid="tally-balance"
            >
              {formatAmount(summary.balance, summary.unit, locale, { sign: "always" })}
            </p>
          </div>
          <BalanceBar tally={summary} className="h-2.5" />
          <BalanceBarLegend tally={summary} />
          {room && (
            <p className="text-xs text-muted-foreground" data-testid="tally-room">
              {t("tallies.room", {
                we: formatAmount(room.weCanPay, summary.unit, locale),
                they: formatAmount(room.theyCanPay, summary.unit, locale),
                name: summary.partnerName,
              })}
            </p>
          )}
          {summary.waitingForNodes && <NodesWaitNote wait={summary.waitingForNodes} />}
          {summary.stage === "closing" && (
            <p className="flex items-center gap-2 rounded-lg bg-muted/60 px-3 py-2 text-sm" data-testid="tally-closing">
              <Lock className="size-4 text-muted-foreground" aria-hidden />
              {t("tallies.close.closing")}
            </p>
          )}
        </div>
      )}
      {(live || summary.stage === "closed") && (
        <div className="flex flex-wrap justify-end gap-2 border-t px-6 py-3">
          <ExportCsv detail={detail} />
          {summary.stage === "open" && <CloseTally detail={detail} />}
        </div>
      )}
    </Card>
  );
}

/** Pending chits wait: a side has fewer of its nodes up than a certificate needs. */
function NodesWaitNote({ wait }: { wait: NonNullable<TallyDetail["summary"]["waitingForNodes"]> }) {
  const { t } = useTranslation();
  const words =
    wait.who === "partner"
      ? t("tallies.network.waitingPartner", { name: wait.name, up: wait.up, needed: wait.needed })
      : t("tallies.network.waitingOurs", { up: wait.up, needed: wait.needed });
  return (
    <div
      role="status"
      className="flex items-start gap-2 rounded-lg border border-warning/40 bg-warning/10 px-3 py-2 text-sm"
      data-testid="tally-nodes-wait"
      data-who={wait.who}
    >
      <Loader2 className="mt-0.5 size-4 shrink-0 animate-spin motion-reduce:animate-none" aria-hidden />
      <span className="flex flex-col gap-0.5">
        <span className="font-medium">{words}</span>
        <span className="text-xs text-muted-foreground">{t("tallies.network.waitingHelp")}</span>
      </span>
    </div>
  );
}

function IncomingInvoices({ detail, invoices }: { detail: TallyDetail; invoices: InvoiceView[] }) {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const toast = useToast();
  const { summary } = detail;
  const answer = useMutation<ChitView, BackendError, { invoice: InvoiceView; approve: boolean }>({
    mutationFn: ({ invoice, approve }) =>
      approve ? backend.approveInvoice(summary.id, invoice.id) : backend.declineInvoice(summary.id, invoice.id),
    onSuccess: (_, { invoice, approve }) => {
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
      const amount = formatAmount(invoice.units, summary.unit, i18n.language);
      toast(t(approve ? "tallies.invoices.approved" : "tallies.invoices.declined", { name: summary.partnerName, amount }));
    },
  });
  return (
    <section aria-labelledby="incoming-invoices" className="flex flex-col gap-3 rounded-xl border border-warning/40 bg-warning/10 p-5" data-testid="incoming-invoices">
      <h2 id="incoming-invoices" className="flex items-center gap-2 text-sm font-semibold">
        <ReceiptText className="size-4" aria-hidden />
        {t("tallies.invoices.title", { name: summary.partnerName })}
      </h2>
      <ul className="flex flex-col gap-2">
        {invoices.map((invoice) => (
          <li key={invoice.id} data-testid="incoming-invoice" className="flex flex-col gap-3 rounded-lg border bg-card px-4 py-3 sm:flex-row sm:items-center">
            <span className="flex min-w-0 flex-1 flex-col gap-0.5">
              <span className="text-sm font-medium tabular-nums">{formatAmount(invoice.units, summary.unit, i18n.language)}</span>
              <span className="truncate text-xs text-muted-foreground">
                {invoice.memo || t("tallies.invoices.noMemo")} · {formatDateTime(invoice.dateMs, i18n.language)}
              </span>
            </span>
            <span className="flex gap-2">
              <Button size="sm" variant="outline" data-testid="invoice-decline" disabled={answer.isPending} onClick={() => answer.mutate({ invoice, approve: false })}>
                {t("tallies.invoices.decline")}
              </Button>
              <Button size="sm" data-testid="invoice-approve" disabled={answer.isPending} onClick={() => answer.mutate({ invoice, approve: true })}>
                {t("tallies.invoices.approve")}
              </Button>
            </span>
          </li>
        ))}
      </ul>
      {answer.isError && <FormError message={answer.error.message} testId="invoice-answer-error" />}
    </section>
  );
}

function ExportCsv({ detail }: { detail: TallyDetail }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const toast = useToast();
  const name = detail.summary.partnerName;
  const exportCsv = useMutation<string | null, BackendError>({
    mutationFn: () =>
      backend.exportTallyCsv(detail.summary.id, {
        title: t("tallies.export.dialogTitle", { name }),
        fileKind: t("tallies.export.fileKind"),
      }),
    onSuccess: (path) => {
      if (path) toast(t("tallies.export.saved", { path }));
    },
  });
  return (
    <>
      {exportCsv.isError && <FormError message={exportCsv.error.message} className="w-full" />}
      <Button variant="ghost" size="sm" data-testid="tally-export" onClick={() => exportCsv.mutate()} disabled={exportCsv.isPending}>
        <Download aria-hidden />
        {t("tallies.export.action")}
      </Button>
    </>
  );
}

function CloseTally({ detail }: { detail: TallyDetail }) {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const { summary } = detail;
  const close = useMutation<ChitView, BackendError>({
    mutationFn: () => backend.closeTally(summary.id),
    onSuccess: () => {
      setOpen(false);
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
    },
  });
  return (
    <AlertDialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) close.reset();
      }}
    >
      <Button variant="ghost" size="sm" data-testid="tally-close" onClick={() => setOpen(true)} className="hover:text-destructive">
        <Lock aria-hidden />
        {t("tallies.close.action")}
      </Button>
      <AlertDialogContent data-testid="close-dialog">
        <AlertDialogHeader>
          <AlertDialogTitle>{t("tallies.close.title", { name: summary.partnerName })}</AlertDialogTitle>
          <AlertDialogDescription>
            {summary.balance === 0
              ? t("tallies.close.bodyEven")
              : t("tallies.close.body", { balance: balanceWords(summary.balance, summary.unit, summary.partnerName, t, i18n.language) })}
          </AlertDialogDescription>
        </AlertDialogHeader>
        {close.isError && <FormError message={close.error.message} />}
        <AlertDialogFooter>
          <AlertDialogCancel>{t("dialog.cancel")}</AlertDialogCancel>
          <AlertDialogAction
            variant="destructive"
            data-testid="close-confirm"
            disabled={close.isPending}
            onClick={(event) => {
              event.preventDefault();
              close.mutate();
            }}
          >
            {t("tallies.close.confirm")}
          </AlertDialogAction>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
