import { useMutation, useQueryClient } from "@tanstack/react-query";
import { CheckCircle2, Laptop, Monitor, Plus, RefreshCw, Server, ShieldOff, Terminal } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type CadreDevice, type EnrollmentLink } from "@/backend";
import { cadreQueryKeys, useCadreDevices } from "@/cadre/queries";
import { CopyButton } from "@/components/copy-button";
import { CopyLinkButton } from "@/components/copy-link-button";
import { FormError } from "@/components/form-error";
import { QrCode } from "@/components/qr-code";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import { ToggleGroup, ToggleGroupItem } from "@/components/ui/toggle-group";
import { formatDateTime } from "@/i18n/format";
import { useIdentity } from "@/identity/identity";
import { shortenId } from "@/lib/ids";
import { Section } from "./section";

type Expiry = "15m" | "1h" | "24h";
const EXPIRY_SECS: Record<Expiry, number> = { "15m": 900, "1h": 3_600, "24h": 86_400 };
const EXPIRIES: readonly Expiry[] = ["15m", "1h", "24h"];

/** The command a headless machine runs to join with `link`, quoted for a shell (the link holds `?` and `&`). */
export function joinCommand(link: string): string {
  return `tallymesh cadre join '${link}'`;
}

/**
 * The party's devices: this one, the ones it enrolled (revoked ones marked), a
 * way to enroll another, and revoking. On a member device, the list alone:
 * enrolling and revoking need the party secret, which only the main device holds.
 */
export function DevicesSection() {
  const { t } = useTranslation();
  const identity = useIdentity();
  const state = identity.data?.state;
  const party = state === "ready" || state === "member" ? identity.data : null;
  const main = state === "ready";
  const devices = useCadreDevices(party !== null);
  const [enrolling, setEnrolling] = useState(false);

  if (state === "none" || state === "keyMissing") return null;

  return (
    <Section
      id="devices"
      testId="settings-devices"
      title={t("settings.devices.title")}
      description={t("settings.devices.description")}
      footer={
        <div className="flex flex-col gap-4">
          {identity.isError ? (
            <FormError message={identity.error.message} />
          ) : devices.isError ? (
            <FormError message={devices.error.message} testId="devices-error" />
          ) : devices.data ? (
            <ul aria-label={t("settings.devices.listLabel")} data-testid="devices-list" className="flex flex-col divide-y rounded-lg border">
              {devices.data.map((device) => (
                <DeviceRow key={device.peerId} device={device} canRevoke={main} />
              ))}
            </ul>
          ) : (
            <div role="status" className="flex flex-col gap-2">
              <span className="sr-only">{t("settings.devices.loading")}</span>
              <Skeleton className="h-12 w-full" />
              <Skeleton className="h-12 w-full" />
            </div>
          )}
          {party?.state === "member" && (
            <p data-testid="devices-member-note" className="rounded-lg border bg-muted/50 px-3.5 py-3 text-sm leading-relaxed">
              {t("settings.devices.memberNote", { name: party.displayName })}
            </p>
          )}
          {main && (
            <>
              <Button className="self-start" onClick={() => setEnrolling(true)} data-testid="devices-enroll">
                <Plus aria-hidden />
                {t("settings.devices.enroll")}
              </Button>
              <EnrollDialog open={enrolling} onOpenChange={setEnrolling} />
            </>
          )}
        </div>
      }
    />
  );
}

