import type { ReactNode } from "react";

export function PageHeader({ eyebrow, title, description }: { eyebrow?: ReactNode; title: ReactNode; description?: ReactNode }) {
  return (
    <header className="mb-8 flex flex-col gap-1.5">
      {eyebrow && <p className="text-sm font-medium text-muted-foreground">{eyebrow}</p>}
      <h1 className="text-[28px] leading-tight font-semibold tracking-tight">{title}</h1>
      {description && <p className="text-[15px] text-muted-foreground">{description}</p>}
    </header>
  );
}
