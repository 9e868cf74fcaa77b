import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type Contact } from "@/backend";
import { useToast } from "@/components/toaster";
import { navigateTo } from "@/navigation/route";
import { contactQueryKeys } from "./queries";

/** Adds the party of a previewed card, then shows them on the Contacts screen and says so. */
export function useAddContact(onAdded?: (contact: Contact) => void) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const notify = useToast();
  const { t } = useTranslation();
  return useMutation<Contact, BackendError, { link: string; known: boolean }>({
    mutationFn: ({ link }) => backend.addContact(link),
    onSuccess: async (contact, { known }) => {
      queryClient.setQueryData(contactQueryKeys.detail(contact.partyId), contact);
      await queryClient.invalidateQueries({ queryKey: contactQueryKeys.list });
      onAdded?.(contact);
      navigateTo("contacts", contact.partyId);
      notify(t(known ? "contacts.added.updated" : "contacts.added.new", { name: contact.displayName }));
    },
  });
}