function DeviceRow({ device, canRevoke }: { device: CadreDevice; canRevoke: boolean }) {
  const { t, i18n } = useTranslation();
  const Icon = device.kind === "headless" ? Server : device.kind === "desktop" || device.thisDevice ? Laptop : Monitor;
  return (
    <li
      data-testid="device-row"
      data-peer-id={device.peerId}
      data-revoked={device.revoked}
      className="flex items-center gap-3 px-3.5 py-3 text-sm"
    >
      <span
        aria-hidden
        className={
          device.revoked
            ? "flex size-8 shrink-0 items-center justify-center rounded-full bg-muted text-muted-foreground"
            : "flex size-8 shrink-0 items-center justify-center rounded-full bg-brand-soft text-brand-soft-foreground"
        }
      >
        {device.revoked ? <ShieldOff className="size-4" /> : <Icon className="size-4" />}
      </span>
      <div className="flex min-w-0 flex-1 flex-col gap-0.5">
        <p className="flex flex-wrap items-center gap-2">
          <span data-testid="device-name" className={device.revoked ? "font-medium text-muted-foreground" : "font-medium"}>
            {device.name}
          </span>
          {device.thisDevice && (
            <span data-testid="device-this" className="rounded-full bg-brand-soft px-2 py-0.5 text-xs font-medium text-brand-soft-foreground">
              {t("settings.devices.thisDevice")}
            </span>
          )}
          {device.kind && (
            <span data-testid="device-kind" className="rounded-full border px-2 py-0.5 text-xs text-muted-foreground">
              {t(`settings.devices.kind.${device.kind}`)}
            </span>
          )}
          {device.revoked && (
            <span data-testid="device-revoked" className="rounded-full border px-2 py-0.5 text-xs font-medium text-muted-foreground">
              {t("settings.devices.revoked")}
            </span>
          )}
        </p>
        <div className="flex min-w-0 flex-wrap items-center gap-x-3 gap-y-0.5 text-xs text-muted-foreground">
          <span className="flex min-w-0 items-center gap-1">
            <span data-testid="device-peer-id" title={device.peerId} className="truncate font-mono">
              {shortenId(device.peerId)}
            </span>
            <CopyButton
              value={device.peerId}
              label={t("settings.devices.copyPeerIdOf", { name: device.name })}
              className="-my-1 size-6"
            />
          </span>
          <span className="tabular-nums">
            {t("settings.devices.enrolledAt", { date: formatDateTime(device.enrolledAtMs, i18n.language) })}
          </span>
        </div>
      </div>
      {canRevoke && !device.thisDevice && !device.revoked && <RevokeDevice device={device} />}
    </li>
  );
}

function RevokeDevice({ device }: { device: CadreDevice }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const revoke = useMutation<void, BackendError, string>({
    mutationFn: (peerId) => backend.revokeDevice(peerId),
    onSuccess: () => {
      setOpen(false);
      void queryClient.invalidateQueries({ queryKey: cadreQueryKeys.all });
    },
  });
  return (
    <AlertDialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) revoke.reset();
      }}
    >
      <AlertDialogTrigger asChild>
        <Button
          variant="outline"
          size="sm"
          data-testid="device-revoke"
          aria-label={t("settings.devices.revokeOf", { name: device.name })}
          className="hover:text-destructive"
        >
          {t("settings.devices.revoke")}
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent data-testid="device-revoke-dialog">
        <AlertDialogHeader>
          <AlertDialogTitle>{t("settings.devices.revokeTitle", { name: device.name })}</AlertDialogTitle>
          <AlertDialogDescription>{t("settings.devices.revokeBody", { name: device.name })}</AlertDialogDescription>
        </AlertDialogHeader>
        {revoke.isError && <FormError message={revoke.error.message} testId="device-revoke-error" />}
        <AlertDialogFooter>
          <AlertDialogCancel>{t("dialog.cancel")}</AlertDialogCancel>
          <AlertDialogAction
            variant="destructive"
            data-testid="device-revoke-confirm"
            disabled={revoke.isPending}
            onClick={(event) => {
              // Stays open until the node has answered, so a refusal can be read here.
              event.preventDefault();
              revoke.mutate(device.peerId);
            }}
          >
            {revoke.isPending ? t("settings.devices.revoking") : t("settings.devices.revokeConfirm")}
          </AlertDialogAction>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}

/** A one-time enrollment link as a QR code and as text, with the command to run on a headless machine. */
function EnrollDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="max-w-2xl" data-testid="enroll-dialog">
        <DialogHeader>
          <DialogTitle>{t("settings.devices.enrollTitle")}</DialogTitle>
          <DialogDescription>{t("settings.devices.enrollDescription")}</DialogDescription>
        </DialogHeader>
        {open && <EnrollBody />}
      </DialogContent>
    </Dialog>
  );
}

