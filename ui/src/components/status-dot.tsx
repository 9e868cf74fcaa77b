import { cn } from "@/lib/utils";

export type StatusTone = "ok" | "pending" | "error";

const TONES: Record<StatusTone, string> = {
  ok: "bg-success",
  pending: "bg-muted-foreground/60",
  error: "bg-destructive",
};

/** A coloured dot that always sits next to a label; colour alone never carries the meaning. */
export function StatusDot({ tone, className }: { tone: StatusTone; className?: string }) {
  return (
    <span aria-hidden className={cn("relative inline-flex size-2 shrink-0", className)}>
      {tone === "ok" && (
        <span className="absolute inline-flex size-full animate-ping rounded-full bg-success opacity-40 [animation-duration:2.5s]" />
      )}
      <span className={cn("relative inline-flex size-2 rounded-full", TONES[tone])} />
    </span>
  );
}
