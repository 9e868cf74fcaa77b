import { Globe, Laptop, Monitor, MonitorSmartphone, Network, Server, ShieldQuestion, Users, Waypoints, Workflow } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { CadreDevice, NodeStatus, PeerInfo, Reachability } from "@/backend";
import { useCadreDevices } from "@/cadre/queries";
import { Avatar } from "@/components/avatar";
import { CopyButton } from "@/components/copy-button";
import { ErrorPanel } from "@/components/error-panel";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { formatRoundTrip } from "@/i18n/format";
import { useIdentity } from "@/identity/identity";
import { shortenId } from "@/lib/ids";
import { navigateTo } from "@/navigation/route";
import { useNodeStatus } from "@/node/node-status";
import { usePeers } from "@/node/peers";
import { TrustBadge } from "@/trust/trust-badge";

/** This device as the network sees it, and the peers connected to it right now. */
export function NetworkScreen() {
  const { t } = useTranslation();
  return (
    <div data-testid="network-screen">
      <PageHeader title={t("network.title")} description={t("network.subtitle")} />
      <div className="flex flex-col gap-6">
        <ThisDevice />
        <PartyDevices />
        <ConnectedPeers />
      </div>
    </div>
  );
}

function CardHeading({
  icon,
  title,
  description,
  action,
}: {
  icon: ReactNode;
  title: string;
  description: string;
  action?: ReactNode;
}) {
  return (
    <CardHeader className="gap-1 border-b px-6 py-5">
      <div className="flex items-center gap-3">
        <span className="flex size-9 items-center justify-center rounded-lg bg-brand-soft text-brand-soft-foreground">
          {icon}
        </span>
        <div className="flex flex-col gap-1">
          <CardTitle className="text-base">{title}</CardTitle>
          <CardDescription>{description}</CardDescription>
        </div>
      </div>
      {action && <CardAction className="self-center">{action}</CardAction>}
    </CardHeader>
  );
}

/** The peer id other nodes know this device by, and where it listens. */
function ThisDevice() {
  const { t } = useTranslation();
  const status = useNodeStatus();
  return (
    <Card data-testid="network-this-device" aria-busy={status.isPending} className="gap-0 py-0">
      <CardHeading
        icon={<Laptop className="size-[18px]" aria-hidden />}
        title={t("network.thisDevice.title")}
        description={t("network.thisDevice.description")}
      />
      <CardContent className="p-6">
        {status.isError ? (
          <ErrorPanel error={status.error} onRetry={() => void status.refetch()} retrying={status.isFetching} />
        ) : status.isPending ? (
          <div role="status" className="flex flex-col gap-4">
            <span className="sr-only">{t("node.loading")}</span>
            <Skeleton className="h-4 w-2/3" />
            <Skeleton className="h-4 w-1/2" />
          </div>
        ) : (
          <DeviceDetails status={status.data} />
        )}
      </CardContent>
    </Card>
  );
}

function DeviceDetails({ status }: { status: NodeStatus }) {
  const { t } = useTranslation();
  return (
    <dl className="flex flex-col divide-y text-sm">
      <Row label={t("node.peerId")}>
        <div className="flex min-w-0 items-center gap-1">
          <span
            data-testid="network-device-peer-id"
            data-value={status.peerId}
            title={status.peerId}
            className="truncate font-mono text-[13px]"
          >
            {shortenId(status.peerId)}
          </span>
          <CopyButton value={status.peerId} label={t("copy.peerId")} />
        </div>
      </Row>
      <Row label={t("node.listenAddrs")}>
        {status.listenAddrs.length > 0 ? (
          <ul data-testid="network-listen-addrs" className="flex min-w-0 flex-col gap-0.5 font-mono text-[13px]">
            {status.listenAddrs.map((address) => (
              <li key={address} className="flex min-w-0 items-center gap-1">
                <span className="min-w-0 break-all">{address}</span>
                <CopyButton value={address} label={t("copy.address")} />
              </li>
            ))}
          </ul>
        ) : (
          <p data-testid="network-listen-addrs" className="text-muted-foreground">
            {t("node.noListenAddrs")}
          </p>
        )}
      </Row>
      <Row label={t("network.reachability.label")}>
        <ReachabilityStatus reachability={status.reachability} />
      </Row>
    </dl>
  );
}

const REACHABILITY_ICONS = { public: Globe, private: Workflow, unknown: ShieldQuestion } as const;

/** What AutoNAT found: whether other nodes can dial this one, and what that means for reaching it. */
function ReachabilityStatus({ reachability }: { reachability: Reachability }) {
  const { t } = useTranslation();
  const Icon = REACHABILITY_ICONS[reachability.kind];
  return (
    <div data-testid="network-reachability" data-kind={reachability.kind} className="flex min-w-0 items-start gap-2">
      <Icon
        aria-hidden
        className={
          reachability.kind === "public"
            ? "mt-0.5 size-4 shrink-0 text-brand-soft-foreground"
            : "mt-0.5 size-4 shrink-0 text-muted-foreground"
        }
      />
      <div className="flex min-w-0 flex-col gap-0.5">
        <p data-testid="network-reachability-status" className="font-medium break-all">
          {reachability.kind === "public"
            ? t("network.reachability.public", { address: reachability.address })
            : t(`network.reachability.${reachability.kind}`)}
        </p>
        <p className="text-xs leading-relaxed text-muted-foreground">{t(`network.reachability.${reachability.kind}Help`)}</p>
      </div>
    </div>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-1 gap-1.5 py-3 first:pt-0 last:pb-0 sm:grid-cols-[9rem_minmax(0,1fr)] sm:items-center sm:gap-4">
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </div>
  );
}

