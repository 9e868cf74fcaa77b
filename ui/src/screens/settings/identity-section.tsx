import { EyeOff, FileLock2, KeyRound, ShieldAlert, ShieldOff, Smartphone } from "lucide-react";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { BackendError, useBackend, type MemberIdentity, type ReadyIdentity } from "@/backend";
import { useCadreDevices } from "@/cadre/queries";
import { CopyButton } from "@/components/copy-button";
import { FormError } from "@/components/form-error";
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
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { formatDateTime } from "@/i18n/format";
import { useIdentity } from "@/identity/identity";
import { PhraseWords, useRecoveryPhrase } from "@/identity/recovery-phrase";
import { shortenId } from "@/lib/ids";
import { cn } from "@/lib/utils";
import { Section, SettingRow } from "./section";

/** The backup passphrase's least length, as the node enforces it. */
export const MIN_PASSPHRASE_CHARS = 8;

/** Who this party is, and the two ways to get it back: the recovery phrase and an encrypted backup. */
export function IdentitySection() {
  const { t, i18n } = useTranslation();
  const identity = useIdentity();
  const ready = identity.data?.state === "ready" ? identity.data : null;
  if (identity.data?.state === "member") return <MemberIdentitySection member={identity.data} />;

  return (
    <Section
      id="identity"
      testId="settings-identity"
      title={t("settings.identity.title")}
      description={t("settings.identity.description")}
      footer={
        identity.isError ? (
          <FormError message={identity.error.message} testId="identity-error" />
        ) : ready ? (
          <>
            <RecoveryPhrasePanel />
            <BackupPanel />
          </>
        ) : null
      }
    >
      <SettingRow label={t("settings.identity.displayName")}>
        {ready ? (
          <span data-testid="identity-display-name" className="text-sm font-medium">
            {ready.displayName}
          </span>
        ) : (
          <Skeleton className="h-4 w-24" />
        )}
      </SettingRow>
      <SettingRow label={t("identity.partyId")}>
        {ready ? (
          <div className="flex min-w-0 items-start gap-1">
            <span data-testid="identity-party-id" className="min-w-0 text-right font-mono text-[13px] break-all">
              {ready.partyId}
            </span>
            <CopyButton value={ready.partyId} label={t("copy.partyId")} className="-my-1" />
          </div>
        ) : (
          <Skeleton className="h-4 w-56" />
        )}
      </SettingRow>
      <SettingRow label={t("settings.identity.devicePeerId")}>
        {ready ? <DevicePeerId identity={ready} /> : <Skeleton className="h-4 w-40" />}
      </SettingRow>
      <SettingRow label={t("settings.identity.createdAt")}>
        {ready ? (
          <span className="text-sm font-medium tabular-nums">{formatDateTime(ready.createdAtMs, i18n.language)}</span>
        ) : (
          <Skeleton className="h-4 w-32" />
        )}
      </SettingRow>
    </Section>
  );
}

/**
 * A member device acts for a party enrolled by its main device and holds no party
 * secret: who the party is, which device this is, and where backups are made.
 */
