import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, ShoppingBasket, Store } from "lucide-react";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type TallyOffer, type TallySide, type TallySummary } from "@/backend";
import { FormError } from "@/components/form-error";
import { PageHeader } from "@/components/page-header";
import { useToast } from "@/components/toaster";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { Textarea } from "@/components/ui/textarea";
import { useContacts } from "@/contacts/queries";
import { parseAmount } from "@/lib/amount";
import { cn } from "@/lib/utils";
import { NodePicker, nodesToName, useNodeOptions } from "@/tallies/node-picker";
import { tallyQueryKeys } from "@/tallies/queries";
import { TermsFields, parseCallDays, termsReady, type TermsDraft } from "@/tallies/terms-fields";

/** The unit of new tallies: the node offers tallies in CHIP. */
const NEW_TALLY_UNIT = { code: "CHIP", scale: 3 };
const EXPIRY_CHOICES = [24, 72, 168, 336] as const;

/**
 * Offers a tally to a contact: who, which side, the limits each way, the call,
 * which of our devices keep it, a memo, a contract, an expiry.
 */
export function NewTally({ onDone, onCancel }: { onDone: (id: string) => void; onCancel: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const toast = useToast();
  const contacts = useContacts();
  const nodeOptions = useNodeOptions();
  const ids = { partner: useId(), memo: useId(), expiry: useId(), title: useId(), text: useId() };
  const [partyId, setPartyId] = useState("");
  const [side, setSide] = useState<TallySide>("stock");
  const [terms, setTerms] = useState<TermsDraft>({ weGrant: "", theyGrant: "", ourCall: "30", theirCall: "30" });
  const [memo, setMemo] = useState("");
  const [withContract, setWithContract] = useState(false);
  const [contract, setContract] = useState({ title: "", text: "" });
  const [expiresInHours, setExpiresInHours] = useState<number>(72);
  // `null` until the person changes the choice: every device of the cadre.
  const [nodes, setNodes] = useState<string[] | null>(null);
  const [tried, setTried] = useState(false);

  const partner = contacts.data?.find((contact) => contact.partyId === partyId);
  const partnerName = partner?.displayName ?? t("tallies.new.thePartner");

  const propose = useMutation<TallySummary, BackendError, TallyOffer>({
    mutationFn: (offer) => backend.proposeTally(offer),
    onSuccess: (tally) => {
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
      toast(t("tallies.new.sent", { name: tally.partnerName }));
      onDone(tally.id);
    },
  });

  const contractMissing = withContract && !contract.title.trim();
  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (!partner || !termsReady(terms, NEW_TALLY_UNIT.scale) || contractMissing) return;
    const weGrant = parseAmount(terms.weGrant, NEW_TALLY_UNIT.scale, { allowZero: true });
    const theyGrant = parseAmount(terms.theyGrant, NEW_TALLY_UNIT.scale, { allowZero: true });
    if (!weGrant.ok || !theyGrant.ok) return;
    propose.mutate({
      partyId: partner.partyId,
      side,
      weGrant: weGrant.text,
      theyGrant: theyGrant.text,
      ourCall: parseCallDays(terms.ourCall) ?? 0,
      theirCall: parseCallDays(terms.theirCall) ?? 0,
      memo: memo.trim(),
      contract: withContract ? { title: contract.title.trim(), text: contract.text } : null,
      expiresInHours,
      // The devices ticked; `null` (every device) when they could not be listed.
      ourNodes: nodesToName(nodeOptions.data, nodes, null),
    });
  }

  return (
    <div data-testid="new-tally">
      <Button variant="ghost" size="sm" onClick={onCancel} className="-ml-2 mb-3">
        <ArrowLeft aria-hidden />
        {t("tallies.back")}
      </Button>
      <PageHeader title={t("tallies.new.title")} description={t("tallies.new.description")} />
      <Card className="gap-0 py-0">
        <form onSubmit={submit} noValidate className="flex flex-col divide-y">
          <Section title={t("tallies.new.partner")}>
            {contacts.isPending ? (
              <Skeleton className="h-9 w-full" />
            ) : (contacts.data?.length ?? 0) === 0 ? (
              <p className="text-sm text-muted-foreground" data-testid="new-tally-no-contacts">
                {t("tallies.new.noContacts")}
              </p>
            ) : (
              <div className="flex flex-col gap-2">
                <Label htmlFor={ids.partner}>{t("tallies.new.partnerLabel")}</Label>
                <select
                  id={ids.partner}
                  data-testid="new-tally-partner"
                  value={partyId}
                  onChange={(event) => setPartyId(event.target.value)}
                  aria-invalid={tried && !partner}
                  className="h-9 w-full rounded-md border border-input bg-card px-3 text-sm shadow-xs outline-none focus-visible:border-ring focus-visible:ring-[3px] focus-visible:ring-ring/50 aria-invalid:border-destructive dark:bg-input/30"
                >
                  <option value="">{t("tallies.new.choosePartner")}</option>
                  {contacts.data?.map((contact) => (
                    <option key={contact.partyId} value={contact.partyId}>
                      {contact.displayName} (…{contact.fingerprint})
                    </option>
                  ))}
                </select>
                {tried && !partner && (
                  <p role="alert" className="text-xs text-destructive">
                    {t("tallies.new.partnerMissing")}
                  </p>
                )}
              </div>
            )}
          </Section>

          <Section title={t("tallies.new.side")}>
            <div role="radiogroup" aria-label={t("tallies.new.side")} className="grid gap-3 sm:grid-cols-2">
              {(["stock", "foil"] as const).map((choice) => {
                const Icon = choice === "stock" ? Store : ShoppingBasket;
                const checked = side === choice;
                return (
                  <button
                    key={choice}
                    type="button"
                    role="radio"
                    aria-checked={checked}
                    data-testid={`new-tally-side-${choice}`}
                    onClick={() => setSide(choice)}
                    className={cn(
                      "flex cursor-pointer items-start gap-3 rounded-lg border p-4 text-left outline-none transition-colors focus-visible:ring-[3px] focus-visible:ring-ring/50",
                      checked ? "border-primary bg-brand-soft/60" : "hover:bg-muted/60",
                    )}
                  >
                    <Icon className={cn("mt-0.5 size-5 shrink-0", checked ? "text-primary" : "text-muted-foreground")} aria-hidden />
                    <span className="flex flex-col gap-1">
                      <span className="text-sm font-medium">{t(`tallies.side.${choice}.choice`)}</span>
                      <span className="text-xs leading-relaxed text-muted-foreground">
                        {t(`tallies.side.${choice}.explain`, { name: partnerName })}
                      </span>
                    </span>
                  </button>
                );
              })}
            </div>
          </Section>

          <Section title={t("tallies.new.terms")} description={t("tallies.new.termsHelp")}>
            <TermsFields draft={terms} onChange={setTerms} unit={NEW_TALLY_UNIT} partnerName={partnerName} showEmpty={tried} />
          </Section>

          <Section title={t("tallies.nodes.title")}>
            <NodePicker chosen={nodes} onChange={setNodes} testId="new-tally-nodes" />
          </Section>

          <Section title={t("tallies.new.details")}>
            <div className="flex flex-col gap-2">
              <Label htmlFor={ids.memo}>{t("tallies.new.memo")}</Label>
              <Input
                id={ids.memo}
                data-testid="new-tally-memo"
                value={memo}
                maxLength={200}
                placeholder={t("tallies.new.memoPlaceholder")}
                onChange={(event) => setMemo(event.target.value)}
              />
            </div>
            <div className="flex flex-col gap-2">
              <Label htmlFor={ids.expiry}>{t("tallies.new.expiry")}</Label>
              <select
                id={ids.expiry}
                data-testid="new-tally-expiry"
                value={expiresInHours}
                onChange={(event) => setExpiresInHours(Number(event.target.value))}
                className="h-9 w-full rounded-md border border-input bg-card px-3 text-sm shadow-xs outline-none focus-visible:border-ring focus-visible:ring-[3px] focus-visible:ring-ring/50 sm:w-64 dark:bg-input/30"
              >
                {EXPIRY_CHOICES.map((hours) => (
                  <option key={hours} value={hours}>
                    {t("tallies.new.expiryDays", { count: hours / 24 })}
                  </option>
                ))}
              </select>
            </div>
            <label className="flex cursor-pointer items-center gap-2.5 text-sm">
              <input
                type="checkbox"
                data-testid="new-tally-with-contract"
                checked={withContract}
                onChange={(event) => setWithContract(event.target.checked)}
                className="size-4 accent-primary"
              />
              {t("tallies.new.withContract")}
            </label>
            {withContract && (
              <div className="flex flex-col gap-4 rounded-lg border bg-muted/40 p-4">
                <div className="flex flex-col gap-2">
                  <Label htmlFor={ids.title}>{t("tallies.new.contractTitle")}</Label>
                  <Input
                    id={ids.title}
                    data-testid="new-tally-contract-title"
                    value={contract.title}
                    aria-invalid={tried && contractMissing}
                    onChange={(event) => setContract({ ...contract, title: event.target.value })}
                  />
                  {tried && contractMissing && (
                    <p role="alert" className="text-xs text-destructive">
                      {t("tallies.new.contractTitleMissing")}
                    </p>
                  )}
                </div>
                <div className="flex flex-col gap-2">
                  <Label htmlFor={ids.text}>{t("tallies.new.contractText")}</Label>
                  <Textarea
                    id={ids.text}
                    data-testid="new-tally-contract-text"
                    rows={5}
                    value={contract.text}
                    onChange={(event) => setContract({ ...contract, text: event.target.value })}
                  />
                  <p className="text-xs text-muted-foreground">{t("tallies.new.contractHelp")}</p>
                </div>
              </div>
            )}
          </Section>

          <div className="flex flex-col gap-3 px-6 py-5">
            {propose.isError && <FormError message={propose.error.message} testId="new-tally-error" />}
            <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
              <Button variant="outline" onClick={onCancel}>
                {t("dialog.cancel")}
              </Button>
              <Button type="submit" data-testid="new-tally-submit" disabled={propose.isPending}>
                {propose.isPending ? t("tallies.new.sending") : t("tallies.new.submit")}
              </Button>
            </div>
          </div>
        </form>
      </Card>
    </div>
  );
}

function Section({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  return (
    <fieldset className="flex flex-col gap-4 px-6 py-5">
      <legend className="contents">
        <span className="text-sm font-semibold">{title}</span>
      </legend>
      {description && <p className="-mt-2 text-sm text-muted-foreground">{description}</p>}
      {children}
    </fieldset>
  );
}
