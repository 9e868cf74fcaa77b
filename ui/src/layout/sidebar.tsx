import { PanelLeftClose, PanelLeftOpen } from "lucide-react";
import { useTranslation } from "react-i18next";
import { ProductMark } from "@/components/product-mark";
import { StatusDot } from "@/components/status-dot";
import { Button } from "@/components/ui/button";
import { Kbd } from "@/components/ui/kbd";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { cn } from "@/lib/utils";
import { SCREENS, type ScreenId } from "@/navigation/screens";
import { shortcutLabel } from "@/navigation/shortcuts";
import { useNodeStatus } from "@/node/node-status";

export function Sidebar({
  screen,
  onNavigate,
  collapsed,
  onToggleCollapsed,
}: {
  screen: ScreenId;
  onNavigate: (screen: ScreenId) => void;
  collapsed: boolean;
  onToggleCollapsed: () => void;
}) {
  const { t } = useTranslation();

  return (
    <aside
      data-collapsed={collapsed}
      className={cn(
        "flex h-full shrink-0 flex-col border-r border-sidebar-border bg-sidebar text-sidebar-foreground transition-[width] duration-200 ease-out",
        collapsed ? "w-[68px]" : "w-60",
      )}
    >
      <div className={cn("flex h-16 items-center gap-2.5", collapsed ? "justify-center px-0" : "px-5")}>
        <ProductMark />
        {!collapsed && <span className="text-[15px] font-semibold tracking-tight text-foreground">{t("app.name")}</span>}
      </div>

      <nav aria-label={t("nav.label")} className="flex-1 px-3 pt-2">
        <ul className="flex flex-col gap-0.5">
          {SCREENS.map((entry, index) => {
            const label = t(entry.labelKey);
            const active = entry.id === screen;
            const keys = shortcutLabel(String(index + 1));
            const link = (
              <a
                href={`#/${entry.id}`}
                data-testid={`nav-${entry.id}`}
                aria-current={active ? "page" : undefined}
                aria-label={collapsed ? label : undefined}
                aria-keyshortcuts={`Control+${index + 1} Meta+${index + 1}`}
                onClick={(event) => {
                  event.preventDefault();
                  onNavigate(entry.id);
                }}
                className={cn(
                  "group flex h-9 items-center gap-3 rounded-md px-2.5 text-sm font-medium outline-none transition-colors focus-visible:ring-[3px] focus-visible:ring-sidebar-ring/50",
                  collapsed && "justify-center px-0",
                  active
                    ? "bg-sidebar-accent text-sidebar-accent-foreground"
                    : "text-sidebar-foreground/80 hover:bg-sidebar-accent/60 hover:text-sidebar-accent-foreground",
                )}
              >
                <entry.icon
                  aria-hidden
                  className={cn("size-[18px] shrink-0", active ? "text-sidebar-primary" : "text-muted-foreground group-hover:text-foreground")}
                />
                {!collapsed && (
                  <>
                    <span className="flex-1 truncate">{label}</span>
                    <Kbd
                      aria-hidden
                      className="opacity-0 transition-opacity group-hover:opacity-100 group-focus-visible:opacity-100"
                    >
                      {keys}
                    </Kbd>
                  </>
                )}
              </a>
            );
            return (
              <li key={entry.id}>
                {collapsed ? (
                  <Tooltip>
                    <TooltipTrigger asChild>{link}</TooltipTrigger>
                    <TooltipContent side="right">
                      {label} <span className="ml-1 opacity-60">{keys}</span>
                    </TooltipContent>
                  </Tooltip>
                ) : (
                  link
                )}
              </li>
            );
          })}
        </ul>
      </nav>

      <div className={cn("flex flex-col gap-2 border-t border-sidebar-border p-3", collapsed && "items-center")}>
        <NodeIndicator collapsed={collapsed} />
        <Tooltip>
          <TooltipTrigger asChild>
            <Button
              variant="ghost"
              size={collapsed ? "icon" : "sm"}
              onClick={onToggleCollapsed}
              aria-label={collapsed ? t("nav.expand") : t("nav.collapse")}
              aria-expanded={!collapsed}
              className={cn(!collapsed && "justify-start gap-3 px-2.5")}
            >
              {collapsed ? <PanelLeftOpen aria-hidden /> : <PanelLeftClose aria-hidden />}
              {!collapsed && <span className="font-normal">{t("nav.collapse")}</span>}
            </Button>
          </TooltipTrigger>
          {collapsed && (
            <TooltipContent side="right">
              {t("nav.expand")} <span className="ml-1 opacity-60">{shortcutLabel("B")}</span>
            </TooltipContent>
          )}
        </Tooltip>
      </div>
    </aside>
  );
}

/** A quiet reminder of the node's state, visible from every screen. */
function NodeIndicator({ collapsed }: { collapsed: boolean }) {
  const { t } = useTranslation();
  const status = useNodeStatus();
  const tone = status.isError ? "error" : status.isSuccess ? "ok" : "pending";
  const label = status.isError ? t("node.unreachable") : status.isSuccess ? t("node.running") : t("node.checking");

  if (collapsed) {
    return (
      <Tooltip>
        <TooltipTrigger asChild>
          <span tabIndex={0} aria-label={`${t("node.stateLabel")}: ${label}`} className="flex size-9 items-center justify-center rounded-md outline-none focus-visible:ring-[3px] focus-visible:ring-sidebar-ring/50">
            <StatusDot tone={tone} />
          </span>
        </TooltipTrigger>
        <TooltipContent side="right">{label}</TooltipContent>
      </Tooltip>
    );
  }
  return (
    <div className="flex items-center gap-3 px-2.5 py-1.5 text-xs text-muted-foreground">
      <StatusDot tone={tone} className="mx-[5px]" />
      <span className="flex-1 truncate">
        <span className="sr-only">{t("node.stateLabel")}: </span>
        {label}
      </span>
      {status.data && <span className="tabular-nums">v{status.data.version}</span>}
    </div>
  );
}
