import { Check, Copy } from "lucide-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { copyText } from "@/lib/clipboard";
import { cn } from "@/lib/utils";

type CopyState = "idle" | "copied" | "failed";

/** An icon button that copies `value`; `label` says what, for the tooltip and screen readers. */
export function CopyButton({ value, label, className }: { value: string; label: string; className?: string }) {
  const { t } = useTranslation();
  const [state, setState] = useState<CopyState>("idle");

  useEffect(() => {
    if (state === "idle") return;
    const id = setTimeout(() => setState("idle"), 1_600);
    return () => clearTimeout(id);
  }, [state]);

  async function copy() {
    try {
      await copyText(value);
      setState("copied");
    } catch {
      setState("failed");
    }
  }

  const feedback = state === "copied" ? t("copy.copied") : state === "failed" ? t("copy.failed") : "";

  return (
    <>
      <Tooltip>
        <TooltipTrigger asChild>
          <Button
            variant="ghost"
            size="icon-sm"
            aria-label={label}
            onClick={() => void copy()}
            className={cn("text-muted-foreground", className)}
          >
            {state === "copied" ? <Check className="text-success" aria-hidden /> : <Copy aria-hidden />}
          </Button>
        </TooltipTrigger>
        <TooltipContent>{feedback || label}</TooltipContent>
      </Tooltip>
      <span className="sr-only" role="status" aria-live="polite">
        {feedback}
      </span>
    </>
  );
}
