import { ArrowRight, Inbox, PencilLine, ReceiptText, Scale } from "lucide-react";
import { useTranslation } from "react-i18next";
import { FormError } from "@/components/form-error";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { formatAmount } from "@/lib/amount";
import { cn } from "@/lib/utils";
import { navigateTo } from "@/navigation/route";
import { awaitsOurAnswer, useNetPositions, useTallies, useWaitingInvoices } from "@/tallies/queries";
import { TrustBadge } from "@/trust/trust-badge";
import { PositionChart } from "./position-chart";

/** Where I stand: the net position per unit, and how it moved. */
export function PositionCard() {
  const { t, i18n } = useTranslation();
  const positions = useNetPositions();
  return (
    <Card data-testid="position-card" className="gap-0 py-0" aria-busy={positions.isPending}>
      <CardHeader className="gap-1 border-b px-6 py-5">
        <div className="flex items-center gap-3">
          <span className="flex size-9 items-center justify-center rounded-lg bg-brand-soft text-brand-soft-foreground">
            <Scale className="size-[18px]" aria-hidden />
          </span>
          <div className="flex flex-col gap-1">
            <CardTitle className="text-base">{t("home.position.title")}</CardTitle>
            <CardDescription>{t("home.position.description")}</CardDescription>
          </div>
        </div>
      </CardHeader>
      <CardContent className="flex flex-col gap-6 p-6">
        {positions.isError ? (
          <FormError message={positions.error.message} />
        ) : positions.isPending ? (
          <div className="flex flex-col gap-3">
            <Skeleton className="h-8 w-1/3" />
            <Skeleton className="h-36 w-full" />
          </div>
        ) : positions.data.length === 0 ? (
          <div className="flex flex-col items-start gap-3" data-testid="position-empty">
            <p className="text-sm text-muted-foreground">{t("home.position.empty")}</p>
            <Button variant="outline" size="sm" onClick={() => navigateTo("tallies", "new")}>
              {t("tallies.new.open")}
            </Button>
          </div>
        ) : (
          positions.data.map((position) => (
            <div key={position.unit.code} className="flex flex-col gap-2" data-testid="position" data-unit={position.unit.code} data-net={position.net}>
              <p className="text-sm text-muted-foreground">
                {position.net > 0
                  ? t("home.position.owedToYou")
                  : position.net < 0
                    ? t("home.position.youOwe")
                    : t("home.position.even")}
              </p>
              <p
                data-testid="position-net"
                className={cn(
                  "text-3xl font-semibold tracking-tight tabular-nums",
                  position.net > 0 && "text-success-strong",
                  position.net < 0 && "text-warning-strong",
                )}
              >
                {formatAmount(position.net, position.unit, i18n.language, { sign: "always" })}
              </p>
              <PositionChart position={position} />
            </div>
          ))
        )}
      </CardContent>
    </Card>
  );
}

/** What needs me: offers and counter-offers to answer, invoices to approve. */
export function NeedsYou() {
  const { t, i18n } = useTranslation();
  const tallies = useTallies();
  const waiting = useWaitingInvoices(tallies.data);
  const offers = (tallies.data ?? []).filter(awaitsOurAnswer);
  const items = [
    ...offers.map((tally) => ({
      key: `offer:${tally.id}`,
      tallyId: tally.id,
      partyId: tally.partyId,
      partnerName: tally.partnerName,
      icon: PencilLine,
      text:
        tally.revision > 1
          ? t("home.needs.counter", { name: tally.partnerName })
          : t("home.needs.offer", { name: tally.partnerName }),
    })),
    ...waiting.invoices.map(({ tally, invoice }) => ({
      key: `invoice:${invoice.id}`,
      tallyId: tally.id,
      partyId: tally.partyId,
      partnerName: tally.partnerName,
      icon: ReceiptText,
      text: t("home.needs.invoice", {
        name: tally.partnerName,
        amount: formatAmount(invoice.units, tally.unit, i18n.language),
      }),
    })),
  ];
  return (
    <section aria-labelledby="needs-you-title" data-testid="needs-you" className="flex flex-col gap-3 rounded-xl border bg-card p-5 shadow-xs">
      <h2 id="needs-you-title" className="text-base font-semibold">
        {t("home.needs.title")}
      </h2>
      {tallies.isPending || (waiting.pending && items.length === 0) ? (
        <div className="flex flex-col gap-2">
          <Skeleton className="h-10 w-full" />
          <Skeleton className="h-10 w-full" />
        </div>
      ) : items.length === 0 ? (
        <p className="flex items-center gap-2 text-sm text-muted-foreground" data-testid="needs-you-empty">
          <Inbox className="size-4" aria-hidden />
          {t("home.needs.nothing")}
        </p>
      ) : (
        <ul className="flex flex-col gap-1">
          {items.map((item) => (
            <li key={item.key}>
              <a
                href={`#/tallies/${encodeURIComponent(item.tallyId)}`}
                data-testid="needs-you-item"
                className="group flex items-center gap-3 rounded-lg px-2 py-2 text-sm outline-none hover:bg-muted focus-visible:ring-[3px] focus-visible:ring-ring/50"
              >
                <item.icon className="size-4 shrink-0 text-warning-strong" aria-hidden />
                <span className="flex-1" data-testid="needs-you-text">
                  {item.text}
                </span>
                <TrustBadge partyId={item.partyId} name={item.partnerName} still />
                <ArrowRight className="size-4 text-muted-foreground opacity-0 transition-opacity group-hover:opacity-100" aria-hidden />
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
