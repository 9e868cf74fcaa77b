import { useQuery } from "@tanstack/react-query";
import { useBackend, type BackendError, type IdentityState } from "@/backend";

export const identityQueryKeys = {
  state: ["identity"] as const,
};

/** How often a node that could not say whom it acts for is asked again. */
const IDENTITY_RETRY_MS = 3_000;

/** Whom the node acts for; `identityChanged` events keep it current. */
export function useIdentity() {
  const backend = useBackend();
  return useQuery<IdentityState, BackendError>({
    queryKey: identityQueryKeys.state,
    queryFn: () => backend.identityState(),
    staleTime: Number.POSITIVE_INFINITY,
    refetchInterval: (query) => (query.state.status === "error" ? IDENTITY_RETRY_MS : false),
  });
}
