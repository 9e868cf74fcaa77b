import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { SCREENS, type ScreenId } from "@/navigation/screens";
import { useCommandShortcuts } from "@/navigation/shortcuts";
import { Sidebar } from "./sidebar";

const COLLAPSED_KEY = "tallymesh.sidebarCollapsed";

function readCollapsed(): boolean {
  try {
    return window.localStorage.getItem(COLLAPSED_KEY) === "true";
  } catch {
    return false;
  }
}

/** The window's frame: the sidebar, keyboard shortcuts, and the current screen. */
export function AppShell({
  screen,
  onNavigate,
  children,
}: {
  screen: ScreenId;
  onNavigate: (screen: ScreenId) => void;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  const [collapsed, setCollapsed] = useState(readCollapsed);
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  const toggleCollapsed = useCallback(() => {
    setCollapsed((value) => {
      const next = !value;
      try {
        window.localStorage.setItem(COLLAPSED_KEY, String(next));
      } catch {
        // Remembered for this run only.
      }
      return next;
    });
  }, []);

  useCommandShortcuts(
    useCallback(
      (key: string, event: KeyboardEvent) => {
        const index = Number.parseInt(key, 10) - 1;
        const target = SCREENS[index];
        if (target) {
          event.preventDefault();
          onNavigate(target.id);
        } else if (key === "b") {
          event.preventDefault();
          toggleCollapsed();
        }
      },
      [onNavigate, toggleCollapsed],
    ),
  );

  // After a navigation, move focus to the new screen so keyboard and screen
  // reader users land on its content, and name the window after it.
  useEffect(() => {
    const entry = SCREENS.find((s) => s.id === screen);
    document.title = entry && entry.id !== "home" ? `${t(entry.labelKey)} · ${t("app.name")}` : t("app.name");
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.focus({ preventScroll: true });
  }, [screen, t]);

  return (
    <div className="flex h-full">
      <a
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          mainRef.current?.focus();
        }}
        className="sr-only z-50 rounded-md bg-primary px-3 py-2 text-sm text-primary-foreground focus:not-sr-only focus:fixed focus:top-3 focus:left-3"
      >
        {t("app.skipToContent")}
      </a>
      <Sidebar screen={screen} onNavigate={onNavigate} collapsed={collapsed} onToggleCollapsed={toggleCollapsed} />
      <main id="main" ref={mainRef} tabIndex={-1} className="min-w-0 flex-1 overflow-y-auto outline-none">
        <div className="mx-auto w-full max-w-5xl px-6 py-8 sm:px-10 sm:py-10">{children}</div>
      </main>
    </div>
  );
}
