import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type ChitView, type SettingInput, type TallyDetail } from "@/backend";
import { FormError } from "@/components/form-error";
import { useToast } from "@/components/toaster";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { formatAmount, formatPpmPercent, parseAmount, parsePercentPpm, unitsToText } from "@/lib/amount";
import { AmountField } from "@/tallies/amount-field";
import { tallyQueryKeys } from "@/tallies/queries";
import { CallField, parseCallDays } from "@/tallies/terms-fields";

/** Our trading variables, each with what it means in plain words; the partner's beside them, read-only. */
export function TradingForm({ detail }: { detail: TallyDetail }) {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const toast = useToast();
  const rewardId = useId();
  const clutchId = useId();
  const { summary, variables } = detail;
  const unit = summary.unit;
  const ours = variables?.ours;
  const [draft, setDraft] = useState(() => ({
    target: ours ? unitsToText(ours.target, unit.scale) : "0",
    bound: ours ? unitsToText(ours.bound, unit.scale) : "0",
    reward: ours ? String(ours.rewardPpm / 10_000) : "0",
    clutch: ours ? String(ours.clutchPpm / 10_000) : "0",
    call: String(ours?.call ?? 30),
  }));
  const save = useMutation<ChitView, BackendError, SettingInput>({
    mutationFn: (setting) => backend.setTrading(summary.id, setting),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
      toast(t("tallies.trading.saved"));
    },
  });
  const target = parseAmount(draft.target, unit.scale, { allowZero: true });
  const bound = parseAmount(draft.bound, unit.scale, { allowZero: true });
  const reward = parsePercentPpm(draft.reward);
  const clutch = parsePercentPpm(draft.clutch);
  const call = parseCallDays(draft.call);
  const boundBelowTarget = target.ok && bound.ok && bound.units < target.units;
  const ready = target.ok && bound.ok && reward.ok && clutch.ok && call !== null && !boundBelowTarget;
  const percentProblem = (text: string) => (parsePercentPpm(text).ok ? null : t("tallies.trading.percentInvalid"));

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!ready || !target.ok || !bound.ok) return;
    save.mutate({ target: target.text, bound: bound.text, reward: draft.reward.trim().replace(",", "."), clutch: draft.clutch.trim().replace(",", "."), call });
  }

  if (!variables) return <p className="text-sm text-muted-foreground">{t("tallies.trading.notOpen")}</p>;
  const theirs = variables.theirs;
  return (
    <div className="grid items-start gap-6 lg:grid-cols-[minmax(0,1fr)_16rem]">
      <Card className="gap-5 p-6" data-testid="trading-form">
        <div className="flex flex-col gap-1">
          <h2 className="font-semibold">{t("tallies.trading.title")}</h2>
          <p className="text-sm leading-relaxed text-muted-foreground">{t("tallies.trading.intro")}</p>
        </div>
        <form onSubmit={submit} noValidate className="flex flex-col gap-5">
          <div className="grid gap-5 sm:grid-cols-2">
            <AmountField
              label={t("tallies.trading.target")}
              help={t("tallies.trading.targetHelp")}
              value={draft.target}
              onChange={(value) => setDraft({ ...draft, target: value })}
              unit={unit}
              allowZero
              showEmpty
              testId="trading-target"
            />
            <div className="flex flex-col gap-1">
              <AmountField
                label={t("tallies.trading.bound")}
                help={t("tallies.trading.boundHelp")}
                value={draft.bound}
                onChange={(value) => setDraft({ ...draft, bound: value })}
                unit={unit}
                allowZero
                showEmpty
                testId="trading-bound"
              />
              {boundBelowTarget && (
                <p role="alert" className="text-xs text-destructive" data-testid="trading-bound-below">
                  {t("tallies.trading.boundBelowTarget")}
                </p>
              )}
            </div>
            <PercentField id={rewardId} label={t("tallies.trading.reward")} help={t("tallies.trading.rewardHelp")} value={draft.reward} problem={percentProblem(draft.reward)} onChange={(value) => setDraft({ ...draft, reward: value })} testId="trading-reward" />
            <PercentField id={clutchId} label={t("tallies.trading.clutch")} help={t("tallies.trading.clutchHelp")} value={draft.clutch} problem={percentProblem(draft.clutch)} onChange={(value) => setDraft({ ...draft, clutch: value })} testId="trading-clutch" />
            <CallField label={t("tallies.terms.ourCall")} help={t("tallies.terms.ourCallHelp", { name: summary.partnerName })} value={draft.call} onChange={(value) => setDraft({ ...draft, call: value })} testId="trading-call" />
          </div>
          {save.isError && <FormError message={save.error.message} testId="trading-error" />}
          <div className="flex justify-end">
            <Button type="submit" data-testid="trading-save" disabled={!ready || save.isPending}>
              {save.isPending ? t("tallies.trading.saving") : t("tallies.trading.save")}
            </Button>
          </div>
        </form>
      </Card>
      <section aria-labelledby="their-trading" className="flex flex-col gap-3 rounded-xl border bg-muted/40 p-5 text-sm">
        <h2 id="their-trading" className="font-semibold">
          {t("tallies.trading.theirs", { name: summary.partnerName })}
        </h2>
        <dl className="flex flex-col gap-2" data-testid="trading-theirs">
          {(
            [
              ["target", formatAmount(theirs.target, unit, i18n.language)],
              ["bound", formatAmount(theirs.bound, unit, i18n.language)],
              ["reward", `${formatPpmPercent(theirs.rewardPpm, i18n.language)} %`],
              ["clutch", `${formatPpmPercent(theirs.clutchPpm, i18n.language)} %`],
              ["call", t("tallies.terms.daysN", { count: theirs.call })],
            ] as const
          ).map(([key, value]) => (
            <div key={key} className="flex justify-between gap-3">
              <dt className="text-muted-foreground">{t(`tallies.trading.${key === "call" ? "callShort" : key}`)}</dt>
              <dd className="tabular-nums">{value}</dd>
            </div>
          ))}
        </dl>
      </section>
    </div>
  );
}

function PercentField({
  id,
  label,
  help,
  value,
  problem,
  onChange,
  testId,
}: {
  id: string;
  label: string;
  help: string;
  value: string;
  problem: string | null;
  onChange: (value: string) => void;
  testId: string;
}) {
  return (
    <div className="flex flex-col gap-2">
      <Label htmlFor={id}>{label}</Label>
      <div className="relative">
        <Input
          id={id}
          inputMode="decimal"
          data-testid={testId}
          value={value}
          onChange={(event) => onChange(event.target.value)}
          aria-invalid={problem !== null}
          aria-describedby={`${id}-note`}
          className="pr-10 text-right tabular-nums"
        />
        <span className="pointer-events-none absolute top-1/2 right-3 -translate-y-1/2 text-xs font-medium text-muted-foreground">%</span>
      </div>
      <p id={`${id}-note`} className="text-xs">
        {problem ? (
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
