import { Monitor, Moon, Sun } from "lucide-react";
import { useTranslation } from "react-i18next";
import { ErrorPanel } from "@/components/error-panel";
import { PageHeader } from "@/components/page-header";
import { ToggleGroup, ToggleGroupItem } from "@/components/ui/toggle-group";
import { LANGUAGES, isLanguage } from "@/i18n";
import { formatDateTime, formatNumber } from "@/i18n/format";
import { useNodeStatus } from "@/node/node-status";
import { useLanguage } from "@/preferences/language";
import { THEME_PREFERENCES, useTheme, type ThemePreference } from "@/preferences/theme";
import { DevicesSection } from "./devices-section";
import { IdentitySection } from "./identity-section";
import { PathValue, Section, SettingRow, Value } from "./section";

const THEME_ICONS: Record<ThemePreference, typeof Sun> = { system: Monitor, light: Sun, dark: Moon };

export function SettingsScreen() {
  const { t } = useTranslation();
  return (
    <div data-testid="settings-screen">
      <PageHeader title={t("settings.title")} description={t("settings.subtitle")} />
      <div className="flex flex-col gap-6">
        <IdentitySection />
        <DevicesSection />
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
