import { useTranslation } from "react-i18next";
import type { CadreDevice, TallyDetail } from "@/backend";
import { useCadreDevices } from "@/cadre/queries";
import { CopyButton } from "@/components/copy-button";
import { shortenId } from "@/lib/ids";
import { cn } from "@/lib/utils";
import { useNodeStatus } from "@/node/node-status";
import { usePeers } from "@/node/peers";
import { deviceKindLabel } from "./node-picker";

/**
 * The nodes each party named for the tally, and which are connected now. Ours
 * show the device's name and kind; one the tally names for us that is not a
 * device of ours now (revoked, or an offer made from an old card) says so.
 */
export function TallyNodes({ detail }: { detail: TallyDetail }) {
  const { t } = useTranslation();
  const peers = usePeers();
  const status = useNodeStatus();
  const cadre = useCadreDevices();
  const connected = new Set((peers.data ?? []).map((peer) => peer.peerId));
  if (status.data) connected.add(status.data.peerId);
  const devices = new Map((cadre.data ?? []).map((device) => [device.peerId, device]));
  return (
    <div className="grid gap-6 md:grid-cols-2" data-testid="tally-nodes">
      <NodeList
        side="ours"
        title={t("tallies.network.ours")}
        nodes={detail.ourNodes}
        connected={connected}
        deviceOf={(node) => devices.get(node)}
        devicesKnown={cadre.data !== undefined}
      />
      <NodeList
        side="theirs"
        title={t("tallies.network.theirs", { name: detail.summary.partnerName })}
        nodes={detail.theirNodes}
        connected={connected}
        deviceOf={() => undefined}
        devicesKnown={false}
      />
    </div>
  );
}

function NodeList({
  side,
  title,
  nodes,
  connected,
  deviceOf,
  devicesKnown,
}: {
  side: "ours" | "theirs";
  title: string;
  nodes: string[];
  connected: Set<string>;
  deviceOf: (node: string) => CadreDevice | undefined;
  devicesKnown: boolean;
}) {
  const { t } = useTranslation();
  return (
    <section className="flex flex-col gap-2" data-testid={`tally-nodes-${side}`}>
      <h3 className="text-sm font-semibold">{title}</h3>
      {nodes.length === 0 ? (
        <p className="text-sm text-muted-foreground">{t("tallies.network.none")}</p>
      ) : (
        <ul className="flex flex-col divide-y rounded-lg border bg-card text-sm">
          {nodes.map((node) => {
            const up = connected.has(node);
            const device = deviceOf(node);
            const stranger = devicesKnown && (!device || device.revoked);
            const kind = device ? deviceKindLabel(device, t) : null;
            return (
              <li key={node} className="flex items-center gap-3 px-4 py-2.5" data-testid="tally-node" data-peer-id={node} data-up={up}>
                <span aria-hidden className={cn("size-2 shrink-0 rounded-full", up ? "bg-success" : "bg-muted-foreground/50")} />
                <span className="flex min-w-0 flex-1 flex-col gap-0.5">
                  {device && !device.revoked ? (
                    <span className="flex flex-wrap items-center gap-2">
                      <span className="truncate font-medium" data-testid="tally-node-name">
                        {device.name}
                      </span>
                      {kind && (
                        <span className="rounded-full border px-2 py-px text-[11px] text-muted-foreground" data-testid="tally-node-kind">
                          {kind}
                        </span>
                      )}
                    </span>
                  ) : null}
                  <span className={cn("truncate font-mono text-[13px]", device && !device.revoked && "text-xs text-muted-foreground")} title={node}>
                    {shortenId(node)}
                  </span>
                  {stranger && (
                    <span className="text-xs text-destructive" data-testid="tally-node-stranger">
                      {t("tallies.nodes.notOurs")}
                    </span>
                  )}
                </span>
                <span className="text-xs text-muted-foreground">{up ? t("tallies.network.up") : t("tallies.network.notConnected")}</span>
                <CopyButton value={node} label={t("copy.peerId")} />
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
