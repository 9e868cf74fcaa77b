import { useQuery } from "@tanstack/react-query";
import { useBackend, type BackendError, type CadreDevice, type NodeChoice } from "@/backend";

export const cadreQueryKeys = {
  all: ["cadre"] as const,
  devices: ["cadre", "devices"] as const,
  nodeChoice: ["cadre", "nodeChoice"] as const,
};

/** The party's devices, this one first; `cadreChanged` events keep the list current. */
export function useCadreDevices(enabled = true) {
  const backend = useBackend();
  return useQuery<CadreDevice[], BackendError>({
    queryKey: cadreQueryKeys.devices,
    queryFn: () => backend.cadreDevices(),
    enabled,
  });
}

/** The devices that may keep a new tally and the quorum sizes, as the node says; cadre changes refresh it. */
export function useTallyNodeChoice(enabled = true) {
  const backend = useBackend();
  return useQuery<NodeChoice, BackendError>({
    queryKey: cadreQueryKeys.nodeChoice,
    queryFn: () => backend.tallyNodeChoice(),
    enabled,
  });
}
