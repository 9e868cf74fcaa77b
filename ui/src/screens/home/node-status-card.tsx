import { HardDrive, Laptop } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { CopyButton } from "@/components/copy-button";
import { ErrorPanel } from "@/components/error-panel";
import { StatusDot } from "@/components/status-dot";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { formatDateTime, formatDuration, formatNumber } from "@/i18n/format";
import { shortenId } from "@/lib/ids";
import { useNow } from "@/lib/use-now";
import { cn } from "@/lib/utils";
import { useNodeStatus } from "@/node/node-status";
import type { NodeStatus } from "@/backend";

/** "This device": the node inside the app, live. */
export function NodeStatusCard() {
  const { t } = useTranslation();
  const status = useNodeStatus();

  return (
    <Card data-testid="node-status-card" aria-busy={status.isPending} className="gap-0 py-0">
      <CardHeader className="gap-1 border-b px-6 py-5">
        <div className="flex items-center gap-3">
          <span className="flex size-9 items-center justify-center rounded-lg bg-brand-soft text-brand-soft-foreground">
            <Laptop className="size-[18px]" aria-hidden />
          </span>
          <div className="flex flex-col gap-1">
            <CardTitle className="text-base">{t("node.title")}</CardTitle>
            <CardDescription>{t("node.description")}</CardDescription>
          </div>
        </div>
        <CardAction className="self-center">
          <NodeStateBadge isError={status.isError} isSuccess={status.isSuccess} />
        </CardAction>
      </CardHeader>
      <CardContent className="p-6">
        {status.isError ? (
          <ErrorPanel error={status.error} onRetry={() => void status.refetch()} retrying={status.isFetching} />
        ) : status.isPending ? (
          <NodeStatusSkeleton />
        ) : (
          <NodeStatusDetails status={status.data} fetchedAt={status.dataUpdatedAt} />
        )}
      </CardContent>
    </Card>
  );
}

function NodeStateBadge({ isError, isSuccess }: { isError: boolean; isSuccess: boolean }) {
  const { t } = useTranslation();
  const tone = isError ? "error" : isSuccess ? "ok" : "pending";
  const label = isError ? t("node.unreachable") : isSuccess ? t("node.running") : t("node.checking");
  return (
    <span
      data-testid="node-status-state"
      data-state={tone}
      className={cn(
        "inline-flex items-center gap-2 rounded-full border px-3 py-1 text-xs font-medium",
        tone === "ok" && "border-success/30 bg-success/10 text-foreground",
        tone === "error" && "border-destructive/30 bg-destructive/10 text-foreground",
        tone === "pending" && "text-muted-foreground",
      )}
    >
      <StatusDot tone={tone} />
      <span className="sr-only">{t("node.stateLabel")}: </span>
      {label}
    </span>
  );
}

function NodeStatusDetails({ status, fetchedAt }: { status: NodeStatus; fetchedAt: number }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const now = useNow(1_000);
  // The node's uptime at the last answer, carried forward by the local clock between answers.
  const uptime = status.uptimeSecs + Math.max(0, Math.floor((now - fetchedAt) / 1_000));

  return (
    <div className="flex flex-col gap-6">
      <dl className="grid grid-cols-2 gap-3">
        <Stat label={t("node.uptime")}>
          <span
            data-testid="node-uptime"
            title={t("node.runningSince", { date: formatDateTime(status.startedAtMs, locale) })}
          >
            {formatDuration(uptime, locale)}
          </span>
        </Stat>
        <Stat label={t("node.connectedPeers")}>
          <span data-testid="node-connected-peers">{formatNumber(status.connectedPeers, locale)}</span>
        </Stat>
      </dl>

      <dl className="flex flex-col divide-y text-sm">
        <Row label={t("node.peerId")}>
          <div className="flex min-w-0 items-center gap-1">
            <span
              data-testid="node-peer-id"
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
            <ul data-testid="node-listen-addrs" className="flex min-w-0 flex-col gap-1 font-mono text-[13px]">
              {status.listenAddrs.map((address) => (
                <li key={address} className="break-all">
                  {address}
                </li>
              ))}
            </ul>
          ) : (
            <p data-testid="node-listen-addrs" className="text-muted-foreground">
              {t("node.noListenAddrs")}
            </p>
          )}
        </Row>
        <Row label={t("node.dataDir")}>
          <div className="flex min-w-0 items-center gap-1">
            <HardDrive className="mr-1 size-3.5 shrink-0 text-muted-foreground" aria-hidden />
            <span data-testid="node-data-dir" className="min-w-0 font-mono text-[13px] break-all">
              {status.dataDir}
            </span>
            <CopyButton value={status.dataDir} label={t("copy.dataDir")} />
          </div>
        </Row>
      </dl>
    </div>
  );
}

function Stat({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-1 rounded-lg bg-muted/70 px-4 py-3">
      <dt className="text-xs font-medium text-muted-foreground">{label}</dt>
      <dd className="text-xl font-semibold tracking-tight tabular-nums">{children}</dd>
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

function NodeStatusSkeleton() {
  const { t } = useTranslation();
  return (
    <div data-testid="node-status-loading" role="status" className="flex flex-col gap-6">
      <span className="sr-only">{t("node.loading")}</span>
      <div className="grid grid-cols-2 gap-3">
        <Skeleton className="h-[72px] rounded-lg" />
        <Skeleton className="h-[72px] rounded-lg" />
      </div>
      <div className="flex flex-col gap-4">
        {[0, 1, 2].map((row) => (
          <div key={row} className="grid grid-cols-[9rem_minmax(0,1fr)] items-center gap-4">
            <Skeleton className="h-4 w-20" />
            <Skeleton className={cn("h-4", row === 1 ? "w-3/4" : "w-1/2")} />
          </div>
        ))}
      </div>
    </div>
  );
}
