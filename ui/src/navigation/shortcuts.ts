import { useEffect } from "react";

export function isApplePlatform(): boolean {
  if (typeof navigator === "undefined") return false;
  return /Mac|iPhone|iPad/i.test(navigator.platform || navigator.userAgent);
}

/** How the screen shortcut for `digit` is written on this platform: "⌘1" or "Ctrl+1". */
export function shortcutLabel(key: string): string {
  return isApplePlatform() ? `⌘${key}` : `Ctrl+${key}`;
}

/** Ctrl or Cmd + a digit or letter, with no other modifier. */
function commandKey(event: KeyboardEvent): string | null {
  if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return null;
  // `code` keeps digits working on layouts where they sit under a modifier (AZERTY).
  const digit = /^(?:Digit|Numpad)([0-9])$/.exec(event.code)?.[1];
  return digit ?? event.key.toLowerCase();
}

/** Calls `onKey` with the key of every Ctrl/Cmd shortcut pressed in the window. */
export function useCommandShortcuts(onKey: (key: string, event: KeyboardEvent) => void): void {
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.defaultPrevented || event.repeat) return;
      const key = commandKey(event);
      if (key !== null) onKey(key, event);
    }
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [onKey]);
}
