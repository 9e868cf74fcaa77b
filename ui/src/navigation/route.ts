import { useCallback, useSyncExternalStore } from "react";
import { DEFAULT_SCREEN, isScreenId, type ScreenId } from "./screens";

// The current screen lives in the URL hash (`#/settings`), so reloads and the
// back button keep their place without a router.

function screenFromHash(hash: string): ScreenId {
  const id = hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? "";
  return isScreenId(id) ? id : DEFAULT_SCREEN;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

function snapshot(): ScreenId {
  return screenFromHash(window.location.hash);
}

export function navigateTo(screen: ScreenId): void {
  const hash = `#/${screen}`;
  if (window.location.hash !== hash) window.location.hash = hash;
}

export function useRoute(): { screen: ScreenId; navigate: (screen: ScreenId) => void } {
  const screen = useSyncExternalStore(subscribe, snapshot, () => DEFAULT_SCREEN);
  const navigate = useCallback((next: ScreenId) => navigateTo(next), []);
  return { screen, navigate };
}
