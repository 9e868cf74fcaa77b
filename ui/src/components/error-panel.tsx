import { AlertCircle, RotateCw } from "lucide-react";
import { useTranslation } from "react-i18next";
import type { BackendError } from "@/backend";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/utils";

/** Says what went wrong talking to the node, what to do about it, and offers to try again. */
export function ErrorPanel({
  error,
  onRetry,
  retrying,
  className,
}: {
  error: BackendError;
  onRetry: () => void;
  retrying: boolean;
  className?: string;
}) {
  const { t } = useTranslation();
  return (
    <div
      role="alert"
      data-testid="status-error"
      className={cn(
        "flex flex-col gap-4 rounded-lg border border-destructive/25 bg-destructive/[0.06] p-5 sm:flex-row sm:items-start",
        className,
      )}
    >
      <AlertCircle className="size-5 shrink-0 text-destructive" aria-hidden />
      <div className="flex min-w-0 flex-1 flex-col gap-1.5">
        <p className="font-semibold">{t("errors.title")}</p>
        <p className="text-sm text-foreground/80">{t(`errors.${error.code}`)}</p>
        <p className="text-sm text-muted-foreground">{t("errors.whatToDo")}</p>
        {error.message && (
          <p className="mt-1 text-xs break-words text-muted-foreground">
            <span className="font-medium">{t("errors.details")}:</span> {error.message}
          </p>
        )}
      </div>
      <Button variant="outline" size="sm" onClick={onRetry} disabled={retrying} data-testid="retry-button">
        <RotateCw className={cn(retrying && "animate-spin")} aria-hidden />
        {retrying ? t("errors.retrying") : t("errors.retry")}
      </Button>
    </div>
  );
}
