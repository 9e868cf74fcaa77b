import { Skeleton } from "@/components/ui/skeleton";

/** A QR code the node rendered as an SVG document; a placeholder while it comes, an empty frame if it can't. */
export function QrCode({
  svg,
  alt,
  testId,
  failed = false,
}: {
  svg: string | null | undefined;
  alt: string;
  testId: string;
  failed?: boolean;
}) {
  if (svg) {
    return (
      <img
        data-testid={testId}
        src={`data:image/svg+xml;utf8,${encodeURIComponent(svg)}`}
        alt={alt}
        className="size-52 rounded-lg border bg-white p-2"
        draggable={false}
      />
    );
  }
  if (failed || svg === null) return <div className="flex size-52 items-center justify-center rounded-lg border bg-muted" />;
  return <Skeleton className="size-52 rounded-lg" data-testid={`${testId}-loading`} />;
}
