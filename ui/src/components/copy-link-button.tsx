import { Check, Copy } from "lucide-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { copyText } from "@/lib/clipboard";

/** A labelled button that copies a link (or a command); it says "Copied" for a moment, also to screen readers. */
export function CopyLinkButton({
  value,
  label,
  testId,
  variant = "default",
}: {
  value: string | undefined;
  label: string;
  testId: string;
  variant?: "default" | "outline";
}) {
  const { t } = useTranslation();
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const id = setTimeout(() => setState("idle"), 1_600);
    return () => clearTimeout(id);
  }, [state]);
  return (
    <>
      <Button
        size="sm"
        variant={variant}
        data-testid={testId}
        disabled={!value}
        onClick={() => {
          if (!value) return;
          copyText(value).then(
            () => setState("copied"),
            () => setState("failed"),
          );
        }}
      >
        {state === "copied" ? <Check aria-hidden /> : <Copy aria-hidden />}
        {state === "copied" ? t("copy.copied") : state === "failed" ? t("copy.failed") : label}
      </Button>
      <span className="sr-only" role="status" aria-live="polite">
        {state === "copied" ? t("copy.copied") : state === "failed" ? t("copy.failed") : ""}
      </span>
    </>
  );
}
