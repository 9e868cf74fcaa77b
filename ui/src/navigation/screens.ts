import { House, MessagesSquare, Network, NotebookTabs, Settings, ShieldCheck, Users, type LucideIcon } from "lucide-react";

/**
 * The screens in the sidebar, in order; Ctrl/Cmd+1… follows this order.
 * A screen is listed here only once it works for real.
 */
export const SCREENS = [
  { id: "home", icon: House, labelKey: "nav.home" },
  { id: "tallies", icon: NotebookTabs, labelKey: "nav.tallies" },
  { id: "chat", icon: MessagesSquare, labelKey: "nav.chat" },
  { id: "contacts", icon: Users, labelKey: "nav.contacts" },
  { id: "trust", icon: ShieldCheck, labelKey: "nav.trust" },
  { id: "network", icon: Network, labelKey: "nav.network" },
  { id: "settings", icon: Settings, labelKey: "nav.settings" },
] as const satisfies readonly { id: string; icon: LucideIcon; labelKey: string }[];

export type ScreenId = (typeof SCREENS)[number]["id"];

export const DEFAULT_SCREEN: ScreenId = "home";

export function isScreenId(value: string): value is ScreenId {
  return SCREENS.some((screen) => screen.id === value);
}
