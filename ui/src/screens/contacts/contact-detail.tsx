import { useMutation, useQueryClient } from "@tanstack/react-query";
import { BadgeCheck, ShieldCheck, Trash2 } from "lucide-react";
import { useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type Contact } from "@/backend";
import { Avatar } from "@/components/avatar";
import { CopyButton } from "@/components/copy-button";
import { FormError } from "@/components/form-error";
import { useToast } from "@/components/toaster";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { PRESENCE_TICK_MS, PresenceDot, PresenceText } from "@/contacts/presence";
import { contactQueryKeys, useContact, useContacts, useContactsPresence } from "@/contacts/queries";
import { formatDateTime } from "@/i18n/format";
import { useIdentity } from "@/identity/identity";
import { useNow } from "@/lib/use-now";
import { AttestDialog } from "@/trust/attest-dialog";
import { TrustBadge } from "@/trust/trust-badge";
import { TrustPanel } from "@/trust/trust-panel";

/** One contact in full: the verified party id, devices, addresses, and the way to forget them. */
export function ContactDetail({ partyId, onClosed }: { partyId: string; onClosed: () => void }) {
  const { t } = useTranslation();
  const list = useContacts();
  const detail = useContact(partyId);
  // The list already knows the contact; the detail call confirms it and brings it up to date.
  const contact = detail.data ?? list.data?.find((entry) => entry.partyId === partyId);

  if (!contact) {
    if (detail.isError) {
      return (
        <div data-testid="contact-missing" className="flex flex-col items-start gap-3">
          <FormError message={detail.error.message} className="w-full" />
          <Button variant="outline" size="sm" onClick={onClosed}>
            {t("contacts.detail.back")}
          </Button>
        </div>
      );
    }
    return (
      <Card className="gap-4 p-6" aria-busy>
        <Skeleton className="h-10 w-1/2" />
        <Skeleton className="h-4 w-full" />
        <Skeleton className="h-4 w-2/3" />
      </Card>
    );
  }
  return (
    <div className="flex flex-col gap-6">
      <ContactCard key={contact.partyId} contact={contact} onRemoved={onClosed} />
      <ContactTrust key={`trust-${contact.partyId}`} contact={contact} />
    </div>
  );
}

/** How far this node trusts the contact and why, and the way to vouch for them. */
function ContactTrust({ contact }: { contact: Contact }) {
  const { t } = useTranslation();
  const identity = useIdentity();
  const [open, setOpen] = useState(false);
  const canAttest = identity.data?.state === "ready";
  return (
    <Card data-testid="contact-trust" className="gap-4 p-6">
      <h3 className="flex items-center gap-2 text-base font-semibold">
        <ShieldCheck className="size-[18px] text-primary" aria-hidden />
        {t("trust.contactTitle")}
      </h3>
      <TrustPanel
        subject={contact.partyId}
        actions={
          canAttest ? (
            <Button variant="outline" data-testid="contact-attest" onClick={() => setOpen(true)}>
              {t("trust.attest.open")}
            </Button>
          ) : undefined
        }
      />
      {canAttest && (
        <AttestDialog partyId={contact.partyId} name={contact.displayName} open={open} onOpenChange={setOpen} />
      )}
    </Card>
  );
}