function EnrollBody() {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const devices = useCadreDevices();
  const [expiry, setExpiry] = useState<Expiry>("1h");
  const invite = useMutation<EnrollmentLink, BackendError, Expiry>({
    mutationFn: (choice) => backend.cadreInvite(EXPIRY_SECS[choice]),
  });
  const { mutate } = invite;
  // The devices there were before this link: one that appears after it joined with it.
  const known = useRef<Set<string> | null>(null);
  if (known.current === null && devices.data) known.current = new Set(devices.data.map((device) => device.peerId));
  const joined = devices.data?.find((device) => known.current !== null && !known.current.has(device.peerId) && !device.revoked);

  // One link per opening (a development double mount included): each is a new token.
  const asked = useRef(false);
  useEffect(() => {
    if (asked.current) return;
    asked.current = true;
    mutate("1h");
  }, [mutate]);

  const link = invite.data?.link;
  return (
    <div className="flex flex-col gap-6">
      <div className="grid gap-6 sm:grid-cols-[13rem_minmax(0,1fr)]">
        <div className="flex flex-col items-center gap-2">
          <QrCode
            svg={invite.isPending ? undefined : invite.data?.qrSvg}
            alt={t("settings.devices.qrAlt")}
            testId="enroll-qr"
            failed={invite.isError}
          />
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          {invite.isError && <FormError message={invite.error.message} testId="enroll-error" />}
          <div className="flex flex-col gap-2">
            <p className="text-sm font-medium">{t("settings.devices.link")}</p>
            {link && !invite.isPending ? (
              <p
                data-testid="enroll-link"
                className="max-h-24 overflow-y-auto rounded-md border bg-muted/60 px-3 py-2 font-mono text-[12px] leading-relaxed break-all"
              >
                {link}
              </p>
            ) : (
              <Skeleton className="h-16 w-full" />
            )}
            <div className="flex flex-wrap items-center gap-2">
              <CopyLinkButton value={invite.isPending ? undefined : link} label={t("settings.devices.copyLink")} testId="enroll-copy" />
              {invite.data && !invite.isPending && (
                <span className="text-xs text-muted-foreground tabular-nums" data-testid="enroll-expiry">
                  {t("settings.devices.expires", { date: formatDateTime(invite.data.expiresAtMs, i18n.language) })}
                </span>
              )}
            </div>
          </div>
          <div className="flex flex-col gap-2">
            <p className="flex items-center gap-2 text-sm font-medium">
              <Terminal className="size-4 text-muted-foreground" aria-hidden />
              {t("settings.devices.headless")}
            </p>
            <p className="text-xs leading-relaxed text-muted-foreground">{t("settings.devices.headlessHelp")}</p>
            {link && !invite.isPending ? (
              <code
                data-testid="enroll-command"
                className="max-h-20 overflow-y-auto rounded-md border bg-muted/60 px-3 py-2 font-mono text-[12px] leading-relaxed break-all"
              >
                {joinCommand(link)}
              </code>
            ) : (
              <Skeleton className="h-10 w-full" />
            )}
            <CopyLinkButton
              value={link && !invite.isPending ? joinCommand(link) : undefined}
              label={t("settings.devices.copyCommand")}
              testId="enroll-copy-command"
              variant="outline"
            />
          </div>
        </div>
      </div>
      <div className="flex flex-col gap-3 border-t pt-5">
        {joined ? (
          <p
            data-testid="enroll-joined"
            role="status"
            className="flex items-center gap-2 rounded-lg border border-brand-soft-foreground/25 bg-brand-soft px-3.5 py-3 text-sm text-brand-soft-foreground"
          >
            <CheckCircle2 className="size-4 shrink-0" aria-hidden />
            {t("settings.devices.joined", { name: joined.name })}
          </p>
        ) : (
          <p className="text-sm text-muted-foreground" data-testid="enroll-waiting">
            {t("settings.devices.waiting")}
          </p>
        )}
        <div className="flex flex-wrap items-end gap-3">
          <div className="flex flex-col gap-1.5">
            <span id="enroll-expiry-label" className="text-xs font-medium text-muted-foreground">
              {t("settings.devices.expiryLabel")}
            </span>
            <ToggleGroup
              type="single"
              value={expiry}
              aria-labelledby="enroll-expiry-label"
              onValueChange={(value) => {
                if (value) setExpiry(value as Expiry);
              }}
            >
              {EXPIRIES.map((option) => (
                <ToggleGroupItem key={option} value={option} data-testid={`enroll-expiry-${option}`}>
                  {t(`settings.devices.expiry.${option}`)}
                </ToggleGroupItem>
              ))}
            </ToggleGroup>
          </div>
          <Button variant="outline" onClick={() => invite.mutate(expiry)} disabled={invite.isPending} data-testid="enroll-new">
            <RefreshCw className={invite.isPending ? "animate-spin" : undefined} aria-hidden />
            {t("settings.devices.newLink")}
          </Button>
        </div>
      </div>
    </div>
  );
}
