import { cn } from "@/lib/utils";

/** Up to two initials of a display name: "Bruno Costa" → "BC", "ana" → "A". */
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters
    .map((word) => [...(word ?? "")][0] ?? "")
    .join("")
    .toLocaleUpperCase();
}

// Soft tints that all read well in both themes; the party id picks one so a person keeps their colour.
const TINTS = [
  "bg-brand-soft text-brand-soft-foreground",
  "bg-sky-100 text-sky-900 dark:bg-sky-950 dark:text-sky-200",
  "bg-violet-100 text-violet-900 dark:bg-violet-950 dark:text-violet-200",
  "bg-rose-100 text-rose-900 dark:bg-rose-950 dark:text-rose-200",
  "bg-lime-100 text-lime-900 dark:bg-lime-950 dark:text-lime-200",
  "bg-orange-100 text-orange-900 dark:bg-orange-950 dark:text-orange-200",
];

function tintOf(seed: string): string {
  let hash = 0;
  for (const char of seed) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return TINTS[hash % TINTS.length] ?? TINTS[0]!;
}

/** A party's initials in a coloured circle; decorative, the name always sits beside it. */
export function Avatar({ name, seed, className }: { name: string; seed: string; className?: string }) {
  return (
    <span
      aria-hidden
      className={cn(
        "inline-flex size-9 shrink-0 items-center justify-center rounded-full text-[13px] font-semibold select-none",
        tintOf(seed),
        className,
      )}
    >
      {initialsOf(name)}
    </span>
  );
}
