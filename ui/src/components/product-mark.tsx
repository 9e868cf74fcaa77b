import markUrl from "@/assets/mark.svg";
import { cn } from "@/lib/utils";

/** The Tallymesh mark: a split tally stick, stock and foil, with matching notches. */
export function ProductMark({ className }: { className?: string }) {
  return <img src={markUrl} alt="" aria-hidden draggable={false} className={cn("size-7 select-none", className)} />;
}
