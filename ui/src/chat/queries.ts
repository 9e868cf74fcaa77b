import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useBackend, type BackendError, type ConversationView, type MessageView, type NodeEvent } from "@/backend";

export const chatQueryKeys = {
  all: ["chat"] as const,
  conversations: ["chat", "conversations"] as const,
  messages: (id: string) => ["chat", "messages", id] as const,
  typing: (id: string) => ["chat-typing", id] as const,
};

/** How many of a thread's latest messages are shown. */
export const THREAD_SIZE = 200;

export function useConversations() {
  const backend = useBackend();
  return useQuery<ConversationView[], BackendError>({
    queryKey: chatQueryKeys.conversations,
    queryFn: () => backend.chatConversations(),
  });
}

export function useMessages(id: string) {
  const backend = useBackend();
  return useQuery<MessageView[], BackendError>({
    queryKey: chatQueryKeys.messages(id),
    queryFn: () => backend.chatMessages(id, null, THREAD_SIZE),
  });
}

/** The party ids typing in a conversation now (never stored; told by `chatTyping`). */
export function useTyping(id: string): string[] {
  const queryClient = useQueryClient();
  const query = useQuery<string[]>({
    queryKey: chatQueryKeys.typing(id),
    queryFn: () => queryClient.getQueryData<string[]>(chatQueryKeys.typing(id)) ?? [],
    staleTime: Infinity,
  });
  return query.data ?? [];
}

/** How long a "typing" lasts without a new word from the typist. */
export const TYPING_MS = 8_000;

/** What a chat event changes in the screens' data. */
export function refreshAfterChat(event: NodeEvent, queryClient: QueryClient): void {
  switch (event.kind) {
    case "chatMessage":
      void queryClient.invalidateQueries({ queryKey: chatQueryKeys.messages(event.message.conversation) });
      void queryClient.invalidateQueries({ queryKey: chatQueryKeys.conversations });
      if (!event.message.outgoing && event.message.senderPartyId) {
        // Their message ends their typing.
        const sender = event.message.senderPartyId;
        queryClient.setQueryData<string[]>(chatQueryKeys.typing(event.message.conversation), (typing) =>
          (typing ?? []).filter((party) => party !== sender),
        );
      }
      return;
    case "chatConversationsChanged":
      void queryClient.invalidateQueries({ queryKey: chatQueryKeys.conversations });
      return;
    case "chatTyping": {
      const { conversation, partyId, typing } = event;
      queryClient.setQueryData<string[]>(chatQueryKeys.typing(conversation), (now) => {
        const others = (now ?? []).filter((party) => party !== partyId);
        return typing ? [...others, partyId] : others;
      });
      if (typing) {
        setTimeout(() => {
          queryClient.setQueryData<string[]>(chatQueryKeys.typing(conversation), (now) =>
            (now ?? []).filter((party) => party !== partyId),
          );
        }, TYPING_MS);
      }
      return;
    }
    default:
      return;
  }
}
