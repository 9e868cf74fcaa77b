import type { ReactNode } from "react";
import { CopyButton } from "@/components/copy-button";
import { Skeleton } from "@/components/ui/skeleton";

/** A titled block of Settings: what it is about on the left, its rows on the right. */
export function Section({
  id,
  title,
  description,
  children,
  footer,
  testId,
}: {
  id: string;
  title: string;
  description: string;
  /** The label–value rows; a section that is all panels has none. */
  children?: ReactNode;
  /** What follows the rows: forms and panels that are more than a label and a value. */
  footer?: ReactNode;
  testId?: string;
}) {
  return (
    <section
      aria-labelledby={`settings-${id}-title`}
      data-testid={testId}
      className="grid gap-4 rounded-xl border bg-card p-6 shadow-[0_1px_2px_0_oklch(0.2_0.02_220/0.04)] md:grid-cols-[14rem_minmax(0,1fr)] md:gap-10"
    >
      <div className="flex flex-col gap-1.5">
        <h2 id={`settings-${id}-title`} className="font-semibold tracking-tight">
          {title}
        </h2>
        <p className="text-sm leading-relaxed text-muted-foreground">{description}</p>
      </div>
      <div className="flex min-w-0 flex-col gap-6">
        {children !== undefined && <dl className="flex min-w-0 flex-col divide-y">{children}</dl>}
        {footer}
      </div>
    </section>
  );
}

export function SettingRow({ label, labelId, children }: { label: string; labelId?: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-2 py-3 first:pt-0 last:pb-0 sm:flex-row sm:items-center sm:justify-between sm:gap-6">
      <dt id={labelId} className="shrink-0 text-sm text-muted-foreground">
        {label}
      </dt>
      <dd className="flex min-w-0 items-center justify-end">{children}</dd>
    </div>
  );
}

export function Value({ value, testId, className }: { value: string | undefined; testId?: string; className?: string }) {
  if (value === undefined) return <Skeleton className="h-4 w-24" />;
  return (
    <span data-testid={testId} className={`text-sm font-medium ${className ?? ""}`}>
      {value}
    </span>
  );
}

export function PathValue({ path, testId, copyLabel }: { path: string | undefined; testId: string; copyLabel: string }) {
  if (path === undefined) return <Skeleton className="h-4 w-56" />;
  return (
    <div className="flex min-w-0 items-center gap-1">
      <span data-testid={testId} className="min-w-0 text-right font-mono text-[13px] break-all" title={path}>
        {path}
      </span>
      <CopyButton value={path} label={copyLabel} />
    </div>
  );
}
