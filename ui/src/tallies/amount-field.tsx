import { useId, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { UnitView } from "@/backend";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { parseAmount, type ParsedAmount } from "@/lib/amount";

/** The sentence for an amount that can't be read, or `null` when it can (or is still empty and not yet sent). */
export function amountProblem(
  parsed: ParsedAmount,
  scale: number,
  t: (key: string, options?: Record<string, unknown>) => string,
  showEmpty: boolean,
): string | null {
  if (parsed.ok) return null;
  if (parsed.problem === "empty" && !showEmpty) return null;
  return t(`amount.errors.${parsed.problem}`, { count: scale });
}

/**
 * A field for an amount in a unit, read as it is typed: too many decimals or
 * stray characters are said at once, under the field, before anything is sent.
 */
export function AmountField({
  label,
  value,
  onChange,
  unit,
  allowZero = false,
  showEmpty = false,
  help,
  testId,
  autoFocus,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  unit: UnitView;
  allowZero?: boolean;
  /** Whether an empty field is called out (after a try to send it). */
  showEmpty?: boolean;
  help?: ReactNode;
  testId: string;
  autoFocus?: boolean;
}) {
  const { t } = useTranslation();
  const id = useId();
  const parsed = parseAmount(value, unit.scale, { allowZero });
  const problem = amountProblem(parsed, unit.scale, t, showEmpty);
  return (
    <div className="flex flex-col gap-2">
      <Label htmlFor={id}>{label}</Label>
      <div className="relative">
        <Input
          id={id}
          inputMode="decimal"
          autoComplete="off"
          data-testid={testId}
          value={value}
          onChange={(event) => onChange(event.target.value)}
          aria-invalid={problem !== null}
          aria-describedby={`${id}-note`}
          placeholder={(0).toFixed(unit.scale)}
          autoFocus={autoFocus}
          className="pr-16 text-right tabular-nums"
        />
        <span className="pointer-events-none absolute top-1/2 right-3 -translate-y-1/2 text-xs font-medium text-muted-foreground">
          {unit.code}
        </span>
      </div>
      <p id={`${id}-note`} className="text-xs" data-testid={`${testId}-note`}>
        {problem !== null ? (
          <span role="alert" className="text-destructive">
            {problem}
          </span>
        ) : (
          help && <span className="text-muted-foreground">{help}</span>
        )}
      </p>
    </div>
  );
}
