import { useMutation, useQueryClient } from "@tanstack/react-query";
import { RefreshCw, Ticket } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type InviteRequest, type MyCard, type OwnInvite } from "@/backend";
import { contactQueryKeys, isOpenInvite, myCardQueryKey, useInvites, useMyCard } from "@/contacts/queries";
import { CopyLinkButton } from "@/components/copy-link-button";
import { FormError } from "@/components/form-error";
import { QrCode } from "@/components/qr-code";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import { ToggleGroup, ToggleGroupItem } from "@/components/ui/toggle-group";
import { formatDateTime } from "@/i18n/format";
import { useIdentity } from "@/identity/identity";
import { useNow } from "@/lib/use-now";

type InviteKind = "none" | "oneTime" | "reusable";
type Expiry = "1h" | "24h" | "7d";

const EXPIRY_SECS: Record<Expiry, number> = { "1h": 3_600, "24h": 86_400, "7d": 7 * 86_400 };
const INVITE_KINDS: readonly InviteKind[] = ["none", "oneTime", "reusable"];
const EXPIRIES: readonly Expiry[] = ["1h", "24h", "7d"];

/** My card to share: its QR code and link, a new one with an invite on request, and my open invites. */
export function MyCardDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="max-w-2xl" data-testid="my-card-dialog">
        <DialogHeader>
          <DialogTitle>{t("contacts.myCard.title")}</DialogTitle>
          <DialogDescription>{t("contacts.myCard.description")}</DialogDescription>
        </DialogHeader>
        <MyCardBody />
      </DialogContent>
    </Dialog>
  );
}

function MyCardBody() {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const card = useMyCard();
  const identity = useIdentity();
  // A member device shows the party's card as the main device signed it; invites need the party secret.
  const member = identity.data?.state === "member" ? identity.data : null;
  const [kind, setKind] = useState<InviteKind>("none");
  const [expiry, setExpiry] = useState<Expiry>("24h");

  const renew = useMutation<MyCard, BackendError, InviteRequest | null>({
    mutationFn: (invite) => backend.myCard(invite),
    onSuccess: (made, invite) => {
      queryClient.setQueryData(myCardQueryKey, made);
      if (invite) void queryClient.invalidateQueries({ queryKey: contactQueryKeys.invites });
    },
  });

  function makeNewCard() {
    renew.mutate(kind === "none" ? null : { reusable: kind === "reusable", expiresInSecs: EXPIRY_SECS[expiry] });
  }

  return (
    <div className="flex flex-col gap-6">
      <div className="grid gap-6 sm:grid-cols-[13rem_minmax(0,1fr)]">
        <div className="flex flex-col items-center gap-2">
          <QrCode svg={card.data?.qrSvg} alt={t("contacts.myCard.qrAlt")} testId="my-card-qr" failed={card.isError} />
        </div>

        <div className="flex min-w-0 flex-col gap-4">
          {card.isError && (
            <FormError message={card.error.message} testId="my-card-error" />
          )}
          <div className="flex flex-col gap-2">
            <p className="text-sm font-medium">{t("contacts.myCard.link")}</p>
            {card.data ? (
              <p
                data-testid="my-card-link"
                className="max-h-24 overflow-y-auto rounded-md border bg-muted/60 px-3 py-2 font-mono text-[12px] leading-relaxed break-all"
              >
                {card.data.link}
              </p>
            ) : (
              <Skeleton className="h-16 w-full" />
            )}
            <div className="flex flex-wrap items-center gap-2">
              <CopyLinkButton value={card.data?.link} label={t("contacts.myCard.copy")} testId="my-card-copy" />
              <span className="text-xs text-muted-foreground" data-testid="my-card-invite">
                {card.data?.invite
                  ? t(card.data.invite.reusable ? "contacts.myCard.carriesReusable" : "contacts.myCard.carriesOneTime", {
                      date: formatDateTime(card.data.invite.expiresAtMs, i18n.language),
                    })
                  : card.data
                    ? t("contacts.myCard.carriesNone")
                    : null}
              </span>
            </div>
          </div>

          {member ? (
            <p data-testid="my-card-member-note" className="rounded-lg border bg-muted/60 p-4 text-sm leading-relaxed text-muted-foreground">
              {t("contacts.myCard.memberNote", { name: member.displayName })}
            </p>
          ) : (
            <fieldset className="flex flex-col gap-3 rounded-lg border p-4">
              <legend className="px-1 text-sm font-medium">{t("contacts.myCard.newCard")}</legend>
              <p className="-mt-1 text-xs leading-relaxed text-muted-foreground">{t("contacts.myCard.inviteHelp")}</p>
              <div className="flex flex-col gap-1.5">
                <span id="invite-kind-label" className="text-xs font-medium text-muted-foreground">
                  {t("contacts.myCard.inviteLabel")}
                </span>
                <ToggleGroup
                  type="single"
                  value={kind}
                  aria-labelledby="invite-kind-label"
                  onValueChange={(value) => {
                    if (value) setKind(value as InviteKind);
                  }}
                >
                  {INVITE_KINDS.map((option) => (
                    <ToggleGroupItem key={option} value={option} data-testid={`invite-${option}`}>
                      {t(`contacts.myCard.invite.${option}`)}
                    </ToggleGroupItem>
                  ))}
                </ToggleGroup>
              </div>
              <div className="flex flex-col gap-1.5">
                <span id="invite-expiry-label" className="text-xs font-medium text-muted-foreground">
                  {t("contacts.myCard.expiryLabel")}
                </span>
                <ToggleGroup
                  type="single"
                  value={expiry}
                  disabled={kind === "none"}
                  aria-labelledby="invite-expiry-label"
                  onValueChange={(value) => {
                    if (value) setExpiry(value as Expiry);
                  }}
                >
                  {EXPIRIES.map((option) => (
                    <ToggleGroupItem key={option} value={option} data-testid={`expiry-${option}`}>
                      {t(`contacts.myCard.expiry.${option}`)}
                    </ToggleGroupItem>
                  ))}
                </ToggleGroup>
              </div>
              {renew.isError && <FormError message={renew.error.message} />}
              <Button
                variant="outline"
                className="self-start"
                onClick={makeNewCard}
                disabled={renew.isPending}
                data-testid="my-card-new"
              >
                <RefreshCw className={renew.isPending ? "animate-spin" : undefined} aria-hidden />
                {renew.isPending ? t("contacts.myCard.making") : t("contacts.myCard.make")}
              </Button>
            </fieldset>
          )}
        </div>
      </div>
      {!member && <OpenInvites currentToken={card.data?.invite?.token ?? null} />}
    </div>
  );
}

