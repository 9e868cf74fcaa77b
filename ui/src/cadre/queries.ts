import { useQuery } from "@tanstack/react-query";
import { useBackend, type BackendError, type CadreDevice } from "@/backend";

export const cadreQueryKeys = {
  all: ["cadre"] as const,
  devices: ["cadre", "devices"] as const,
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
