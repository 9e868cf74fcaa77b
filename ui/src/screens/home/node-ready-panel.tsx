import { CheckCircle2, CircleDashed, ShieldCheck } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Skeleton } from "@/components/ui/skeleton";
import { useNodeStatus } from "@/node/node-status";

/**
 * What is true right now, said plainly. There are no tallies yet, so nothing
 * here invites an action the app cannot take.
 */
export function NodeReadyPanel() {
  const { t } = useTranslation();
  const status = useNodeStatus();

  // Only a node that answered is called ready; a failure is explained in the status card.
  if (status.isError) return null;

  return (
    <section
      aria-labelledby={status.isPending ? undefined : "node-ready-title"}
      aria-busy={status.isPending}
      data-testid="node-ready-panel"
      className="flex flex-col gap-4 rounded-xl border border-primary/15 bg-gradient-to-b from-brand-soft to-brand-soft/40 p-6"
    >
      <span className="flex size-9 items-center justify-center rounded-lg bg-primary text-primary-foreground shadow-sm">
        <ShieldCheck className="size-[18px]" aria-hidden />
      </span>
      {status.isPending ? (
        <div className="flex flex-col gap-3" data-testid="node-ready-loading">
          <Skeleton className="h-5 w-2/3 bg-primary/10" />
          <Skeleton className="h-4 w-full bg-primary/10" />
          <Skeleton className="h-4 w-5/6 bg-primary/10" />
          <Skeleton className="h-4 w-3/4 bg-primary/10" />
        </div>
      ) : (
        <>
          <div className="flex flex-col gap-2">
            <h2 id="node-ready-title" className="text-base font-semibold">
              {t("home.ready.title")}
            </h2>
            <p className="text-sm leading-relaxed text-foreground/75">{t("home.ready.body")}</p>
          </div>
          <ul className="flex flex-col gap-2 text-sm">
            <Fact done>{t("home.ready.running")}</Fact>
            <Fact done>{t("home.ready.storage")}</Fact>
            <Fact done={status.data.listenAddrs.length > 0}>
              {status.data.listenAddrs.length > 0
                ? t("home.ready.listening", { count: status.data.listenAddrs.length })
                : t("home.ready.notListening")}
            </Fact>
            <Fact done={status.data.connectedPeers > 0}>
              {status.data.connectedPeers > 0
                ? t("home.ready.peers", { count: status.data.connectedPeers })
                : t("home.ready.noPeers")}
            </Fact>
          </ul>
        </>
      )}
      <p className="border-t border-primary/15 pt-4 text-xs leading-relaxed text-foreground/65">{t("home.ready.later")}</p>
    </section>
  );
}

function Fact({ done, children }: { done: boolean; children: string }) {
  const Icon = done ? CheckCircle2 : CircleDashed;
  return (
    <li className="flex items-center gap-2.5">
      <Icon className={done ? "size-4 shrink-0 text-primary" : "size-4 shrink-0 text-muted-foreground"} aria-hidden />
      <span>{children}</span>
    </li>
  );
}
