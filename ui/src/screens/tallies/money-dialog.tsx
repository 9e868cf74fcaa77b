import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type ChitView, type TallyDetail } from "@/backend";
import { FormError } from "@/components/form-error";
import { useToast } from "@/components/toaster";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { formatAmount, parseAmount } from "@/lib/amount";
import { AmountField } from "@/tallies/amount-field";
import { tallyQueryKeys } from "@/tallies/queries";

export type MoneyKind = "pay" | "invoice";

/**
 * Pays the partner or asks them to pay: an amount read as typed, a memo. The
 * node checks the limits; a refusal is shown here in its own words.
 */
export function MoneyDialog({
  kind,
  detail,
  open,
  onOpenChange,
}: {
  kind: MoneyKind;
  detail: TallyDetail;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const { t } = useTranslation();
  const name = detail.summary.partnerName;
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent data-testid={`${kind}-dialog`}>
        <DialogHeader>
          <DialogTitle>{t(`tallies.${kind}.title`, { name })}</DialogTitle>
          <DialogDescription>{t(`tallies.${kind}.description`, { name })}</DialogDescription>
        </DialogHeader>
        <MoneyForm kind={kind} detail={detail} onDone={() => onOpenChange(false)} />
      </DialogContent>
    </Dialog>
  );
}

function MoneyForm({ kind, detail, onDone }: { kind: MoneyKind; detail: TallyDetail; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const toast = useToast();
  const memoId = useId();
  const { summary } = detail;
  const [amount, setAmount] = useState("");
  const [memo, setMemo] = useState("");
  const [tried, setTried] = useState(false);
  const send = useMutation<ChitView, BackendError, string>({
    mutationFn: (text) =>
      kind === "pay" ? backend.pay(summary.id, text, memo.trim()) : backend.invoice(summary.id, text, memo.trim()),
    onSuccess: (chit) => {
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
      const units = Math.abs(chit.units ?? 0);
      toast(t(`tallies.${kind}.sent`, { name: summary.partnerName, amount: formatAmount(units, summary.unit, i18n.language) }));
      onDone();
    },
  });
  const room = detail.room ? (kind === "pay" ? detail.room.weCanPay : detail.room.theyCanPay) : null;
  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    const parsed = parseAmount(amount, summary.unit.scale);
    if (!parsed.ok) return;
    send.mutate(parsed.text);
  }
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4">
      <AmountField
        label={t("tallies.money.amount")}
        value={amount}
        onChange={(value) => {
          setAmount(value);
          if (send.isError) send.reset();
        }}
        unit={summary.unit}
        showEmpty={tried}
        autoFocus
        testId={`${kind}-amount`}
        help={
          room !== null
            ? t(`tallies.${kind}.room`, { name: summary.partnerName, amount: formatAmount(room, summary.unit, i18n.language) })
            : undefined
        }
      />
      <div className="flex flex-col gap-2">
        <Label htmlFor={memoId}>{t("tallies.money.memo")}</Label>
        <Input
          id={memoId}
          data-testid={`${kind}-memo`}
          value={memo}
          maxLength={200}
          placeholder={t("tallies.money.memoPlaceholder")}
          onChange={(event) => setMemo(event.target.value)}
        />
      </div>
      {send.isError && <FormError message={send.error.message} testId={`${kind}-error`} />}
      <DialogFooter>
        <Button variant="outline" onClick={onDone}>
          {t("dialog.cancel")}
        </Button>
        <Button type="submit" data-testid={`${kind}-submit`} disabled={send.isPending}>
          {send.isPending ? t("tallies.money.sending") : t(`tallies.${kind}.submit`)}
        </Button>
      </DialogFooter>
    </form>
  );
}
