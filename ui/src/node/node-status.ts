import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import {
  useBackend,
  type Backend,
  type BackendError,
  type ContactPresence,
  type MessageView,
  type NodeEvent,
  type NodeStatus,
  type TallyChangedEvent,
} from "@/backend";
import { cadreQueryKeys } from "@/cadre/queries";
import { refreshAfterChat } from "@/chat/queries";
import { contactQueryKeys, myCardQueryKey, presenceOfEvent, withPresence } from "@/contacts/queries";
import { identityQueryKeys } from "@/identity/identity";
import { tallyQueryKeys } from "@/tallies/queries";
import { trustQueryKeys } from "@/trust/queries";
import { peerQueryKeys } from "./peers";

export const nodeQueryKeys = {
  all: ["node"] as const,
  status: ["node", "status"] as const,
};

/** How often the status is asked for when nothing happens; node events refresh it sooner. */
export const NODE_STATUS_REFETCH_MS = 2_000;

export function useNodeStatus() {
  const backend = useBackend();
  return useQuery<NodeStatus, BackendError>({
    queryKey: nodeQueryKeys.status,
    queryFn: () => backend.nodeStatus(),
    refetchInterval: NODE_STATUS_REFETCH_MS,
  });
}

/**
 * Subscribes to node events for the app's lifetime and refreshes what they
 * affect; a `tallymesh:` link handed to the node goes to `onLinkOpened`, and
 * every tally change, after the refresh, to `onTallyChanged`.
 */
export function useNodeEventRefresh(
  onLinkOpened?: (link: string) => void,
  onTallyChanged?: (event: TallyChangedEvent) => void,
  onChatMessage?: (message: MessageView) => void,
): void {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const linkHandler = useRef(onLinkOpened);
  const tallyHandler = useRef(onTallyChanged);
  const chatHandler = useRef(onChatMessage);
  useEffect(() => {
    linkHandler.current = onLinkOpened;
    tallyHandler.current = onTallyChanged;
    chatHandler.current = onChatMessage;
  }, [onLinkOpened, onTallyChanged, onChatMessage]);
  useEffect(
    () =>
      subscribeNodeEvents(backend, (event) => {
        if (event.kind === "linkOpened") linkHandler.current?.(event.link);
        else refreshAfter(event, queryClient);
        if (event.kind === "tallyChanged") tallyHandler.current?.(event);
        if (event.kind === "chatMessage") chatHandler.current?.(event.message as MessageView);
      }),
    [backend, queryClient],
  );
}

function refreshAfter(event: NodeEvent, queryClient: QueryClient): void {
  switch (event.kind) {
    case "identityChanged":
      queryClient.setQueryData(identityQueryKeys.state, event.identity);
      void queryClient.invalidateQueries({ queryKey: cadreQueryKeys.all });
      // A card is signed by the party: one made before the change is not mine any more.
      queryClient.removeQueries({ queryKey: myCardQueryKey });
      void queryClient.invalidateQueries({ queryKey: contactQueryKeys.all });
      break;
    case "contactsChanged":
      // Presence lives under the contacts, so it is fetched again too; peers name their contact.
      void queryClient.invalidateQueries({ queryKey: contactQueryKeys.all });
      void queryClient.invalidateQueries({ queryKey: peerQueryKeys.list });
      // The trust list names contacts and lists every one of them.
      void queryClient.invalidateQueries({ queryKey: trustQueryKeys.all });
      return;
    case "trustChanged":
    case "evidenceKept":
      void queryClient.invalidateQueries({ queryKey: trustQueryKeys.all });
      return;
    case "invitesChanged":
      void queryClient.invalidateQueries({ queryKey: contactQueryKeys.invites });
      return;
    case "cadreChanged":
      // The party's card lists its devices: one made before the change is out of date.
      queryClient.removeQueries({ queryKey: myCardQueryKey });
      void queryClient.invalidateQueries({ queryKey: cadreQueryKeys.all });
      break;
    case "presenceChanged": {
      const presence = presenceOfEvent(event);
      // Without a list yet there is nothing to update: the first fetch brings it all.
      queryClient.setQueryData<ContactPresence[]>(contactQueryKeys.presence, (list) =>
        list ? withPresence(list, presence) : list,
      );
      void queryClient.invalidateQueries({ queryKey: peerQueryKeys.list });
      return;
    }
    case "peerConnected":
    case "peerDisconnected":
      void queryClient.invalidateQueries({ queryKey: peerQueryKeys.list });
      break;
    case "tallyChanged":
      // The list, the tally, its chits and the net position all follow from it.
      void queryClient.invalidateQueries({ queryKey: tallyQueryKeys.all });
      return;
    case "chatMessage":
    case "chatTyping":
    case "chatConversationsChanged":
      refreshAfterChat(event, queryClient);
      return;
    case "blockCertified":
    case "entryCertified":
    case "entryRefused":
      // Ledger blocks: the tally screens hear of them as `tallyChanged`.
      return;
    default:
      break;
  }
  void queryClient.invalidateQueries({ queryKey: nodeQueryKeys.all });
}

function subscribeNodeEvents(backend: Backend, onEvent: (event: NodeEvent) => void): () => void {
  let unsubscribe: (() => void) | null = null;
  let closed = false;
  backend.onNodeEvent(onEvent).then(
    (stop) => {
      // The effect may have been cleaned up while the subscription was being made.
      if (closed) stop();
      else unsubscribe = stop;
    },
    () => {
      // No event stream: the periodic refresh still keeps the status current.
    },
  );
  return () => {
    closed = true;
    unsubscribe?.();
  };
}
