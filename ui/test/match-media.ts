/**
 * jsdom has no `matchMedia`. This one answers `(prefers-color-scheme: dark)`
 * from a switch the tests flip, and tells listeners as a real OS change would.
 */
type Listener = (event: MediaQueryListEvent) => void;

const DARK_QUERY = "(prefers-color-scheme: dark)";
const listeners = new Set<Listener>();
let systemDark = false;

export function installMatchMedia(): void {
  window.matchMedia = (query: string): MediaQueryList => {
    const list: MediaQueryList = {
      get matches() {
        return query === DARK_QUERY ? systemDark : false;
      },
      media: query,
      onchange: null,
      addEventListener: (_type: string, listener: EventListenerOrEventListenerObject) => {
        if (query === DARK_QUERY && typeof listener === "function") listeners.add(listener as Listener);
      },
      removeEventListener: (_type: string, listener: EventListenerOrEventListenerObject) => {
        listeners.delete(listener as Listener);
      },
      addListener: (listener) => {
        if (query === DARK_QUERY && listener) listeners.add(listener as Listener);
      },
      removeListener: (listener) => {
        listeners.delete(listener as Listener);
      },
      dispatchEvent: () => false,
    };
    return list;
  };
}

/** Flips the OS between light and dark. */
export function setSystemDark(dark: boolean): void {
  systemDark = dark;
  const event = { matches: dark, media: DARK_QUERY } as MediaQueryListEvent;
  for (const listener of [...listeners]) listener(event);
}

export function resetMatchMedia(): void {
  systemDark = false;
  listeners.clear();
}
