import { useCallback, useMemo, useSyncExternalStore } from "react";
import { DEFAULT_SCREEN, isScreenId, type ScreenId } from "./screens";

// The current screen lives in the URL hash (`#/settings`), so reloads and the
// back button keep their place without a router. A screen may take one more
// part, such as the contact shown (`#/contacts/did%3Akey%3Az6Mk…`).

export interface Route {
  screen: ScreenId;
  /** The part after the screen, decoded; `null` when there is none. */
  param: string | null;
}

export function routeFromHash(hash: string): Route {
  const [id = "", rawParam] = hash.replace(/^#\/?/, "").split(/[?]/)[0]!.split("/");
  if (!isScreenId(id)) return { screen: DEFAULT_SCREEN, param: null };
  let param: string | null = null;
  if (rawParam) {
    try {
      param = decodeURIComponent(rawParam);
    } catch {
      param = null;
    }
  }
  return { screen: id, param };
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

function snapshot(): string {
  return window.location.hash;
}

export function navigateTo(screen: ScreenId, param?: string | null): void {
  const hash = param ? `#/${screen}/${encodeURIComponent(param)}` : `#/${screen}`;
  if (window.location.hash !== hash) window.location.hash = hash;
}

export function useRoute(): Route & { navigate: (screen: ScreenId, param?: string | null) => void } {
  const hash = useSyncExternalStore(subscribe, snapshot, () => "");
  const route = useMemo(() => routeFromHash(hash), [hash]);
  const navigate = useCallback((next: ScreenId, param?: string | null) => navigateTo(next, param), []);
  return { ...route, navigate };
}
