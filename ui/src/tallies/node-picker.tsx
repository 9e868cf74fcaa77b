import { Laptop, Lock, Monitor, Server } from "lucide-react";
import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { BackendError, CadreDevice, NodeChoice } from "@/backend";
import { useCadreDevices, useTallyNodeChoice } from "@/cadre/queries";
import { Skeleton } from "@/components/ui/skeleton";
import { shortenId } from "@/lib/ids";
import { cn } from "@/lib/utils";
import { usePeers } from "@/node/peers";

/** What the picker offers: the devices that may keep a tally, in the node's order, and the quorum sizes. */
export interface NodeOptions {
  /** The devices the node lets us name, this one first. */
  devices: CadreDevice[];
  /** `quorums[n - 1]`: how many of `n` named nodes must be up. */
  quorums: number[];
}

/** The node's choice, with each device's name and kind from the cadre list. */
export function nodeOptions(devices: CadreDevice[], choice: NodeChoice): NodeOptions {
  const byPeer = new Map(devices.map((device) => [device.peerId, device]));
  return { devices: choice.nodes.flatMap((peerId) => byPeer.get(peerId) ?? []), quorums: choice.quorums };
}

/** The devices and quorum sizes the node gives for naming a tally's nodes. */
export function useNodeOptions() {
  const devices = useCadreDevices();
  const choice = useTallyNodeChoice();
  const data = devices.data && choice.data ? nodeOptions(devices.data, choice.data) : undefined;
  const error = devices.error ?? choice.error;
  return { data, error, isError: error !== null, isPending: data === undefined && error === null };
}

/** How many of `count` named nodes must be up, as the node says. */
function quorumOf(options: NodeOptions, count: number): number {
  return options.quorums[count - 1] ?? count;
}

/**
 * The nodes to name: the ones `chosen` (when the person changed the choice) or
 * `initial`, kept to devices that may keep the tally and in their order, with
 * this device always among them. `null` while the devices are not known: the
 * node then names every device of the cadre.
 */
export function nodesToName(options: NodeOptions | undefined, chosen: string[] | null, initial: string[] | null): string[] | null {
  if (!options) return null;
  const available = options.devices;
  const every = available.map((device) => device.peerId);
  // An offer that names none of our devices for us (the partner had an old card): every device.
  const start = initial !== null && available.some((device) => initial.includes(device.peerId)) ? initial : every;
  const wanted = new Set(chosen ?? start);
  return available.filter((device) => device.thisDevice || wanted.has(device.peerId)).map((device) => device.peerId);
}

/**
 * "Nodes that keep this tally": the party's devices, each with its name, kind
 * and whether it is connected now, to tick. This device is always ticked and
 * cannot be unticked: it signs the party's chits. Says how many of the ticked
 * ones must be up for payments to go through.
 */
export function NodePicker({
  chosen,
  initial = null,
  onChange,
  testId = "node-picker",
}: {
  /** The peer ids the person ticked, or `null` while untouched. */
  chosen: string[] | null;
  /** What is ticked while untouched; `null`: every device. */
  initial?: string[] | null;
  onChange: (chosen: string[]) => void;
  testId?: string;
}) {
  const { t } = useTranslation();
  const options = useNodeOptions();
  const peers = usePeers();
  const helpId = useId();
  const connected = new Set((peers.data ?? []).map((peer) => peer.peerId));
  const named = nodesToName(options.data, chosen, initial);

  if (options.error) return <Unlisted error={options.error} testId={testId} />;
  if (!options.data || !named) {
    return (
      <div role="status" className="flex flex-col gap-2" data-testid={`${testId}-loading`}>
        <span className="sr-only">{t("tallies.nodes.loading")}</span>
        <Skeleton className="h-12 w-full" />
        <Skeleton className="h-12 w-full" />
      </div>
    );
  }

  const available = options.data.devices;
  const selected = new Set(named);
  const up = available.filter((device) => selected.has(device.peerId) && (device.thisDevice || connected.has(device.peerId))).length;
  const needed = quorumOf(options.data, named.length);
  const toggle = (device: CadreDevice, on: boolean) => {
    if (device.thisDevice) return;
    onChange(available.filter((entry) => (entry.peerId === device.peerId ? on : selected.has(entry.peerId))).map((entry) => entry.peerId));
  };

  return (
    <div className="flex flex-col gap-3" data-testid={testId}>
      <p id={helpId} className="text-sm text-muted-foreground" data-testid={`${testId}-help`}>
        {t("tallies.nodes.help")}
      </p>
      <ul aria-describedby={helpId} aria-label={t("tallies.nodes.title")} className="flex flex-col divide-y rounded-lg border bg-card">
        {available.map((device) => (
          <NodeChoice
            key={device.peerId}
            device={device}
            checked={selected.has(device.peerId)}
            online={device.thisDevice || connected.has(device.peerId)}
            known={device.thisDevice || peers.data !== undefined}
            onToggle={(on) => toggle(device, on)}
            testId={testId}
          />
        ))}
      </ul>
      <p className="text-xs text-muted-foreground" data-testid={`${testId}-quorum`}>
        {named.length === 1 ? t("tallies.nodes.quorumAlone") : t("tallies.nodes.quorum", { needed, count: named.length })}
      </p>
      {peers.data !== undefined && up < needed && (
        <p className="rounded-md border border-warning/40 bg-warning/10 px-3 py-2 text-xs" data-testid={`${testId}-short`}>
          {t("tallies.nodes.short", { count: up, needed })}
        </p>
      )}
    </div>
  );
}

