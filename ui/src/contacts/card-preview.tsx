import { BadgeCheck, Info, Link2, UserPlus } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { CardPreview, Contact } from "@/backend";
import { Avatar } from "@/components/avatar";
import { CopyButton } from "@/components/copy-button";
import { FormError } from "@/components/form-error";
import { Button } from "@/components/ui/button";
import { formatDateTime } from "@/i18n/format";
import { useAddContact } from "./use-add-contact";

/**
 * A card that was read and verified but not added: who signed it, in full,
 * so the person can compare it with what they were told, and one button to add.
 * A new party's card that carries an invite is redeemed: their devices are
 * reached so each side keeps the other's card. If they can't be reached, the
 * card can still be kept without connecting.
 */
export function CardPreviewView({
  card,
  onAdded,
  secondary,
}: {
  card: CardPreview;
  onAdded?: (contact: Contact) => void;
  secondary?: ReactNode;
}) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const add = useAddContact(onAdded);
  const connect = card.invite !== null && !card.known;
  const addCard = (viaNetwork: boolean) => add.mutate({ link: card.link, known: card.known, connect: viaNetwork });
  // Only a party that could not be reached is worth keeping without connecting; a refusal is final.
  const offerOffline = add.isError && add.error.code === "unavailable" && add.variables.connect;
  const connecting = add.isPending && add.variables.connect;
  return (
    <div data-testid="card-preview" className="flex flex-col gap-5">
      <div className="flex items-center gap-3">
        <Avatar name={card.displayName} seed={card.partyId} className="size-11 text-sm" />
        <div className="flex min-w-0 flex-col gap-0.5">
          <p data-testid="card-preview-name" className="truncate text-base font-semibold">
            {card.displayName}
          </p>
          <p className="flex items-center gap-1.5 text-xs text-muted-foreground">
            <BadgeCheck className="size-3.5 text-primary" aria-hidden />
            {t("contacts.preview.verified")}
          </p>
        </div>
      </div>

      <dl className="flex flex-col divide-y rounded-lg border text-sm">
        <PreviewRow label={t("identity.partyId")}>
          <div className="flex items-start gap-1">
            <span data-testid="card-preview-party-id" className="min-w-0 font-mono text-[12.5px] break-all">
              {card.partyId}
            </span>
            <CopyButton value={card.partyId} label={t("copy.partyId")} className="-my-1" />
          </div>
        </PreviewRow>
        <PreviewRow label={t("contacts.fields.devices")}>{t("contacts.devices", { count: card.devices })}</PreviewRow>
        <PreviewRow label={t("contacts.fields.signed")}>{formatDateTime(card.issuedAtMs, locale)}</PreviewRow>
        {card.invite && (
          <PreviewRow label={t("contacts.fields.invite")}>
            <span data-testid="card-preview-invite">
              {t(card.invite.reusable ? "contacts.preview.inviteReusable" : "contacts.preview.inviteOneTime", {
                date: formatDateTime(card.invite.expiresAtMs, locale),
              })}
            </span>
          </PreviewRow>
        )}
      </dl>

      {connect && (
        <p
          data-testid="card-preview-connect-help"
          className="flex items-start gap-2 rounded-lg bg-brand-soft/70 px-3.5 py-3 text-sm text-foreground/80"
        >
          <Link2 className="mt-0.5 size-4 shrink-0 text-primary" aria-hidden />
          {t("contacts.preview.connectHelp", { name: card.displayName })}
        </p>
      )}

      {card.known && (
        <p
          data-testid="card-preview-known"
          className="flex items-start gap-2 rounded-lg bg-muted/70 px-3.5 py-3 text-sm text-foreground/80"
        >
          <Info className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
          {t("contacts.preview.known")}
        </p>
      )}

      {add.isError && <FormError message={add.error.message} testId="add-contact-error" />}

      <div className="flex flex-col-reverse gap-2 sm:flex-row sm:flex-wrap sm:justify-end">
        {secondary}
        {offerOffline && (
          <Button
            variant="outline"
            data-testid="card-preview-add-offline"
            onClick={() => addCard(false)}
            disabled={add.isPending}
          >
            {t("contacts.preview.addOffline")}
          </Button>
        )}
        <Button data-testid="card-preview-add" onClick={() => addCard(connect)} disabled={add.isPending}>
          {connect ? <Link2 aria-hidden /> : <UserPlus aria-hidden />}
          {connecting
            ? t("contacts.preview.connecting", { name: card.displayName })
            : add.isPending
              ? t("contacts.preview.adding")
              : card.known
                ? t("contacts.preview.update")
                : connect
                  ? t("contacts.preview.addAndConnect")
                  : t("contacts.preview.add", { name: card.displayName })}
        </Button>
      </div>
      <span className="sr-only" role="status" aria-live="polite">
        {connecting ? t("contacts.preview.connecting", { name: card.displayName }) : ""}
      </span>
    </div>
  );
}

function PreviewRow({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-1 gap-1 px-3.5 py-2.5 sm:grid-cols-[7rem_minmax(0,1fr)] sm:gap-3">
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </div>
  );
}
