import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  useBackend,
  type Attest,
  type AttestationView,
  type BackendError,
  type EvidenceView,
  type TrustDetail,
  type TrustScore,
} from "@/backend";

export const trustQueryKeys = {
  all: ["trust"] as const,
  list: ["trust", "list"] as const,
  detail: (subject: string) => ["trust", "detail", subject] as const,
  evidence: ["trust", "evidence"] as const,
};

/** Every score the node keeps, and every contact's; `trustChanged` events refresh it. */
export function useTrustList() {
  const backend = useBackend();
  return useQuery<TrustScore[], BackendError>({
    queryKey: trustQueryKeys.list,
    queryFn: () => backend.trustList(),
  });
}

/** One subject's score with the events, attestations and evidence behind it. */
export function useTrust(subject: string | null) {
  const backend = useBackend();
  return useQuery<TrustDetail, BackendError>({
    queryKey: trustQueryKeys.detail(subject ?? ""),
    queryFn: () => backend.trust(subject ?? ""),
    enabled: subject !== null,
  });
}

export function useEvidence() {
  const backend = useBackend();
  return useQuery<EvidenceView[], BackendError>({
    queryKey: trustQueryKeys.evidence,
    queryFn: () => backend.evidence(),
  });
}

/** Signs an attestation; everything trust shows is fetched again afterwards. */
export function useAttest() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  return useMutation<AttestationView, BackendError, Attest>({
    mutationFn: (attest) => backend.attest(attest),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: trustQueryKeys.all }),
  });
}

/** A score as a whole percentage, for people: 0.572 → "57". */
export function scorePercent(score: number): number {
  return Math.round(Math.min(1, Math.max(0, score)) * 100);
}
