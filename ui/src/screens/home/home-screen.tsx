import { useTranslation } from "react-i18next";
import { PageHeader } from "@/components/page-header";
import { formatLongDate } from "@/i18n/format";
import { useIdentity } from "@/identity/identity";
import { useNodeStatus } from "@/node/node-status";
import { NodeReadyPanel } from "./node-ready-panel";
import { NodeStatusCard } from "./node-status-card";
import { NeedsYou, PositionCard } from "./tallies-overview";

function greetingKey(hour: number): "morning" | "afternoon" | "evening" {
  if (hour >= 5 && hour < 12) return "morning";
  if (hour >= 12 && hour < 19) return "afternoon";
  return "evening";
}

export function HomeScreen() {
  const { t, i18n } = useTranslation();
  const now = new Date();
  const identity = useIdentity();
  // A member device acts for its party as well: greet the party by name.
  const name = identity.data?.state === "ready" || identity.data?.state === "member" ? identity.data.displayName : null;
  const greeting = greetingKey(now.getHours());
  // Where I stand comes from the node: while it can't be reached, the status card explains.
  const nodeUp = useNodeStatus().isSuccess;

  return (
    <div data-testid="home-screen">
      <PageHeader
        eyebrow={<span className="inline-block first-letter:uppercase">{formatLongDate(now.getTime(), i18n.language)}</span>}
        title={name ? t(`home.greetingNamed.${greeting}`, { name }) : t(`home.greeting.${greeting}`)}
        description={t("home.subtitle")}
      />
      <div className="grid items-start gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
        {nodeUp && <PositionCard />}
        {nodeUp && <NeedsYou />}
        <NodeStatusCard />
        <NodeReadyPanel />
      </div>
    </div>
  );
}
