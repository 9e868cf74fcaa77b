import { Monitor, Moon, Sun } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { CopyButton } from "@/components/copy-button";
import { ErrorPanel } from "@/components/error-panel";
import { PageHeader } from "@/components/page-header";
import { Skeleton } from "@/components/ui/skeleton";
import { ToggleGroup, ToggleGroupItem } from "@/components/ui/toggle-group";
import { LANGUAGES, isLanguage } from "@/i18n";
import { formatDateTime, formatNumber } from "@/i18n/format";
import { useNodeStatus } from "@/node/node-status";
import { useLanguage } from "@/preferences/language";
import { THEME_PREFERENCES, useTheme, type ThemePreference } from "@/preferences/theme";

const THEME_ICONS: Record<ThemePreference, typeof Sun> = { system: Monitor, light: Sun, dark: Moon };

export function SettingsScreen() {
  const { t } = useTranslation();
  return (
    <div data-testid="settings-screen">
      <PageHeader title={t("settings.title")} description={t("settings.subtitle")} />
      <div className="flex flex-col gap-6">
        <NodeSections />
        <AppearanceSection />
        <LanguageSection />
      </div>
    </div>
  );
}

/** About and Storage come from the node; while it can't be reached, one panel says so. */
function NodeSections() {
  const { t, i18n } = useTranslation();
  const status = useNodeStatus();

  if (status.isError) {
    return <ErrorPanel error={status.error} onRetry={() => void status.refetch()} retrying={status.isFetching} />;
  }

  const data = status.data;
  const locale = i18n.language;
  return (
    <>
      <Section id="about" title={t("settings.about.title")} description={t("settings.about.description")}>
        <SettingRow label={t("settings.about.version")}>
          <Value testId="settings-version" value={data?.version} className="tabular-nums" />
        </SettingRow>
        <SettingRow label={t("settings.about.schemaVersion")}>
          <Value
            testId="settings-schema-version"
            value={data && formatNumber(data.schemaVersion, locale)}
            className="tabular-nums"
          />
        </SettingRow>
        <SettingRow label={t("settings.about.startedAt")}>
          <Value value={data && formatDateTime(data.startedAtMs, locale)} className="tabular-nums" />
        </SettingRow>
      </Section>

      <Section id="storage" title={t("settings.storage.title")} description={t("settings.storage.description")}>
        <SettingRow label={t("settings.storage.dataDir")}>
          <PathValue testId="settings-data-dir" path={data?.dataDir} copyLabel={t("copy.dataDir")} />
        </SettingRow>
        <SettingRow label={t("settings.storage.databasePath")}>
          <PathValue testId="settings-database-path" path={data?.databasePath} copyLabel={t("copy.databasePath")} />
        </SettingRow>
        <SettingRow label={t("settings.storage.logDir")}>
          <PathValue testId="settings-log-dir" path={data?.logDir} copyLabel={t("copy.logDir")} />
        </SettingRow>
      </Section>
    </>
  );
}

function AppearanceSection() {
  const { t } = useTranslation();
  const { preference, setPreference } = useTheme();
  return (
    <Section id="appearance" title={t("settings.appearance.title")} description={t("settings.appearance.description")}>
      <SettingRow label={t("settings.appearance.theme")} labelId="theme-label">
        <ToggleGroup
          type="single"
          value={preference}
          aria-labelledby="theme-label"
          onValueChange={(value) => {
            // A segmented control always has a choice: clicking the active one keeps it.
            if (value) setPreference(value as ThemePreference);
          }}
        >
          {THEME_PREFERENCES.map((option) => {
            const Icon = THEME_ICONS[option];
            return (
              <ToggleGroupItem key={option} value={option} data-testid={`theme-${option}`}>
                <Icon aria-hidden />
                {t(`settings.appearance.${option}`)}
              </ToggleGroupItem>
            );
          })}
        </ToggleGroup>
      </SettingRow>
    </Section>
  );
}

function LanguageSection() {
  const { t } = useTranslation();
  const { language, setLanguage } = useLanguage();
  return (
    <Section id="language" title={t("settings.language.title")} description={t("settings.language.description")}>
      <SettingRow label={t("settings.language.label")} labelId="language-label">
        <ToggleGroup
          type="single"
          value={language}
          aria-labelledby="language-label"
          onValueChange={(value) => {
            if (isLanguage(value)) setLanguage(value);
          }}
        >
          {LANGUAGES.map((option) => (
            <ToggleGroupItem key={option} value={option} lang={option} data-testid={`language-${option}`}>
              {t(`settings.language.${option}`)}
            </ToggleGroupItem>
          ))}
        </ToggleGroup>
      </SettingRow>
    </Section>
  );
}

function Section({
  id,
  title,
  description,
  children,
}: {
  id: string;
  title: string;
  description: string;
  children: ReactNode;
}) {
  return (
    <section
      aria-labelledby={`settings-${id}-title`}
      className="grid gap-4 rounded-xl border bg-card p-6 shadow-[0_1px_2px_0_oklch(0.2_0.02_220/0.04)] md:grid-cols-[14rem_minmax(0,1fr)] md:gap-10"
    >
      <div className="flex flex-col gap-1.5">
        <h2 id={`settings-${id}-title`} className="font-semibold tracking-tight">
          {title}
        </h2>
        <p className="text-sm leading-relaxed text-muted-foreground">{description}</p>
      </div>
      <dl className="flex min-w-0 flex-col divide-y">{children}</dl>
    </section>
  );
}

function SettingRow({ label, labelId, children }: { label: string; labelId?: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-2 py-3 first:pt-0 last:pb-0 sm:flex-row sm:items-center sm:justify-between sm:gap-6">
      <dt id={labelId} className="shrink-0 text-sm text-muted-foreground">
        {label}
      </dt>
      <dd className="flex min-w-0 items-center justify-end">{children}</dd>
    </div>
  );
}

function Value({ value, testId, className }: { value: string | undefined; testId?: string; className?: string }) {
  if (value === undefined) return <Skeleton className="h-4 w-24" />;
  return (
    <span data-testid={testId} className={`text-sm font-medium ${className ?? ""}`}>
      {value}
    </span>
  );
}

function PathValue({ path, testId, copyLabel }: { path: string | undefined; testId: string; copyLabel: string }) {
  if (path === undefined) return <Skeleton className="h-4 w-56" />;
  return (
    <div className="flex min-w-0 items-center gap-1">
      <span data-testid={testId} className="min-w-0 text-right font-mono text-[13px] break-all" title={path}>
        {path}
      </span>
      <CopyButton value={path} label={copyLabel} />
    </div>
  );
}
