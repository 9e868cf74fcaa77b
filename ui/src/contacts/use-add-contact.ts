import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type Contact } from "@/backend";
import { useToast } from "@/components/toaster";
import { navigateTo } from "@/navigation/route";
import { contactQueryKeys } from "./queries";

/** What to do with a previewed card. */
export interface AddContactRequest {
  /** The card's link, as the preview gave it. */
  link: string;
  /** Whether the party is a contact already (adding again keeps the newer card). */
  known: boolean;
  /** Redeem the card's invite: reach the party's devices so each keeps the other's card. */
  connect: boolean;
}

/**
 * Adds the party of a previewed card — redeeming its invite over the network,
 * or keeping the card without reaching them — then shows them on the Contacts
 * screen and says so.
 */
export function useAddContact(onAdded?: (contact: Contact) => void) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const notify = useToast();
  const { t } = useTranslation();
  return useMutation<Contact, BackendError, AddContactRequest>({
    mutationFn: ({ link, connect }) => (connect ? backend.redeemContact(link) : backend.addContact(link)),
    onSuccess: async (contact, { known, connect }) => {
      queryClient.setQueryData(contactQueryKeys.detail(contact.partyId), contact);
      await queryClient.invalidateQueries({ queryKey: contactQueryKeys.list });
      onAdded?.(contact);
      navigateTo("contacts", contact.partyId);
      const message = known ? "contacts.added.updated" : connect ? "contacts.added.connected" : "contacts.added.new";
      notify(t(message, { name: contact.displayName }));
    },
  });
}