function NodeChoice({
  device,
  checked,
  online,
  known,
  onToggle,
  testId,
}: {
  device: CadreDevice;
  checked: boolean;
  online: boolean;
  known: boolean;
  onToggle: (on: boolean) => void;
  testId: string;
}) {
  const { t } = useTranslation();
  const inputId = useId();
  const detailId = useId();
  const presenceId = useId();
  const Icon = device.kind === "headless" ? Server : device.kind === "desktop" || device.thisDevice ? Laptop : Monitor;
  const kind = deviceKindLabel(device, t);
  const presence = device.thisDevice
    ? t("tallies.nodes.alwaysUp")
    : !known
      ? t("tallies.nodes.unknown")
      : online
        ? t("tallies.network.up")
        : t("tallies.network.notConnected");
  return (
    <li
      data-testid={`${testId}-choice`}
      data-peer-id={device.peerId}
      data-checked={checked}
      data-this-device={device.thisDevice}
      data-online={known ? String(online) : "unknown"}
      className="flex items-center gap-3 px-3.5 py-3 text-sm"
    >
      <input
        id={inputId}
        type="checkbox"
        data-testid={`${testId}-input`}
        checked={checked}
        // This device stays checked: it signs the chits. It stays focusable, so
        // keyboard and screen reader users hear why it cannot change.
        aria-disabled={device.thisDevice || undefined}
        aria-describedby={`${detailId} ${presenceId}`}
        onChange={(event) => onToggle(event.target.checked)}
        className={cn(
          "size-4 shrink-0 accent-primary outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50",
          device.thisDevice && "cursor-not-allowed opacity-70",
        )}
      />
      <span aria-hidden className="flex size-8 shrink-0 items-center justify-center rounded-full bg-muted text-muted-foreground">
        <Icon className="size-4" />
      </span>
      <div className="flex min-w-0 flex-1 flex-col gap-0.5">
        <label htmlFor={inputId} className={cn("flex flex-wrap items-center gap-2", !device.thisDevice && "cursor-pointer")}>
          <span className="font-medium" data-testid={`${testId}-name`}>
            {device.name}
          </span>
          {kind && (
            <>
              <span className="sr-only">,</span>{" "}
              <span className="rounded-full border px-2 py-0.5 text-xs text-muted-foreground" data-testid={`${testId}-kind`}>
                {kind}
              </span>
            </>
          )}
        </label>
        <span id={detailId} className="flex min-w-0 flex-wrap items-center gap-x-3 gap-y-0.5 text-xs text-muted-foreground">
          <span className="truncate font-mono" title={device.peerId}>
            {shortenId(device.peerId)}
          </span>
          {device.thisDevice && (
            <span className="flex items-center gap-1" data-testid={`${testId}-locked`}>
              <Lock className="size-3" aria-hidden />
              {t("tallies.nodes.thisDeviceAlways")}
            </span>
          )}
        </span>
      </div>
      <span id={presenceId} className="flex shrink-0 items-center gap-2 text-xs" data-testid={`${testId}-presence`}>
        <span
          aria-hidden
          className={online && known ? "size-2 rounded-full bg-success" : "size-2 rounded-full border border-muted-foreground/60"}
        />
        {presence}
      </span>
    </li>
  );
}

/** "This device", "Headless node" or "Desktop app"; `null` when the kind is not known. */
export function deviceKindLabel(device: CadreDevice, t: (key: string) => string): string | null {
  if (device.thisDevice) return t("tallies.nodes.thisDevice");
  if (device.kind === "headless") return t("tallies.nodes.headless");
  if (device.kind === "desktop") return t("tallies.nodes.desktop");
  return null;
}

function Unlisted({ error, testId }: { error: BackendError; testId: string }) {
  const { t } = useTranslation();
  return (
    <p role="alert" className="rounded-md border bg-muted/50 px-3 py-2 text-sm" data-testid={`${testId}-unlisted`}>
      {t("tallies.nodes.unlisted", { message: error.message })}
    </p>
  );
}
