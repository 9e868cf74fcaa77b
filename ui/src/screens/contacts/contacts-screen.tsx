import { QrCode, Search, UserPlus, Users } from "lucide-react";
import { useDeferredValue, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Contact } from "@/backend";
import { Avatar } from "@/components/avatar";
import { CopyButton } from "@/components/copy-button";
import { ErrorPanel } from "@/components/error-panel";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { PRESENCE_TICK_MS, PresenceDot, PresenceText } from "@/contacts/presence";
import { useContacts, useContactsPresence } from "@/contacts/queries";
import { useNow } from "@/lib/use-now";
import { cn } from "@/lib/utils";
import { useRoute } from "@/navigation/route";
import { AddContactDialog } from "./add-contact-dialog";
import { ContactDetail } from "./contact-detail";
import { MyCardDialog } from "./my-card-dialog";
import { TrustBadge } from "@/trust/trust-badge";

/** Lower case without accents, so "lucia" finds "Lucía". */
function folded(text: string): string {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLocaleLowerCase();
}

export function matchesContact(contact: Contact, query: string): boolean {
  const wanted = folded(query.trim());
  if (!wanted) return true;
  return folded(contact.displayName).includes(wanted) || contact.partyId.toLowerCase().includes(wanted.toLowerCase());
}

export function ContactsScreen() {
  const { t } = useTranslation();
  const { param: selected, navigate } = useRoute();
  const [addOpen, setAddOpen] = useState(false);
  const [cardOpen, setCardOpen] = useState(false);
  const contacts = useContacts();
  const hasContacts = (contacts.data?.length ?? 0) > 0;

  return (
    <div data-testid="contacts-screen">
      <PageHeader
        title={t("contacts.title")}
        description={t("contacts.subtitle")}
        actions={
          <>
            <Button variant="outline" onClick={() => setCardOpen(true)} data-testid="my-card-open">
              <QrCode aria-hidden />
              {t("contacts.myCard.open")}
            </Button>
            <Button onClick={() => setAddOpen(true)} data-testid="add-contact-open">
              <UserPlus aria-hidden />
              {t("contacts.add.open")}
            </Button>
          </>
        }
      />
      <div className="grid items-start gap-6 lg:grid-cols-[20rem_minmax(0,1fr)]">
        <ContactList
          selected={selected}
          onSelect={(partyId) => navigate("contacts", partyId)}
          onAdd={() => setAddOpen(true)}
          onShowCard={() => setCardOpen(true)}
        />
        {selected ? (
          <ContactDetail partyId={selected} onClosed={() => navigate("contacts")} />
        ) : hasContacts ? (
          <div className="hidden min-h-64 flex-col items-center justify-center gap-2 rounded-xl border border-dashed p-8 text-center text-sm text-muted-foreground lg:flex">
            <Users className="size-6" aria-hidden />
            {t("contacts.chooseOne")}
          </div>
        ) : null}
      </div>
      <AddContactDialog open={addOpen} onOpenChange={setAddOpen} />
      <MyCardDialog open={cardOpen} onOpenChange={setCardOpen} />
    </div>
  );
}

