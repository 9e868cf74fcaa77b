import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { i18n } from "i18next";
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { I18nextProvider } from "react-i18next";
import { BackendProvider, useBackend, type Backend } from "@/backend";
import { ToastProvider } from "@/components/toaster";
import { TooltipProvider } from "@/components/ui/tooltip";
import { useIdentity } from "@/identity/identity";
import { AppShell } from "@/layout/app-shell";
import { LinkOffer } from "@/links/link-offer";
import { useRoute } from "@/navigation/route";
import type { ScreenId } from "@/navigation/screens";
import { useNodeEventRefresh } from "@/node/node-status";
import { useDocumentLanguage } from "@/preferences/language";
import { ThemeProvider } from "@/preferences/theme";
import { ChatScreen } from "@/screens/chat/chat-screen";
import { ContactsScreen } from "@/screens/contacts/contacts-screen";
import { HomeScreen } from "@/screens/home/home-screen";
import { NetworkScreen } from "@/screens/network/network-screen";
import { Onboarding } from "@/screens/onboarding/onboarding";
import { SettingsScreen } from "@/screens/settings/settings-screen";
import { TalliesScreen } from "@/screens/tallies/tallies-screen";
import { TrustScreen } from "@/screens/trust/trust-screen";
import { useTallyNotifier } from "@/tallies/notifications";
import { useChatNotifier } from "@/chat/notifications";

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
            <TooltipProvider>
              <ToastProvider>{children}</ToastProvider>
            </TooltipProvider>
          </ThemeProvider>
        </I18nextProvider>
      </QueryClientProvider>
    </BackendProvider>
  );
}

const SCREEN_COMPONENTS: Record<ScreenId, () => ReactNode> = {
  home: HomeScreen,
  tallies: TalliesScreen,
  chat: ChatScreen,
  contacts: ContactsScreen,
  trust: TrustScreen,
  network: NetworkScreen,
  settings: SettingsScreen,
};

/**
 * Onboarding while the node acts for nobody (or has lost the party's secret);
 * the app once it acts for a party. Until the node has said which, the app's
 * own loading states show: a ready party, the usual case, never waits on a
 * splash, and a node that can't be reached is explained on Home.
 */
export function App() {
  useDocumentLanguage();
  const { links, enqueue, next } = useOpenedLinks();
  const identity = useIdentity();
  const acting = identity.data?.state === "ready" || identity.data?.state === "member";
  useNodeEventRefresh(enqueue, useTallyNotifier(), useChatNotifier(acting));
  // Keeps onboarding on screen after the identity is made, until the person continues.
  const [onboardingHeld, setOnboardingHeld] = useState(false);
  const state = identity.data?.state;

  if (state === "none" || state === "keyMissing" || onboardingHeld) {
    return <Onboarding identity={identity.data} onHold={setOnboardingHeld} />;
  }
  return <MainWindow openedLink={links[0] ?? null} onLinkDone={next} />;
}

function MainWindow({ openedLink, onLinkDone }: { openedLink: string | null; onLinkDone: () => void }) {
  const { screen, navigate } = useRoute();
  const Screen = SCREEN_COMPONENTS[screen];
  return (
    <>
      <AppShell screen={screen} onNavigate={navigate}>
        <Screen />
      </AppShell>
      <LinkOffer link={openedLink} onDone={onLinkDone} />
    </>
  );
}

/**
 * The `tallymesh:` links waiting for an answer: those the app was started
 * with, taken once, and those the node announces while it runs.
 */
function useOpenedLinks() {
  const backend = useBackend();
  const [links, setLinks] = useState<string[]>([]);
  const taken = useRef(false);

  const enqueue = useCallback((link: string) => {
    setLinks((waiting) => (waiting.includes(link) ? waiting : [...waiting, link]));
  }, []);
  const next = useCallback(() => setLinks((waiting) => waiting.slice(1)), []);

  useEffect(() => {
    // The node hands each link out once, so it is asked once per window, and
    // its answer is kept even if the effect runs again in the meantime.
    if (taken.current) return;
    taken.current = true;
    backend.takeOpenedLinks().then(
      (opened) => opened.forEach(enqueue),
      () => {
        // A node that can't be reached has no links to give; nothing to offer.
      },
    );
  }, [backend, enqueue]);

  return { links, enqueue, next };
}
