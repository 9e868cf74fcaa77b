import { ShieldAlert, ShieldCheck, ShieldQuestion } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { cn } from "@/lib/utils";
import { navigateTo } from "@/navigation/route";
import type { TrustLevel } from "@/backend/types";
import { scorePercent, useTrustList } from "./queries";

const LEVEL_STYLE: Record<TrustLevel, string> = {
  high: "border-emerald-600/30 bg-emerald-600/10 text-emerald-800 dark:text-emerald-300",
  good: "border-emerald-600/20 bg-emerald-600/5 text-emerald-800 dark:text-emerald-300",
  neutral: "border-border bg-muted text-muted-foreground",
  low: "border-amber-600/30 bg-amber-500/10 text-amber-800 dark:text-amber-300",
  none: "border-destructive/30 bg-destructive/10 text-destructive",
};

/**
 * How far this node trusts a party, as a small badge with the level in words
 * and the score; it opens the party's trust history, unless `still` (inside a
 * row that opens something itself). Nothing until the node has answered.
 */
export function TrustBadge({
  partyId,
  name,
  className,
  still = false,
}: {
  partyId: string;
  name: string;
  className?: string;
  still?: boolean;
}) {
  const { t } = useTranslation();
  const list = useTrustList();
  const entry = list.data?.find((score) => score.subject === partyId);
  if (!entry) return null;
  const level = entry.level;
  const percent = scorePercent(entry.score);
  const Icon = level === "none" || level === "low" ? ShieldAlert : level === "neutral" ? ShieldQuestion : ShieldCheck;
  const label = t("trust.badge.label", { name, level: t(`trust.level.${level}`), score: percent });
  const style = cn(
    "inline-flex shrink-0 items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium tabular-nums",
    LEVEL_STYLE[level],
    className,
  );
  const content = (
    <>
      <Icon className="size-3.5" aria-hidden />
      <span>{t(`trust.level.${level}`)}</span>
      <span aria-hidden className="opacity-80">
        {percent}
      </span>
    </>
  );
  if (still) {
    return (
      <span data-testid="trust-badge" data-level={level} title={label} className={style}>
        {content}
      </span>
    );
  }
  return (
    <Tooltip>
      <TooltipTrigger asChild>
        <button
          type="button"
          data-testid="trust-badge"
          data-level={level}
          aria-label={label}
          onClick={(event) => {
            // Inside rows that open something else: the badge opens the history.
            event.stopPropagation();
            event.preventDefault();
            navigateTo("trust", partyId);
          }}
          className={cn(style, "cursor-pointer outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50")}
        >
          {content}
        </button>
      </TooltipTrigger>
      <TooltipContent>{t("trust.badge.tooltip", { score: percent })}</TooltipContent>
    </Tooltip>
  );
}