function MemberIdentitySection({ member }: { member: MemberIdentity }) {
  const { t } = useTranslation();
  const devices = useCadreDevices();
  const thisDevice = devices.data?.find((device) => device.thisDevice) ?? null;
  const name = member.displayName;

  return (
    <Section
      id="identity"
      testId="settings-identity"
      title={t("settings.identity.title")}
      description={t("settings.identity.memberDescription", { name })}
      footer={
        <div className="flex flex-col gap-3">
          {thisDevice?.revoked && (
            <div
              role="alert"
              data-testid="identity-member-revoked"
              className="flex items-start gap-3 rounded-lg border border-destructive/40 bg-destructive/5 p-4 text-sm leading-relaxed"
            >
              <ShieldOff className="mt-0.5 size-4 shrink-0 text-destructive" aria-hidden />
              <p>{t("settings.identity.memberRevoked", { name })}</p>
            </div>
          )}
          <div data-testid="identity-member-note" className="flex items-start gap-3 rounded-lg border p-4">
            <KeyRound className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
            <div className="flex flex-1 flex-col gap-1">
              <h3 className="text-sm font-semibold">{t("settings.identity.memberBackupTitle")}</h3>
              <p className="text-sm leading-relaxed text-muted-foreground">
                {t("settings.identity.memberBackupBody", { name })}
              </p>
            </div>
          </div>
        </div>
      }
    >
      <SettingRow label={t("settings.identity.displayName")}>
        <span data-testid="identity-display-name" className="text-sm font-medium">
          {name}
        </span>
      </SettingRow>
      <SettingRow label={t("identity.partyId")}>
        <div className="flex min-w-0 items-start gap-1">
          <span data-testid="identity-party-id" className="min-w-0 text-right font-mono text-[13px] break-all">
            {member.partyId}
          </span>
          <CopyButton value={member.partyId} label={t("copy.partyId")} className="-my-1" />
        </div>
      </SettingRow>
      <SettingRow label={t("settings.identity.thisDevice")}>
        {thisDevice ? (
          <span data-testid="identity-member-acts-for" className="flex items-center gap-2 text-right text-sm">
            <Smartphone className="size-4 shrink-0 text-muted-foreground" aria-hidden />
            {t("settings.identity.memberActsFor", { name, device: thisDevice.name })}
          </span>
        ) : devices.isError ? (
          <span className="text-sm text-muted-foreground">{devices.error.message}</span>
        ) : (
          <Skeleton className="h-4 w-48" />
        )}
      </SettingRow>
      <SettingRow label={t("settings.identity.devicePeerId")}>
        <DevicePeerId identity={member} />
      </SettingRow>
    </Section>
  );
}

function DevicePeerId({ identity }: { identity: ReadyIdentity | MemberIdentity }) {
  const { t } = useTranslation();
  return (
    <div className="flex min-w-0 items-center gap-1">
      <span
        data-testid="identity-device-peer-id"
        data-value={identity.devicePeerId}
        title={identity.devicePeerId}
        className="truncate font-mono text-[13px]"
      >
        {shortenId(identity.devicePeerId)}
      </span>
      <CopyButton value={identity.devicePeerId} label={t("copy.peerId")} />
    </div>
  );
}

function RecoveryPhrasePanel() {
  const { t } = useTranslation();
  const phrase = useRecoveryPhrase();
  return (
    <div className="flex flex-col gap-3 rounded-lg border p-4">
      <div className="flex items-start gap-3">
        <KeyRound className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
        <div className="flex flex-1 flex-col gap-1">
          <h3 className="text-sm font-semibold">{t("identity.phrase.title")}</h3>
          <p className="text-sm leading-relaxed text-muted-foreground">{t("identity.phrase.body")}</p>
        </div>
      </div>
      {phrase.words ? (
        <>
          <PhraseWords words={phrase.words} testId="identity-phrase-words" />
          <Button variant="outline" size="sm" className="self-start" onClick={phrase.hide} data-testid="identity-hide-phrase">
            <EyeOff aria-hidden />
            {t("identity.phrase.hide")}
          </Button>
        </>
      ) : (
        <AlertDialog>
          <AlertDialogTrigger asChild>
            <Button variant="outline" size="sm" className="self-start" data-testid="identity-show-phrase" disabled={phrase.pending}>
              <KeyRound aria-hidden />
              {phrase.pending ? t("identity.phrase.showing") : t("identity.phrase.show")}
            </Button>
          </AlertDialogTrigger>
          <AlertDialogContent>
            <AlertDialogHeader>
              <AlertDialogTitle className="flex items-center gap-2">
                <ShieldAlert className="size-5 text-warning" aria-hidden />
                {t("identity.phrase.confirmTitle")}
              </AlertDialogTitle>
              <AlertDialogDescription>{t("identity.phrase.confirmBody")}</AlertDialogDescription>
            </AlertDialogHeader>
            <AlertDialogFooter>
              <AlertDialogCancel>{t("dialog.cancel")}</AlertDialogCancel>
              <AlertDialogAction data-testid="identity-show-phrase-confirm" onClick={() => void phrase.reveal()}>
                {t("identity.phrase.confirm")}
              </AlertDialogAction>
            </AlertDialogFooter>
          </AlertDialogContent>
        </AlertDialog>
      )}
      {phrase.error && <FormError message={phrase.error.message} testId="identity-phrase-error" />}
    </div>
  );
}

