import { AlertCircle } from "lucide-react";
import { cn } from "@/lib/utils";

/**
 * A refusal or failure next to the form it is about, in the node's own words.
 * Some of the node's sentences start in lower case; the first letter is shown as a capital.
 */
export function FormError({ message, testId, className }: { message: string; testId?: string; className?: string }) {
  return (
    <div
      role="alert"
      data-testid={testId}
      className={cn(
        "flex items-start gap-2.5 rounded-lg border border-destructive/25 bg-destructive/[0.06] px-3.5 py-3 text-sm",
        className,
      )}
    >
      <AlertCircle className="mt-0.5 size-4 shrink-0 text-destructive" aria-hidden />
      <p className="min-w-0 break-words">{message}</p>
    </div>
  );
}
