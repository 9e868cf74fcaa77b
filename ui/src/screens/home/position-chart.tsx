import { useTranslation } from "react-i18next";
import type { NetPosition } from "@/backend";
import { formatAmount } from "@/lib/amount";

const WIDTH = 560;
const HEIGHT = 140;
const PAD = 6;

/**
 * The net position over time as a small line chart, drawn by hand in SVG: a
 * step line (balances change at chits, not between them) with the zero line
 * marked. Decorative for screen readers; the figures beside it say it all.
 */
export function PositionChart({ position }: { position: NetPosition }) {
  const { t, i18n } = useTranslation();
  const points = position.points;
  if (points.length < 2) return null;
  const times = points.map((point) => point.atMs);
  const values = points.map((point) => point.net);
  const minT = Math.min(...times);
  const maxT = Math.max(...times);
  const minV = Math.min(0, ...values);
  const maxV = Math.max(0, ...values);
  const spanT = maxT - minT || 1;
  const spanV = maxV - minV || 1;
  const x = (at: number) => PAD + ((at - minT) / spanT) * (WIDTH - 2 * PAD);
  const y = (net: number) => PAD + (1 - (net - minV) / spanV) * (HEIGHT - 2 * PAD);
  let path = `M${x(points[0]!.atMs).toFixed(1)} ${y(points[0]!.net).toFixed(1)}`;
  for (let i = 1; i < points.length; i += 1) {
    const point = points[i]!;
    path += `H${x(point.atMs).toFixed(1)}V${y(point.net).toFixed(1)}`;
  }
  const zero = y(0);
  const area = `${path}V${zero.toFixed(1)}H${x(points[0]!.atMs).toFixed(1)}Z`;
  const positive = position.net >= 0;
  const label = t("home.position.chartLabel", {
    low: formatAmount(Math.min(...values), position.unit, i18n.language),
    high: formatAmount(Math.max(...values), position.unit, i18n.language),
  });
  return (
    <svg
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
      data-testid="position-chart"
      data-points={points.length}
      className="h-36 w-full"
    >
      <title>{label}</title>
      <path d={area} className={positive ? "fill-success/10" : "fill-warning/15"} />
      <line x1={PAD} x2={WIDTH - PAD} y1={zero} y2={zero} className="stroke-foreground/25" strokeDasharray="4 4" strokeWidth={1} vectorEffect="non-scaling-stroke" />
      <path d={path} fill="none" className={positive ? "stroke-success" : "stroke-warning"} strokeWidth={2} vectorEffect="non-scaling-stroke" strokeLinejoin="round" />
    </svg>
  );
}
