import { useTranslation } from "react-i18next";
import type { TallySummary, UnitView } from "@/backend";
import { formatAmount } from "@/lib/amount";
import { cn } from "@/lib/utils";

/** The balance in words, from our side: "Bruno owes you 12.500 CHIP", "You owe Chiara 7.250 CHIP", "Even". */
export function balanceWords(
  balance: number,
  unit: UnitView,
  partnerName: string,
  t: (key: string, options?: Record<string, unknown>) => string,
  locale: string,
): string {
  if (balance > 0) return t("tallies.balance.theyOwe", { name: partnerName, amount: formatAmount(balance, unit, locale) });
  if (balance < 0) return t("tallies.balance.weOwe", { name: partnerName, amount: formatAmount(-balance, unit, locale) });
  return t("tallies.balance.even");
}

/** An amount with its sign and colour: green when owed to us, amber when we owe; the sign always shows. */
export function SignedAmount({
  units,
  unit,
  className,
  testId,
}: {
  units: number;
  unit: UnitView;
  className?: string;
  testId?: string;
}) {
  const { i18n } = useTranslation();
  return (
    <span
      data-testid={testId}
      data-units={units}
      className={cn(
        "font-medium whitespace-nowrap tabular-nums",
        units > 0 && "text-success-strong",
        units < 0 && "text-warning-strong",
        className,
      )}
    >
      {formatAmount(units, unit, i18n.language, { sign: "always" })}
    </span>
  );
}

/**
 * The balance on one axis from "we owe up to theyGrant" (left) to "they owe
 * up to weGrant" (right), zero between, filled from zero to the balance. The
 * words beside it carry the meaning; the bar is read out as a sentence too.
 */
export function BalanceBar({ tally, className }: { tally: TallySummary; className?: string }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const span = tally.weGrant + tally.theyGrant;
  const zeroAt = span > 0 ? (tally.theyGrant / span) * 100 : 50;
  const clamped = Math.max(-tally.theyGrant, Math.min(tally.weGrant, tally.balance));
  const fill = span > 0 ? (Math.abs(clamped) / span) * 100 : 0;
  const label = t("tallies.balance.barLabel", {
    balance: balanceWords(tally.balance, tally.unit, tally.partnerName, t, locale),
    weOweUpTo: formatAmount(tally.theyGrant, tally.unit, locale),
    theyOweUpTo: formatAmount(tally.weGrant, tally.unit, locale),
  });
  return (
    <div
      role="img"
      aria-label={label}
      title={label}
      data-testid="balance-bar"
      data-balance={tally.balance}
      data-we-grant={tally.weGrant}
      data-they-grant={tally.theyGrant}
      className={cn("relative h-2 w-full overflow-hidden rounded-full bg-muted", className)}
    >
      <span className="absolute inset-y-0 left-0 bg-warning/15" style={{ width: `${zeroAt}%` }} />
      <span className="absolute inset-y-0 right-0 bg-success/15" style={{ width: `${100 - zeroAt}%` }} />
      {clamped !== 0 && (
        <span
          data-testid="balance-bar-fill"
          className={cn("absolute inset-y-0", clamped > 0 ? "rounded-r-full bg-success" : "rounded-l-full bg-warning")}
          style={clamped > 0 ? { left: `${zeroAt}%`, width: `${fill}%` } : { left: `${zeroAt - fill}%`, width: `${fill}%` }}
        />
      )}
      <span className="absolute inset-y-0 w-px bg-foreground/40" style={{ left: `${zeroAt}%` }} />
    </div>
  );
}

/** The two ends of a balance bar, in words. */
export function BalanceBarLegend({ tally }: { tally: TallySummary }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  return (
    <div className="flex justify-between gap-4 text-xs text-muted-foreground tabular-nums">
      <span>{t("tallies.balance.weOweLimit", { amount: formatAmount(tally.theyGrant, tally.unit, locale) })}</span>
      <span className="text-right">
        {t("tallies.balance.theyOweLimit", { name: tally.partnerName, amount: formatAmount(tally.weGrant, tally.unit, locale) })}
      </span>
    </div>
  );
}

/** The stage of a tally as a badge: offer (waiting for whom, expired), open, closing, closed, refused. */
export function StageBadge({ tally }: { tally: TallySummary }) {
  const { t } = useTranslation();
  let key: string;
  let tone: "brand" | "muted" | "attention" | "error";
  if (tally.stage === "offered") {
    if (tally.expired) {
      key = "expired";
      tone = "muted";
    } else if (tally.waitingFor === "us") {
      key = tally.revision > 1 ? "counterForYou" : "offerForYou";
      tone = "attention";
    } else {
      key = "offerSent";
      tone = "muted";
    }
  } else {
    key = tally.stage;
    tone = tally.stage === "open" ? "brand" : tally.stage === "refused" ? "error" : "muted";
  }
  return (
    <span
      data-testid="stage-badge"
      data-stage={tally.stage}
      className={cn(
        "inline-flex shrink-0 items-center rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap",
        tone === "brand" && "border-primary/25 bg-brand-soft text-brand-soft-foreground",
        tone === "muted" && "text-muted-foreground",
        tone === "attention" && "border-warning/40 bg-warning/10 text-foreground",
        tone === "error" && "border-destructive/30 bg-destructive/10 text-foreground",
      )}
    >
      {t(`tallies.stage.${key}`)}
    </span>
  );
}
