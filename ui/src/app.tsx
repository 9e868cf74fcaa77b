import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { i18n } from "i18next";
import type { ReactNode } from "react";
import { I18nextProvider } from "react-i18next";
import { BackendProvider, type Backend } from "@/backend";
import { TooltipProvider } from "@/components/ui/tooltip";
import { AppShell } from "@/layout/app-shell";
import { useRoute } from "@/navigation/route";
import type { ScreenId } from "@/navigation/screens";
import { useNodeEventRefresh } from "@/node/node-status";
import { useDocumentLanguage } from "@/preferences/language";
import { ThemeProvider } from "@/preferences/theme";
import { HomeScreen } from "@/screens/home/home-screen";
import { SettingsScreen } from "@/screens/settings/settings-screen";

export function createQueryClient(options: { retry?: number | false } = {}): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // One quiet retry hides a hiccup; a node that stays silent is shown as such.
        retry: options.retry ?? 1,
        retryDelay: 500,
        staleTime: 1_000,
      },
    },
  });
}

export interface AppProvidersProps {
  backend: Backend;
  queryClient: QueryClient;
  i18n: i18n;
  children: ReactNode;
}

/** Everything a screen needs around it; tests wrap screens in the same providers. */
export function AppProviders({ backend, queryClient, i18n, children }: AppProvidersProps) {
  return (
    <BackendProvider backend={backend}>
      <QueryClientProvider client={queryClient}>
        <I18nextProvider i18n={i18n}>
          <ThemeProvider>
            <TooltipProvider>{children}</TooltipProvider>
          </ThemeProvider>
        </I18nextProvider>
      </QueryClientProvider>
    </BackendProvider>
  );
}

const SCREEN_COMPONENTS: Record<ScreenId, () => ReactNode> = {
  home: HomeScreen,
  settings: SettingsScreen,
};

export function App() {
  const { screen, navigate } = useRoute();
  useNodeEventRefresh();
  useDocumentLanguage();
  const Screen = SCREEN_COMPONENTS[screen];
  return (
    <AppShell screen={screen} onNavigate={navigate}>
      <Screen />
    </AppShell>
  );
}
