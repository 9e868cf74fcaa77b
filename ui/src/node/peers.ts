import { useQuery } from "@tanstack/react-query";
import { useBackend, type BackendError, type PeerInfo } from "@/backend";

export const peerQueryKeys = {
  list: ["peers", "list"] as const,
};

/**
 * How often the peers are asked for when no event says they changed: a
 * stranger's round trip changes without one.
 */
export const PEERS_REFETCH_MS = 10_000;

/** The peers connected now, contacts' devices first. */
export function usePeers() {
  const backend = useBackend();
  return useQuery<PeerInfo[], BackendError>({
    queryKey: peerQueryKeys.list,
    queryFn: () => backend.networkPeers(),
    refetchInterval: PEERS_REFETCH_MS,
  });
}
