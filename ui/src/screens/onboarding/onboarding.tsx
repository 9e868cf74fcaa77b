import { useMutation } from "@tanstack/react-query";
import { ArrowLeft, FileKey2, KeyRound, ShieldAlert, Sparkles } from "lucide-react";
import { createContext, use, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import {
  BackendError,
  useBackend,
  type IdentityState,
  type KeyMissingIdentity,
  type ReadyIdentity,
} from "@/backend";
import { FormError } from "@/components/form-error";
import { ProductMark } from "@/components/product-mark";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Textarea } from "@/components/ui/textarea";
import { ToggleGroup, ToggleGroupItem } from "@/components/ui/toggle-group";
import { LANGUAGES, isLanguage } from "@/i18n";
import { MAX_DISPLAY_NAME, displayNameProblem } from "@/identity/display-name";
import { PhraseWords, useRecoveryPhrase } from "@/identity/recovery-phrase";
import { readFileBytes } from "@/lib/files";
import { shortenId } from "@/lib/ids";
import { useLanguage } from "@/preferences/language";

type Step = { kind: "welcome" } | { kind: "restore" } | { kind: "done"; how: "created" | "restored"; identity: ReadyIdentity };

/**
 * The first run: create an identity or restore one. Shown instead of the app
 * while the node acts for nobody, or while the keychain has lost the party's
 * secret. `onHold` keeps it on screen after the identity is ready, until the
 * person has seen what comes next and chooses to continue.
 */
export function Onboarding({
  identity,
  onHold,
}: {
  identity: IdentityState | undefined;
  onHold: (held: boolean) => void;
}) {
  const keyMissing = identity?.state === "keyMissing" ? identity : null;
  const [step, setStepState] = useState<Step>(keyMissing ? { kind: "restore" } : { kind: "welcome" });
  // The first step is where the window opens; each later one takes focus so keyboard users start there.
  const [moved, setMoved] = useState(false);
  const setStep = (next: Step) => {
    setMoved(true);
    setStepState(next);
  };

  const finish = (how: "created" | "restored", state: IdentityState) => {
    if (state.state === "ready") setStep({ kind: "done", how, identity: state });
    else onHold(false);
  };

  return (
    <OnboardingFrame>
      <FocusContext value={moved}>
        {step.kind === "welcome" && (
          <WelcomeStep
            onHold={onHold}
            onCreated={(state) => finish("created", state)}
            onRestore={() => setStep({ kind: "restore" })}
          />
        )}
        {step.kind === "restore" && (
          <RestoreStep
            keyMissing={keyMissing}
            onHold={onHold}
            onRestored={(state) => finish("restored", state)}
            onBack={keyMissing ? null : () => setStep({ kind: "welcome" })}
          />
        )}
        {step.kind === "done" && <DoneStep how={step.how} identity={step.identity} onContinue={() => onHold(false)} />}
      </FocusContext>
    </OnboardingFrame>
  );
}

