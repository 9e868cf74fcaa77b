import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { UnitView } from "@/backend";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { parseAmount } from "@/lib/amount";
import { AmountField } from "./amount-field";

/** Terms as typed: amounts and days as text until they are sent. */
export interface TermsDraft {
  weGrant: string;
  theyGrant: string;
  ourCall: string;
  theirCall: string;
}

export const MAX_CALL_DAYS = 365;

/** Days of notice as typed: a whole number from 0 to 365, or `null`. */
export function parseCallDays(text: string): number | null {
  if (!/^\d{1,3}$/.test(text.trim())) return null;
  const days = Number(text.trim());
  return days <= MAX_CALL_DAYS ? days : null;
}

/** Whether every term can be sent as it is. */
export function termsReady(draft: TermsDraft, scale: number): boolean {
  return (
    parseAmount(draft.weGrant, scale, { allowZero: true }).ok &&
    parseAmount(draft.theyGrant, scale, { allowZero: true }).ok &&
    parseCallDays(draft.ourCall) !== null &&
    parseCallDays(draft.theirCall) !== null
  );
}

/** The limits each way and the call days, validated as typed. */
export function TermsFields({
  draft,
  onChange,
  unit,
  partnerName,
  showEmpty,
}: {
  draft: TermsDraft;
  onChange: (draft: TermsDraft) => void;
  unit: UnitView;
  partnerName: string;
  showEmpty: boolean;
}) {
  const { t } = useTranslation();
  const set = (key: keyof TermsDraft) => (value: string) => onChange({ ...draft, [key]: value });
  return (
    <div className="grid gap-5 sm:grid-cols-2">
      <AmountField
        label={t("tallies.terms.weGrant", { name: partnerName })}
        help={t("tallies.terms.weGrantHelp", { name: partnerName })}
        value={draft.weGrant}
        onChange={set("weGrant")}
        unit={unit}
        allowZero
        showEmpty={showEmpty}
        testId="terms-we-grant"
      />
      <AmountField
        label={t("tallies.terms.theyGrant", { name: partnerName })}
        help={t("tallies.terms.theyGrantHelp", { name: partnerName })}
        value={draft.theyGrant}
        onChange={set("theyGrant")}
        unit={unit}
        allowZero
        showEmpty={showEmpty}
        testId="terms-they-grant"
      />
      <CallField
        label={t("tallies.terms.ourCall")}
        help={t("tallies.terms.ourCallHelp", { name: partnerName })}
        value={draft.ourCall}
        onChange={set("ourCall")}
        testId="terms-our-call"
      />
      <CallField
        label={t("tallies.terms.theirCall", { name: partnerName })}
        help={t("tallies.terms.theirCallHelp", { name: partnerName })}
        value={draft.theirCall}
        onChange={set("theirCall")}
        testId="terms-their-call"
      />
    </div>
  );
}

export function CallField({
  label,
  help,
  value,
  onChange,
  testId,
}: {
  label: string;
  help: string;
  value: string;
  onChange: (value: string) => void;
  testId: string;
}) {
  const { t } = useTranslation();
  const id = useId();
  const problem = parseCallDays(value) === null ? t("tallies.terms.callInvalid", { max: MAX_CALL_DAYS }) : null;
  return (
    <div className="flex flex-col gap-2">
      <Label htmlFor={id}>{label}</Label>
      <div className="relative">
        <Input
          id={id}
          inputMode="numeric"
          autoComplete="off"
          data-testid={testId}
          value={value}
          onChange={(event) => onChange(event.target.value)}
          aria-invalid={problem !== null}
          aria-describedby={`${id}-note`}
          className="pr-16 text-right tabular-nums"
        />
        <span className="pointer-events-none absolute top-1/2 right-3 -translate-y-1/2 text-xs font-medium text-muted-foreground">
          {t("tallies.terms.days")}
        </span>
      </div>
      <p id={`${id}-note`} className="text-xs" data-testid={`${testId}-note`}>
        {problem !== null ? (
          <span role="alert" className="text-destructive">
            {problem}
          </span>
        ) : (
          <span className="text-muted-foreground">{help}</span>
        )}
      </p>
    </div>
  );
}
