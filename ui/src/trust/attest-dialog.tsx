import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { FormError } from "@/components/form-error";
import { useToast } from "@/components/toaster";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { ToggleGroup, ToggleGroupItem } from "@/components/ui/toggle-group";
import { useAttest } from "./queries";

const KINDS = ["identity", "trade", "service"] as const;
type Kind = (typeof KINDS)[number];

/**
 * Vouches for a contact: what for, how much (0–100) and for how long. The node
 * signs it with the party key and hands it to contacts and the network.
 */
export function AttestDialog({
  partyId,
  name,
  open,
  onOpenChange,
}: {
  partyId: string;
  name: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent data-testid="attest-dialog">
        <DialogHeader>
          <DialogTitle>{t("trust.attest.title", { name })}</DialogTitle>
          <DialogDescription>{t("trust.attest.description", { name })}</DialogDescription>
        </DialogHeader>
        <AttestForm partyId={partyId} name={name} onDone={() => onOpenChange(false)} />
      </DialogContent>
    </Dialog>
  );
}

function AttestForm({ partyId, name, onDone }: { partyId: string; name: string; onDone: () => void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const scoreId = useId();
  const daysId = useId();
  const [kind, setKind] = useState<Kind>("trade");
  const [score, setScore] = useState("80");
  const [days, setDays] = useState("365");
  const [problem, setProblem] = useState<string | null>(null);
  const attest = useAttest();

  function submit(event: FormEvent) {
    event.preventDefault();
    const percent = Number(score.trim());
    const validDays = Number(days.trim());
    if (score.trim() === "" || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      setProblem(t("trust.attest.badScore"));
      return;
    }
    if (!Number.isInteger(validDays) || validDays < 1 || validDays > 366) {
      setProblem(t("trust.attest.badDays"));
      return;
    }
    setProblem(null);
    attest.mutate(
      { partyId, kind, score: percent / 100, validDays },
      {
        onSuccess: () => {
          toast(t("trust.attest.done", { name }));
          onDone();
        },
      },
    );
  }

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4">
      <div className="flex flex-col gap-2">
        <Label>{t("trust.attest.kind")}</Label>
        <ToggleGroup
          type="single"
          value={kind}
          aria-label={t("trust.attest.kind")}
          onValueChange={(value) => {
            if (value) setKind(value as Kind);
          }}
        >
          {KINDS.map((option) => (
            <ToggleGroupItem key={option} value={option} data-testid={`attest-kind-${option}`}>
              {t(`trust.kind.${option}`)}
            </ToggleGroupItem>
          ))}
        </ToggleGroup>
        <p className="text-xs text-muted-foreground">{t(`trust.kindHelp.${kind}`)}</p>
      </div>
      <div className="grid grid-cols-2 gap-4">
        <div className="flex flex-col gap-2">
          <Label htmlFor={scoreId}>{t("trust.attest.score")}</Label>
          <Input
            id={scoreId}
            data-testid="attest-score"
            inputMode="numeric"
            value={score}
            onChange={(event) => setScore(event.target.value)}
          />
        </div>
        <div className="flex flex-col gap-2">
          <Label htmlFor={daysId}>{t("trust.attest.days")}</Label>
          <Input
            id={daysId}
            data-testid="attest-days"
            inputMode="numeric"
            value={days}
            onChange={(event) => setDays(event.target.value)}
          />
        </div>
      </div>
      {(problem ?? attest.error?.message) && (
        <FormError message={problem ?? attest.error?.message ?? ""} testId="attest-error" />
      )}
      <DialogFooter>
        <Button variant="outline" onClick={onDone}>
          {t("dialog.cancel")}
        </Button>
        <Button type="submit" data-testid="attest-submit" disabled={attest.isPending}>
          {attest.isPending ? t("trust.attest.signing") : t("trust.attest.submit")}
        </Button>
      </DialogFooter>
    </form>
  );
}
