import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useBackend, type Backend, type BackendError, type NodeStatus } from "@/backend";

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

/** Subscribes to node events for the app's lifetime and refreshes what they affect. */
export function useNodeEventRefresh(): void {
  const backend = useBackend();
  const queryClient = useQueryClient();
  useEffect(() => subscribeNodeEvents(backend, queryClient), [backend, queryClient]);
}

function subscribeNodeEvents(backend: Backend, queryClient: QueryClient): () => void {
  let unsubscribe: (() => void) | null = null;
  let closed = false;
  backend
    .onNodeEvent(() => {
      void queryClient.invalidateQueries({ queryKey: nodeQueryKeys.all });
    })
    .then(
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