function ContactList({
  selected,
  onSelect,
  onAdd,
  onShowCard,
}: {
  selected: string | null;
  onSelect: (partyId: string) => void;
  onAdd: () => void;
  onShowCard: () => void;
}) {
  const { t } = useTranslation();
  const contacts = useContacts();
  const presence = useContactsPresence();
  const presenceByParty = useMemo(
    () => new Map((presence.data ?? []).map((entry) => [entry.partyId, entry])),
    [presence.data],
  );
  const now = useNow(PRESENCE_TICK_MS);
  const [query, setQuery] = useState("");
  const deferredQuery = useDeferredValue(query);
  const shown = useMemo(
    () => (contacts.data ?? []).filter((contact) => matchesContact(contact, deferredQuery)),
    [contacts.data, deferredQuery],
  );

  if (contacts.isError) {
    return <ErrorPanel error={contacts.error} onRetry={() => void contacts.refetch()} retrying={contacts.isFetching} />;
  }

  if (contacts.isSuccess && contacts.data.length === 0) {
    return (
      <div
        data-testid="contacts-empty"
        className="flex flex-col items-start gap-4 rounded-xl border border-dashed bg-card p-6 lg:col-span-2"
      >
        <span className="flex size-10 items-center justify-center rounded-lg bg-brand-soft text-brand-soft-foreground">
          <Users className="size-5" aria-hidden />
        </span>
        <div className="flex flex-col gap-1.5">
          <h2 className="font-semibold">{t("contacts.empty.title")}</h2>
          <p className="text-sm leading-relaxed text-muted-foreground">{t("contacts.empty.body")}</p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button variant="outline" onClick={onShowCard}>
            <QrCode aria-hidden />
            {t("contacts.empty.share")}
          </Button>
          <Button onClick={onAdd}>
            <UserPlus aria-hidden />
            {t("contacts.empty.add")}
          </Button>
        </div>
      </div>
    );
  }

  return (
    <section aria-labelledby="contacts-list-title" className="flex flex-col gap-3 rounded-xl border bg-card p-3 shadow-xs">
      <h2 id="contacts-list-title" className="sr-only">
        {t("contacts.listLabel")}
      </h2>
      <div className="relative">
        <Search className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-muted-foreground" aria-hidden />
        <Input
          type="search"
          data-testid="contacts-search"
          aria-label={t("contacts.search.label")}
          placeholder={t("contacts.search.placeholder")}
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          className="pl-9"
        />
      </div>
      {contacts.isPending ? (
        <div role="status" className="flex flex-col gap-1" data-testid="contacts-loading">
          <span className="sr-only">{t("contacts.loading")}</span>
          {[0, 1, 2].map((row) => (
            <div key={row} className="flex items-center gap-3 px-2 py-2">
              <Skeleton className="size-9 rounded-full" />
              <div className="flex flex-1 flex-col gap-1.5">
                <Skeleton className="h-4 w-2/3" />
                <Skeleton className="h-3 w-1/3" />
              </div>
            </div>
          ))}
        </div>
      ) : shown.length === 0 ? (
        <p data-testid="contacts-no-match" className="px-2 py-6 text-center text-sm text-muted-foreground">
          {t("contacts.search.none", { query: deferredQuery.trim() })}
        </p>
      ) : (
        <ul className="flex flex-col gap-0.5" aria-label={t("contacts.listLabel")}>
          {shown.map((contact) => {
            const active = contact.partyId === selected;
            // Unknown until the node has said: no dot rather than a guess.
            const seen = presenceByParty.get(contact.partyId);
            return (
              <li key={contact.partyId} className="group relative flex items-center">
                <button
                  type="button"
                  data-testid="contact-row"
                  data-party-id={contact.partyId}
                  data-online={seen ? String(seen.online) : undefined}
                  aria-current={active ? "true" : undefined}
                  onClick={() => onSelect(contact.partyId)}
                  className={cn(
                    "flex w-full min-w-0 cursor-pointer items-center gap-3 rounded-lg px-2 py-2 pr-10 text-left outline-none transition-colors focus-visible:ring-[3px] focus-visible:ring-ring/50",
                    active ? "bg-accent text-accent-foreground" : "hover:bg-muted",
                  )}
                >
                  <span className="relative shrink-0">
                    <Avatar name={contact.displayName} seed={contact.partyId} />
                    {seen && (
                      <PresenceDot presence={seen} className="absolute -right-0.5 -bottom-0.5 ring-2 ring-card" />
                    )}
                  </span>
                  <span className="flex min-w-0 flex-col">
                    <span className="flex min-w-0 items-center gap-2">
                      <span className="truncate text-sm font-medium" title={contact.displayName}>
                        {contact.displayName}
                      </span>
                      <TrustBadge partyId={contact.partyId} name={contact.displayName} still />
                    </span>
                    <span className="flex min-w-0 items-baseline gap-1.5 text-xs text-muted-foreground">
                      <span className="shrink-0 font-mono" title={contact.partyId}>
                        …{contact.fingerprint}
                      </span>
                      {seen && (
                        <>
                          <span aria-hidden>·</span>
                          <PresenceText presence={seen} now={now} testId="contact-row-presence" />
                        </>
                      )}
                    </span>
                  </span>
                </button>
                <CopyButton
                  value={contact.partyId}
                  label={t("contacts.copyPartyIdOf", { name: contact.displayName })}
                  className="absolute right-1.5 opacity-0 group-focus-within:opacity-100 group-hover:opacity-100 focus-visible:opacity-100"
                />
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