function ContactCard({ contact, onRemoved }: { contact: Contact; onRemoved: () => void }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  return (
    <Card data-testid="contact-detail" className="gap-0 py-0">
      <header className="flex items-start gap-4 border-b px-6 py-5">
        <Avatar name={contact.displayName} seed={contact.partyId} className="size-12 text-base" />
        <div className="flex min-w-0 flex-1 flex-col gap-1">
          <div className="flex min-w-0 items-center gap-2">
            <h2 data-testid="contact-detail-name" className="truncate text-lg font-semibold tracking-tight">
              {contact.displayName}
            </h2>
            <TrustBadge partyId={contact.partyId} name={contact.displayName} />
          </div>
          <p className="flex items-center gap-1.5 text-xs text-muted-foreground">
            <BadgeCheck className="size-3.5 text-primary" aria-hidden />
            {t("contacts.detail.verified")}
          </p>
          <ContactPresenceLine partyId={contact.partyId} />
        </div>
        <RemoveContact contact={contact} onRemoved={onRemoved} />
      </header>
      <dl className="flex flex-col divide-y px-6 text-sm">
        <DetailRow label={t("identity.partyId")}>
          <div className="flex items-start gap-1">
            <span data-testid="contact-detail-party-id" className="min-w-0 font-mono text-[13px] break-all">
              {contact.partyId}
            </span>
            <CopyButton value={contact.partyId} label={t("copy.partyId")} className="-my-1" />
          </div>
        </DetailRow>
        <DetailRow label={t("contacts.fields.fingerprint")}>
          <span className="font-mono text-[13px]">{contact.fingerprint}</span>
        </DetailRow>
        <DetailRow label={t("contacts.fields.devices")}>
          <span data-testid="contact-detail-devices" className="tabular-nums">
            {t("contacts.devices", { count: contact.devices })}
          </span>
        </DetailRow>
        <DetailRow label={t("contacts.fields.addresses")}>
          {contact.addresses.length > 0 ? (
            <ul data-testid="contact-detail-addresses" className="flex flex-col gap-1 font-mono text-[13px]">
              {contact.addresses.map((address) => (
                <li key={address} className="break-all">
                  {address}
                </li>
              ))}
            </ul>
          ) : (
            <span className="text-muted-foreground">{t("contacts.detail.noAddresses")}</span>
          )}
        </DetailRow>
        <DetailRow label={t("contacts.fields.added")}>
          <span className="tabular-nums">{formatDateTime(contact.addedAtMs, locale)}</span>
        </DetailRow>
        <DetailRow label={t("contacts.fields.signed")}>
          <span className="tabular-nums">{formatDateTime(contact.cardIssuedAtMs, locale)}</span>
        </DetailRow>
      </dl>
    </Card>
  );
}

/** Whether the contact is online now, or when they were last seen; nothing until the node has said. */
function ContactPresenceLine({ partyId }: { partyId: string }) {
  const presence = useContactsPresence();
  const now = useNow(PRESENCE_TICK_MS);
  const seen = presence.data?.find((entry) => entry.partyId === partyId);
  if (!seen) return null;
  return (
    <p className="flex min-w-0 items-center gap-2 text-sm">
      <PresenceDot presence={seen} />
      <PresenceText presence={seen} now={now} testId="contact-detail-presence" />
    </p>
  );
}

function DetailRow({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-1 gap-1.5 py-3.5 sm:grid-cols-[9rem_minmax(0,1fr)] sm:gap-4">
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </div>
  );
}

function RemoveContact({ contact, onRemoved }: { contact: Contact; onRemoved: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const notify = useToast();
  const [open, setOpen] = useState(false);
  const remove = useMutation<void, BackendError, string>({
    mutationFn: (partyId) => backend.removeContact(partyId),
    onSuccess: (_, partyId) => {
      setOpen(false);
      queryClient.removeQueries({ queryKey: contactQueryKeys.detail(partyId) });
      void queryClient.invalidateQueries({ queryKey: contactQueryKeys.list });
      notify(t("contacts.remove.done", { name: contact.displayName }));
      onRemoved();
    },
  });
  return (
    <AlertDialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) remove.reset();
      }}
    >
      <AlertDialogTrigger asChild>
        <Button variant="ghost" size="sm" data-testid="contact-remove" className="hover:text-destructive">
          <Trash2 aria-hidden />
          {t("contacts.remove.action")}
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>{t("contacts.remove.title", { name: contact.displayName })}</AlertDialogTitle>
          <AlertDialogDescription>{t("contacts.remove.body")}</AlertDialogDescription>
        </AlertDialogHeader>
        {remove.isError && <FormError message={remove.error.message} />}
        <AlertDialogFooter>
          <AlertDialogCancel>{t("dialog.cancel")}</AlertDialogCancel>
          <AlertDialogAction
            variant="destructive"
            data-testid="contact-remove-confirm"
            disabled={remove.isPending}
            onClick={(event) => {
              // Stays open until the node has answered, so a refusal can be read here.
              event.preventDefault();
              remove.mutate(contact.partyId);
            }}
          >
            {remove.isPending ? t("contacts.remove.removing") : t("contacts.remove.confirm")}
          </AlertDialogAction>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
