import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App, AppProviders, createQueryClient } from "@/app";
import { MockBackend, type MockBackendOptions } from "@/backend";
import { createI18n, type Language } from "@/i18n";
import type { ScreenId } from "@/navigation/screens";

/** Renders the whole app against a mock node, on the given screen and in the given language. */
export function renderApp(
  options: { backend?: MockBackend; backendOptions?: MockBackendOptions; screen?: ScreenId; language?: Language } = {},
) {
  const backend = options.backend ?? new MockBackend(options.backendOptions);
  if (options.screen) window.location.hash = `#/${options.screen}`;
  const queryClient = createQueryClient({ retry: false });
  const i18n = createI18n(options.language ?? "en");
  const user = userEvent.setup();
  const result = render(
    <AppProviders backend={backend} queryClient={queryClient} i18n={i18n}>
      <App />
    </AppProviders>,
  );
  return { ...result, backend, queryClient, i18n, user };
}