/** Every peer connected now; node events and a periodic refresh keep the list current. */
function ConnectedPeers() {
  const { t } = useTranslation();
  const peers = usePeers();
  return (
    <Card data-testid="network-peers" aria-busy={peers.isPending} className="gap-0 py-0">
      <CardHeading
        icon={<Network className="size-[18px]" aria-hidden />}
        title={t("network.peers.title")}
        description={t("network.peers.description")}
        action={
          peers.isSuccess && peers.data.length > 0 ? (
            <span data-testid="network-peer-count" className="text-sm font-medium text-muted-foreground tabular-nums">
              {t("network.peers.count", { count: peers.data.length })}
            </span>
          ) : undefined
        }
      />
      <CardContent className="px-6 py-2">
        {peers.isError ? (
          <ErrorPanel
            error={peers.error}
            onRetry={() => void peers.refetch()}
            retrying={peers.isFetching}
            className="my-4"
          />
        ) : peers.isPending ? (
          <div role="status" className="flex flex-col">
            <span className="sr-only">{t("network.peers.loading")}</span>
            {[0, 1, 2].map((row) => (
              <div key={row} className="flex items-center gap-3 py-3.5">
                <Skeleton className="size-9 rounded-full" />
                <div className="flex flex-1 flex-col gap-1.5">
                  <Skeleton className="h-4 w-1/3" />
                  <Skeleton className="h-3 w-1/2" />
                </div>
                <Skeleton className="h-4 w-12" />
              </div>
            ))}
          </div>
        ) : peers.data.length === 0 ? (
          <NoPeers />
        ) : (
          <ul aria-label={t("network.peers.listLabel")} className="flex flex-col divide-y">
            {peers.data.map((peer) => (
              <PeerRow key={peer.peerId} peer={peer} />
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}

function PeerRow({ peer }: { peer: PeerInfo }) {
  const { t, i18n } = useTranslation();
  const contact = peer.partyId !== null ? { partyId: peer.partyId, name: peer.displayName ?? "" } : null;
  return (
    <li
      data-testid="network-peer-row"
      data-peer-id={peer.peerId}
      className="flex flex-col gap-3 py-3.5 sm:flex-row sm:items-start sm:gap-6"
    >
      <div className="flex min-w-0 flex-1 items-start gap-3">
        {contact ? (
          <Avatar name={contact.name} seed={contact.partyId} />
        ) : (
          <span aria-hidden className="flex size-9 shrink-0 items-center justify-center rounded-full bg-muted text-muted-foreground">
            <Waypoints className="size-4" />
          </span>
        )}
        <div className="flex min-w-0 flex-col gap-0.5">
          {contact ? (
            <span className="flex min-w-0 items-center gap-2">
              <a
                href={`#/contacts/${encodeURIComponent(contact.partyId)}`}
                data-testid="network-peer-name"
                aria-label={t("network.peers.openContact", { name: contact.name })}
                onClick={(event) => {
                  event.preventDefault();
                  navigateTo("contacts", contact.partyId);
                }}
                className="truncate rounded-sm text-sm font-medium outline-none hover:underline focus-visible:ring-[3px] focus-visible:ring-ring/50"
              >
                {contact.name}
              </a>
              <TrustBadge partyId={contact.partyId} name={contact.name} />
            </span>
          ) : (
            <span data-testid="network-peer-name" className="text-sm text-muted-foreground">
              {t("network.peers.notContact")}
            </span>
          )}
          <div className="flex min-w-0 items-center gap-1">
            <span data-testid="network-peer-id" title={peer.peerId} className="truncate font-mono text-xs text-muted-foreground">
              {shortenId(peer.peerId)}
            </span>
            <CopyButton
              value={peer.peerId}
              label={contact ? t("network.peers.copyPeerIdOf", { name: contact.name }) : t("copy.peerId")}
              className="-my-1"
            />
          </div>
          {peer.addresses.length > 0 && (
            <div className="flex min-w-0 flex-col">
              <span className="sr-only">{t("network.peers.addresses")}</span>
              <ul data-testid="network-peer-addresses" className="flex min-w-0 flex-col font-mono text-xs text-foreground/75">
                {peer.addresses.map((address) => (
                  <li key={address} className="break-all">
                    {address}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      </div>
      <dl className="flex shrink-0 items-baseline gap-2 pl-12 text-sm sm:flex-col sm:items-end sm:gap-0.5 sm:pl-0">
        <dt className="text-xs text-muted-foreground">{t("network.peers.roundTrip")}</dt>
        <dd data-testid="network-peer-rtt" className="font-medium tabular-nums">
          {peer.rttMs === null ? (
            <span className="font-normal text-muted-foreground">{t("network.peers.noRoundTrip")}</span>
          ) : (
            formatRoundTrip(peer.rttMs, i18n.language)
          )}
        </dd>
        {peer.strikes > 0 && (
          <>
            <dt className="sr-only">{t("network.peers.strikesLabel")}</dt>
            <dd data-testid="network-peer-strikes" className="text-xs text-destructive">
              {t("network.peers.strikes", { count: peer.strikes })}
            </dd>
          </>
        )}
      </dl>
    </li>
  );
}

/**
 * The party's devices (its cadre): this one marked, each other one connected to
 * this device or not, as the connected peers show. Revoked devices are left out.
 */
function PartyDevices() {
  const { t } = useTranslation();
  const identity = useIdentity();
  const state = identity.data?.state;
  const enabled = state === "ready" || state === "member";
  const devices = useCadreDevices(enabled);
  const peers = usePeers();
  if (!enabled) return null;
  const connected = new Set((peers.data ?? []).map((peer) => peer.peerId));
  const listed = (devices.data ?? []).filter((device) => device.thisDevice || !device.revoked);

  return (
    <Card data-testid="network-party-devices" aria-busy={devices.isPending} className="gap-0 py-0">
      <CardHeading
        icon={<MonitorSmartphone className="size-[18px]" aria-hidden />}
        title={t("network.devices.title")}
        description={t("network.devices.description")}
        action={
          <Button variant="ghost" size="sm" onClick={() => navigateTo("settings")} data-testid="network-devices-manage">
            {t("network.devices.manage")}
          </Button>
        }
      />
      <CardContent className="px-6 py-2">
        {devices.isError ? (
          <ErrorPanel
            error={devices.error}
            onRetry={() => void devices.refetch()}
            retrying={devices.isFetching}
            className="my-4"
          />
        ) : devices.isPending ? (
          <div role="status" className="flex flex-col gap-3 py-3.5">
            <span className="sr-only">{t("network.devices.loading")}</span>
            <Skeleton className="h-4 w-1/2" />
            <Skeleton className="h-4 w-1/3" />
          </div>
        ) : (
          <ul aria-label={t("network.devices.title")} className="flex flex-col divide-y">
            {listed.map((device) => (
              <PartyDeviceRow
                key={device.peerId}
                device={device}
                online={device.thisDevice ? true : peers.data ? connected.has(device.peerId) : null}
              />
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}

function PartyDeviceRow({ device, online }: { device: CadreDevice; online: boolean | null }) {
  const { t } = useTranslation();
  const DeviceIcon = device.kind === "headless" ? Server : device.kind === "desktop" || device.thisDevice ? Laptop : Monitor;
  const presence = device.thisDevice
    ? t("network.devices.thisDevice")
    : online === null
      ? t("network.devices.unknown")
      : online
        ? t("network.devices.connected")
        : t("network.devices.notConnected");
  return (
    <li
      data-testid="network-party-device"
      data-peer-id={device.peerId}
      data-this-device={device.thisDevice}
      data-online={online === null ? "unknown" : String(online)}
      className="flex items-center gap-3 py-3.5"
    >
      <span aria-hidden className="flex size-9 shrink-0 items-center justify-center rounded-full bg-muted text-muted-foreground">
        <DeviceIcon className="size-4" />
      </span>
      <div className="flex min-w-0 flex-1 flex-col gap-0.5">
        <span data-testid="network-party-device-name" className="truncate text-sm font-medium">
          {device.name}
        </span>
        <div className="flex min-w-0 items-center gap-1">
          <span title={device.peerId} className="truncate font-mono text-xs text-muted-foreground">
            {shortenId(device.peerId)}
          </span>
          <CopyButton value={device.peerId} label={t("network.devices.copyPeerIdOf", { name: device.name })} className="-my-1" />
        </div>
      </div>
      <span data-testid="network-party-device-presence" className="flex shrink-0 items-center gap-2 text-sm">
        <span
          aria-hidden
          className={
            online ? "size-2 rounded-full bg-success" : "size-2 rounded-full border border-muted-foreground/60 bg-transparent"
          }
        />
        {device.thisDevice && device.revoked ? t("network.devices.revoked") : presence}
      </span>
    </li>
  );
}

/** Nobody connected: say what happens next, and where to go to make it happen. */
function NoPeers() {
  const { t } = useTranslation();
  return (
    <div data-testid="network-peers-empty" className="flex flex-col items-start gap-4 py-6">
      <div className="flex flex-col gap-1.5">
        <h3 className="font-semibold">{t("network.peers.emptyTitle")}</h3>
        <p className="text-sm leading-relaxed text-muted-foreground">{t("network.peers.emptyBody")}</p>
      </div>
      <Button variant="outline" onClick={() => navigateTo("contacts")}>
        <Users aria-hidden />
        {t("network.peers.emptyAction")}
      </Button>
    </div>
  );
}
