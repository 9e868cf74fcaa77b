import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { BackendError, useBackend } from "@/backend";
import { cn } from "@/lib/utils";

/**
 * The recovery phrase, fetched only when asked for and held in this
 * component's state alone — never in the query cache — and forgotten when it
 * is hidden or the component goes away.
 */
export function useRecoveryPhrase() {
  const backend = useBackend();
  const [words, setWords] = useState<string[] | null>(null);
  const [error, setError] = useState<BackendError | null>(null);
  const [pending, setPending] = useState(false);
  // A reveal still in flight when the component hides or unmounts must not show the words afterwards.
  const generation = useRef(0);

  const reveal = useCallback(async () => {
    const mine = ++generation.current;
    setPending(true);
    setError(null);
    try {
      const answer = await backend.recoveryPhrase();
      if (generation.current === mine) setWords(answer);
    } catch (cause) {
      if (generation.current === mine) setError(BackendError.from(cause));
    } finally {
      if (generation.current === mine) setPending(false);
    }
  }, [backend]);

  const hide = useCallback(() => {
    generation.current += 1;
    setWords(null);
    setPending(false);
    setError(null);
  }, []);

  useEffect(
    () => () => {
      generation.current += 1;
    },
    [],
  );

  return { words, error, pending, reveal, hide };
}

/** The 24 words in a numbered grid of four columns, read across. */
export function PhraseWords({ words, testId, className }: { words: string[]; testId?: string; className?: string }) {
  const { t } = useTranslation();
  return (
    <ol
      data-testid={testId}
      aria-label={t("identity.phrase.wordsLabel")}
      translate="no"
      className={cn(
        "grid grid-cols-2 gap-2 rounded-lg border bg-muted/50 p-3 font-mono text-[13px] sm:grid-cols-4",
        className,
      )}
    >
      {words.map((word, index) => (
        <li key={index} className="flex items-baseline gap-1.5 rounded-md bg-card px-2 py-1.5 shadow-xs">
          <span className="w-4 shrink-0 text-right text-[11px] text-muted-foreground tabular-nums select-none">
            {index + 1}
          </span>
          <span className="font-medium">{word}</span>
        </li>
      ))}
    </ol>
  );
}