function OpenInvites({ currentToken }: { currentToken: string | null }) {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const invites = useInvites();
  const now = useNow(30_000);
  const revoke = useMutation<void, BackendError, string>({
    mutationFn: (token) => backend.revokeInvite(token),
    onSettled: () => queryClient.invalidateQueries({ queryKey: contactQueryKeys.invites }),
  });
  const open = (invites.data ?? []).filter((invite) => isOpenInvite(invite, now));

  return (
    <section aria-labelledby="open-invites-title" className="flex flex-col gap-3 border-t pt-5">
      <h3 id="open-invites-title" className="flex items-center gap-2 text-sm font-semibold">
        <Ticket className="size-4 text-muted-foreground" aria-hidden />
        {t("contacts.invites.title")}
      </h3>
      {invites.isError ? (
        <FormError message={invites.error.message} />
      ) : invites.isPending ? (
        <Skeleton className="h-10 w-full" />
      ) : open.length === 0 ? (
        <p data-testid="invites-empty" className="text-sm text-muted-foreground">
          {t("contacts.invites.empty")}
        </p>
      ) : (
        <ul className="flex flex-col divide-y rounded-lg border" data-testid="invites-list">
          {open.map((invite) => (
            <InviteRow
              key={invite.token}
              invite={invite}
              onCard={invite.token === currentToken}
              locale={i18n.language}
              revoking={revoke.isPending && revoke.variables === invite.token}
              onRevoke={() => revoke.mutate(invite.token)}
            />
          ))}
        </ul>
      )}
      {revoke.isError && <FormError message={revoke.error.message} />}
    </section>
  );
}

function InviteRow({
  invite,
  onCard,
  locale,
  revoking,
  onRevoke,
}: {
  invite: OwnInvite;
  onCard: boolean;
  locale: string;
  revoking: boolean;
  onRevoke: () => void;
}) {
  const { t } = useTranslation();
  return (
    <li data-testid="invite-row" data-token={invite.token} className="flex items-center gap-3 px-3.5 py-2.5 text-sm">
      <div className="flex min-w-0 flex-1 flex-col gap-0.5">
        <p className="font-medium">
          {t(invite.reusable ? "contacts.myCard.invite.reusable" : "contacts.myCard.invite.oneTime")}
          {onCard && <span className="ml-2 text-xs font-normal text-muted-foreground">{t("contacts.invites.onCard")}</span>}
        </p>
        <p className="text-xs text-muted-foreground tabular-nums">
          {t("contacts.invites.expires", { date: formatDateTime(invite.expiresAtMs, locale) })} ·{" "}
          {t("contacts.invites.used", { count: invite.timesUsed })}
        </p>
      </div>
      <Button variant="outline" size="sm" onClick={onRevoke} disabled={revoking} data-testid="invite-revoke">
        {revoking ? t("contacts.invites.revoking") : t("contacts.invites.revoke")}
      </Button>
    </li>
  );
}