function BackupPanel() {
  const { t } = useTranslation();
  const backend = useBackend();
  const ids = { passphrase: useId(), confirm: useId(), hint: useId() };
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  // Plain state, not a mutation: a mutation would keep the passphrase among its variables.
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<{ path: string | null } | null>(null);

  async function save(secret: string) {
    setSaving(true);
    try {
      const path = await backend.saveBackup(secret, {
        title: t("identity.backup.dialogTitle"),
        fileKind: t("identity.backup.fileKind"),
      });
      setSaved({ path });
      if (path !== null) {
        setPassphrase("");
        setConfirm("");
      }
    } catch (cause) {
      setProblem(BackendError.from(cause).message);
    } finally {
      setSaving(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(null);
    if ([...passphrase].length < MIN_PASSPHRASE_CHARS) {
      setProblem(t("identity.backup.tooShort", { min: MIN_PASSPHRASE_CHARS }));
      return;
    }
    if (passphrase !== confirm) {
      setProblem(t("identity.backup.mismatch"));
      return;
    }
    setProblem(null);
    void save(passphrase);
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-3 rounded-lg border p-4" noValidate>
      <div className="flex items-start gap-3">
        <FileLock2 className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
        <div className="flex flex-1 flex-col gap-1">
          <h3 className="text-sm font-semibold">{t("identity.backup.title")}</h3>
          <p className="text-sm leading-relaxed text-muted-foreground">{t("identity.backup.body")}</p>
        </div>
      </div>
      <div className="grid gap-3 sm:grid-cols-2">
        <div className="flex flex-col gap-2">
          <Label htmlFor={ids.passphrase}>{t("identity.backup.passphrase")}</Label>
          <Input
            id={ids.passphrase}
            type="password"
            autoComplete="new-password"
            data-testid="backup-passphrase"
            value={passphrase}
            aria-describedby={ids.hint}
            aria-invalid={problem !== null && [...passphrase].length < MIN_PASSPHRASE_CHARS}
            onChange={(event) => setPassphrase(event.target.value)}
          />
        </div>
        <div className="flex flex-col gap-2">
          <Label htmlFor={ids.confirm}>{t("identity.backup.confirm")}</Label>
          <Input
            id={ids.confirm}
            type="password"
            autoComplete="new-password"
            data-testid="backup-passphrase-confirm"
            value={confirm}
            aria-invalid={problem !== null && confirm !== passphrase}
            onChange={(event) => setConfirm(event.target.value)}
          />
        </div>
      </div>
      <p id={ids.hint} className="text-xs text-muted-foreground">
        {t("identity.backup.hint", { min: MIN_PASSPHRASE_CHARS })}
      </p>
      {problem && <FormError message={problem} testId="backup-error" />}
      {saved && (
        <p role="status" className={cn("rounded-lg px-3.5 py-3 text-sm", saved.path === null ? "bg-muted" : "bg-success/10")}>
          {saved.path === null ? (
            <span data-testid="backup-cancelled">{t("identity.backup.cancelled")}</span>
          ) : (
            <>
              {t("identity.backup.saved")}{" "}
              <span data-testid="backup-saved-path" className="font-mono text-[13px] break-all">
                {saved.path}
              </span>
            </>
          )}
        </p>
      )}
      <Button type="submit" variant="outline" className="self-start" data-testid="backup-save" disabled={saving}>
        {saving ? t("identity.backup.saving") : t("identity.backup.save")}
      </Button>
    </form>
  );
}