function OnboardingFrame({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { language, setLanguage } = useLanguage();
  return (
    <div data-testid="onboarding" className="flex min-h-full flex-col bg-gradient-to-b from-brand-soft/60 via-background to-background">
      <header className="flex items-center justify-between px-6 py-5 sm:px-10">
        <div className="flex items-center gap-2.5">
          <ProductMark />
          <span className="text-[15px] font-semibold tracking-tight">{t("app.name")}</span>
        </div>
        <ToggleGroup
          type="single"
          value={language}
          aria-label={t("settings.language.label")}
          onValueChange={(value) => {
            if (isLanguage(value)) setLanguage(value);
          }}
        >
          {LANGUAGES.map((option) => (
            <ToggleGroupItem key={option} value={option} lang={option} className="h-7 px-2.5 text-xs">
              {t(`settings.language.${option}`)}
            </ToggleGroupItem>
          ))}
        </ToggleGroup>
      </header>
      <main className="flex flex-1 items-start justify-center px-4 pt-4 pb-16 sm:items-center sm:pt-0">
        <div className="w-full max-w-xl rounded-2xl border bg-card p-7 shadow-[0_1px_2px_0_oklch(0.2_0.02_220/0.04),0_8px_24px_-8px_oklch(0.2_0.02_220/0.08)] sm:p-9">
          {children}
        </div>
      </main>
    </div>
  );
}

const FocusContext = createContext(false);

/** A step's heading, focused when a later step appears so keyboard and screen reader users start there. */
function StepHeading({ children, description }: { children: ReactNode; description?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const focus = use(FocusContext);
  useEffect(() => {
    if (focus) ref.current?.focus();
    // Only when the step appears.
  }, []);
  return (
    <div className="mb-6 flex flex-col gap-2">
      <h1 ref={ref} tabIndex={-1} className="text-2xl leading-tight font-semibold tracking-tight outline-none">
        {children}
      </h1>
      {description && <p className="text-[15px] leading-relaxed text-muted-foreground">{description}</p>}
    </div>
  );
}

function WelcomeStep({
  onHold,
  onCreated,
  onRestore,
}: {
  onHold: (held: boolean) => void;
  onCreated: (state: IdentityState) => void;
  onRestore: () => void;
}) {
  const { t } = useTranslation();
  const backend = useBackend();
  const nameId = useId();
  const hintId = useId();
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const create = useMutation<IdentityState, BackendError, string>({
    mutationFn: (displayName) => backend.createIdentity(displayName),
  });

  async function submit(event: FormEvent) {
    event.preventDefault();
    const invalid = displayNameProblem(name);
    if (invalid) {
      setProblem(t(invalid, { max: MAX_DISPLAY_NAME }));
      return;
    }
    setProblem(null);
    // Held before asking: the node announces the new identity before the call returns.
    onHold(true);
    try {
      onCreated(await create.mutateAsync(name.trim()));
    } catch (cause) {
      onHold(false);
      setProblem(BackendError.from(cause).message);
    }
  }

  return (
    <>
      <div className="mb-6 flex size-12 items-center justify-center rounded-xl bg-brand-soft">
        <ProductMark className="size-8" />
      </div>
      <StepHeading description={t("onboarding.welcome.body")}>{t("onboarding.welcome.title")}</StepHeading>
      <form onSubmit={(event) => void submit(event)} className="flex flex-col gap-4" noValidate>
        <div className="flex flex-col gap-2">
          <Label htmlFor={nameId}>{t("onboarding.welcome.nameLabel")}</Label>
          <Input
            id={nameId}
            data-testid="onboarding-name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            autoComplete="name"
            autoFocus
            aria-describedby={hintId}
            aria-invalid={problem !== null}
            placeholder={t("onboarding.welcome.namePlaceholder")}
          />
          <p id={hintId} className="text-xs text-muted-foreground">
            {t("onboarding.welcome.nameHint")}
          </p>
        </div>
        {problem && <FormError message={problem} testId="onboarding-error" />}
        <Button type="submit" size="lg" data-testid="onboarding-create" disabled={create.isPending}>
          <Sparkles aria-hidden />
          {create.isPending ? t("onboarding.welcome.creating") : t("onboarding.welcome.create")}
        </Button>
      </form>
      <div className="my-6 flex items-center gap-3 text-xs text-muted-foreground">
        <span className="h-px flex-1 bg-border" />
        {t("onboarding.welcome.or")}
        <span className="h-px flex-1 bg-border" />
      </div>
      <Button variant="outline" className="w-full" data-testid="onboarding-restore" onClick={onRestore}>
        <KeyRound aria-hidden />
        {t("onboarding.welcome.restore")}
      </Button>
      <p className="mt-6 text-xs leading-relaxed text-muted-foreground">{t("onboarding.welcome.privacy")}</p>
    </>
  );
}

type RestoreMethod = "phrase" | "backup";

function RestoreStep({
  keyMissing,
  onHold,
  onRestored,
  onBack,
}: {
  keyMissing: KeyMissingIdentity | null;
  onHold: (held: boolean) => void;
  onRestored: (state: IdentityState) => void;
  onBack: (() => void) | null;
}) {
  const { t } = useTranslation();
  const backend = useBackend();
  const ids = { phrase: useId(), name: useId(), file: useId(), passphrase: useId(), count: useId() };
  // Both forms keep what was typed while the other tab is open, and after a refusal.
  const [method, setMethod] = useState<RestoreMethod>("phrase");
  const [phrase, setPhrase] = useState("");
  const [name, setName] = useState(keyMissing?.displayName ?? "");
  const [file, setFile] = useState<File | null>(null);
  const [passphrase, setPassphrase] = useState("");
  const [problem, setProblem] = useState<{ method: RestoreMethod; message: string } | null>(null);
  const [pending, setPending] = useState(false);
  const words = phrase.trim().split(/\s+/).filter(Boolean).length;

  async function restore(which: RestoreMethod, run: () => Promise<IdentityState>) {
    setProblem(null);
    setPending(true);
    onHold(true);
    try {
      const state = await run();
      onRestored(state);
    } catch (cause) {
      onHold(false);
      setProblem({ method: which, message: BackendError.from(cause).message });
    } finally {
      setPending(false);
    }
  }

  function submitPhrase(event: FormEvent) {
    event.preventDefault();
    if (words === 0) return setProblem({ method: "phrase", message: t("onboarding.restore.phraseEmpty") });
    const invalid = displayNameProblem(name);
    if (invalid) return setProblem({ method: "phrase", message: t(invalid, { max: MAX_DISPLAY_NAME }) });
    void restore("phrase", () => backend.restoreFromPhrase(phrase.trim().split(/\s+/).join(" "), name.trim()));
  }

  function submitBackup(event: FormEvent) {
    event.preventDefault();
    if (!file) return setProblem({ method: "backup", message: t("onboarding.restore.fileMissing") });
    if (passphrase.length === 0) return setProblem({ method: "backup", message: t("onboarding.restore.passphraseEmpty") });
    void restore("backup", async () => backend.restoreFromBackup(await readFileBytes(file), passphrase));
  }

  const error = (which: RestoreMethod) =>
    problem?.method === which ? <FormError message={problem.message} testId="onboarding-error" /> : null;

  return (
    <>
      {onBack && (
        <Button variant="ghost" size="sm" className="-mt-2 mb-4 -ml-2" onClick={onBack}>
          <ArrowLeft aria-hidden />
          {t("onboarding.back")}
        </Button>
      )}
      {keyMissing ? (
        <>
          <div className="mb-5 flex size-12 items-center justify-center rounded-xl bg-warning/15 text-foreground">
            <ShieldAlert className="size-6" aria-hidden />
          </div>
          <StepHeading
            description={t("onboarding.keyMissing.body", {
              name: keyMissing.displayName,
              fingerprint: keyMissing.fingerprint,
              keystore: keyMissing.keystore,
            })}
          >
            {t("onboarding.keyMissing.title")}
          </StepHeading>
          <p data-testid="onboarding-key-missing" className="-mt-3 mb-6 text-sm leading-relaxed text-muted-foreground">
            {t("onboarding.keyMissing.safe")}
          </p>
        </>
      ) : (
        <StepHeading description={t("onboarding.restore.body")}>{t("onboarding.restore.title")}</StepHeading>
      )}
      <Tabs value={method} onValueChange={(value) => setMethod(value as RestoreMethod)}>
        <TabsList className="w-full" aria-label={t("onboarding.restore.methodLabel")}>
          <TabsTrigger value="phrase" data-testid="restore-tab-phrase">
            <KeyRound aria-hidden />
            {t("onboarding.restore.phraseTab")}
          </TabsTrigger>
          <TabsTrigger value="backup" data-testid="restore-tab-backup">
            <FileKey2 aria-hidden />
            {t("onboarding.restore.backupTab")}
          </TabsTrigger>
        </TabsList>
        <TabsContent value="phrase" forceMount className="data-[state=inactive]:hidden">
          <form onSubmit={submitPhrase} className="flex flex-col gap-4" noValidate>
            <div className="flex flex-col gap-2">
              <Label htmlFor={ids.phrase}>{t("onboarding.restore.phraseLabel")}</Label>
              <Textarea
                id={ids.phrase}
                data-testid="restore-phrase"
                value={phrase}
                onChange={(event) => setPhrase(event.target.value)}
                rows={4}
                spellCheck={false}
                autoCapitalize="off"
                autoComplete="off"
                autoCorrect="off"
                aria-describedby={ids.count}
                className="font-mono text-[13px]"
                placeholder={t("onboarding.restore.phrasePlaceholder")}
              />
              <p id={ids.count} className="text-xs text-muted-foreground tabular-nums" aria-live="polite">
                {t("onboarding.restore.wordCount", { count: words })}
              </p>
            </div>
            <div className="flex flex-col gap-2">
              <Label htmlFor={ids.name}>{t("onboarding.restore.nameLabel")}</Label>
              <Input
                id={ids.name}
                data-testid="restore-name"
                value={name}
                onChange={(event) => setName(event.target.value)}
                autoComplete="name"
              />
            </div>
            {error("phrase")}
            <Button type="submit" data-testid="restore-phrase-submit" disabled={pending}>
              {pending && method === "phrase" ? t("onboarding.restore.restoring") : t("onboarding.restore.phraseSubmit")}
            </Button>
          </form>
        </TabsContent>
        <TabsContent value="backup" forceMount className="data-[state=inactive]:hidden">
          <form onSubmit={submitBackup} className="flex flex-col gap-4" noValidate>
            <div className="flex flex-col gap-2">
              <Label htmlFor={ids.file}>{t("onboarding.restore.fileLabel")}</Label>
              <Input
                id={ids.file}
                type="file"
                data-testid="restore-backup-file"
                accept=".tallymesh-backup,application/octet-stream"
                onChange={(event) => setFile(event.target.files?.[0] ?? null)}
                className="h-10 py-1.5"
              />
            </div>
            <div className="flex flex-col gap-2">
              <Label htmlFor={ids.passphrase}>{t("onboarding.restore.passphraseLabel")}</Label>
              <Input
                id={ids.passphrase}
                type="password"
                data-testid="restore-backup-passphrase"
                value={passphrase}
                onChange={(event) => setPassphrase(event.target.value)}
                autoComplete="current-password"
              />
            </div>
            {error("backup")}
            <Button type="submit" data-testid="restore-backup-submit" disabled={pending}>
              {pending && method === "backup" ? t("onboarding.restore.restoring") : t("onboarding.restore.backupSubmit")}
            </Button>
          </form>
        </TabsContent>
      </Tabs>
    </>
  );
}

function DoneStep({
  how,
  identity,
  onContinue,
}: {
  how: "created" | "restored";
  identity: ReadyIdentity;
  onContinue: () => void;
}) {
  const { t } = useTranslation();
  const phrase = useRecoveryPhrase();
  return (
    <>
      <StepHeading
        description={how === "created" ? t("onboarding.done.createdBody") : t("onboarding.done.restoredBody")}
      >
        {how === "created"
          ? t("onboarding.done.createdTitle", { name: identity.displayName })
          : t("onboarding.done.restoredTitle", { name: identity.displayName })}
      </StepHeading>
      <div className="mb-6 rounded-lg bg-muted/70 px-4 py-3">
        <p className="text-xs font-medium text-muted-foreground">{t("identity.partyId")}</p>
        <p data-testid="onboarding-party-id" data-value={identity.partyId} title={identity.partyId} className="font-mono text-[13px]">
          {shortenId(identity.partyId, 16, 8)}
        </p>
      </div>
      {how === "created" && (
        <section aria-labelledby="onboarding-phrase-title" className="mb-6 flex flex-col gap-3">
          <h2 id="onboarding-phrase-title" className="font-semibold">
            {t("onboarding.done.phraseTitle")}
          </h2>
          <p className="text-sm leading-relaxed text-muted-foreground">{t("onboarding.done.phraseBody")}</p>
          {phrase.words ? (
            <>
              <PhraseWords words={phrase.words} testId="onboarding-phrase-words" />
              <Button variant="outline" size="sm" className="self-start" onClick={phrase.hide}>
                {t("identity.phrase.hide")}
              </Button>
            </>
          ) : (
            <Button
              variant="outline"
              className="self-start"
              data-testid="onboarding-show-phrase"
              disabled={phrase.pending}
              onClick={() => void phrase.reveal()}
            >
              <KeyRound aria-hidden />
              {t("onboarding.done.showPhrase")}
            </Button>
          )}
          {phrase.error && <FormError message={phrase.error.message} testId="onboarding-error" />}
        </section>
      )}
      <Button size="lg" className="w-full" data-testid="onboarding-done" onClick={onContinue}>
        {how === "created" && !phrase.words ? t("onboarding.done.later") : t("onboarding.done.continue")}
      </Button>
    </>
  );
}
