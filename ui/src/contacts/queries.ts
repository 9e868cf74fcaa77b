import { useQuery } from "@tanstack/react-query";
import {
  useBackend,
  type BackendError,
  type Contact,
  type ContactPresence,
  type MyCard,
  type NodeEvent,
  type OwnInvite,
} from "@/backend";

export const contactQueryKeys = {
  all: ["contacts"] as const,
  list: ["contacts", "list"] as const,
  detail: (partyId: string) => ["contacts", "detail", partyId] as const,
  invites: ["contacts", "invites"] as const,
  /** Under the contacts, so whatever refreshes them refreshes who is online too. */
  presence: ["contacts", "presence"] as const,
};

/**
 * My card lives apart from the contacts: every fetch signs a new card (and,
 * with an invite, makes a new invite), so it is fetched once and made again
 * only when the person asks for a new one.
 */
export const myCardQueryKey = ["myCard"] as const;

export function useContacts() {
  const backend = useBackend();
  return useQuery<Contact[], BackendError>({
    queryKey: contactQueryKeys.list,
    queryFn: () => backend.contacts(),
  });
}

export function useContact(partyId: string | null) {
  const backend = useBackend();
  return useQuery<Contact, BackendError>({
    queryKey: contactQueryKeys.detail(partyId ?? ""),
    queryFn: () => backend.contact(partyId ?? ""),
    enabled: partyId !== null,
  });
}

/** Every contact's presence; `presenceChanged` events keep it current between fetches. */
export function useContactsPresence() {
  const backend = useBackend();
  return useQuery<ContactPresence[], BackendError>({
    queryKey: contactQueryKeys.presence,
    queryFn: () => backend.contactsPresence(),
  });
}

/** The presence a `presenceChanged` event carries, with what the node left out as `null`. */
export function presenceOfEvent(event: Extract<NodeEvent, { kind: "presenceChanged" }>): ContactPresence {
  const { partyId, online, rttMs, lastSeenMs } = event.presence;
  return { partyId, online, rttMs: rttMs ?? null, lastSeenMs: lastSeenMs ?? null };
}

/** The list with `presence` in place of the contact's entry, or added for a contact it did not have. */
export function withPresence(list: ContactPresence[], presence: ContactPresence): ContactPresence[] {
  const known = list.some((entry) => entry.partyId === presence.partyId);
  return known ? list.map((entry) => (entry.partyId === presence.partyId ? presence : entry)) : [...list, presence];
}

export function useInvites() {
  const backend = useBackend();
  return useQuery<OwnInvite[], BackendError>({
    queryKey: contactQueryKeys.invites,
    queryFn: () => backend.invites(),
  });
}

export function useMyCard() {
  const backend = useBackend();
  return useQuery<MyCard, BackendError>({
    queryKey: myCardQueryKey,
    queryFn: () => backend.myCard(null),
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    retry: false,
  });
}

/** Whether an invite can still be redeemed: not withdrawn, not expired, and a one-time one not yet used. */
export function isOpenInvite(invite: OwnInvite, now: number): boolean {
  return !invite.revoked && invite.expiresAtMs > now && (invite.reusable || invite.timesUsed === 0);
}
