import { Camera, CameraOff, ClipboardPaste, ImageUp, ScanLine, Square, TriangleAlert } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  BackendError,
  useBackend,
  type CardPreview,
  type ScanFailure,
  type ScanUpdate,
  type StopScan,
} from "@/backend";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/utils";

type ScanView =
  | { phase: "idle" }
  | { phase: "starting" }
  | { phase: "running"; camera: string | null; frame: string | null; refused: string | null }
  | { phase: "failed"; reason: ScanFailure; message: string };

/**
 * Reads a card with the camera: live pictures to aim with, a word for every
 * code the node refuses, and the other ways offered when there is no camera.
 * The scan stops when this goes away.
 */
export function CameraScan({
  onFound,
  onUseOther,
}: {
  onFound: (card: CardPreview) => void;
  onUseOther: (method: "paste" | "image") => void;
}) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [view, setView] = useState<ScanView>({ phase: "idle" });
  const stopRef = useRef<StopScan | null>(null);
  const alive = useRef(true);
  const onFoundRef = useRef(onFound);
  useEffect(() => {
    onFoundRef.current = onFound;
  }, [onFound]);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
      const stop = stopRef.current;
      stopRef.current = null;
      void stop?.().catch(() => {});
    };
  }, []);

  function handle(update: ScanUpdate) {
    if (!alive.current) return;
    switch (update.kind) {
      case "started":
        setView({ phase: "running", camera: update.camera, frame: null, refused: null });
        break;
      case "preview":
        setView((current) =>
          current.phase === "running"
            ? { ...current, frame: update.image }
            : { phase: "running", camera: null, frame: update.image, refused: null },
        );
        break;
      case "refused":
        setView((current) =>
          current.phase === "running" ? { ...current, refused: update.message } : current,
        );
        break;
      case "found":
        stopRef.current = null;
        setView({ phase: "idle" });
        onFoundRef.current(update.card);
        break;
      case "failed":
        stopRef.current = null;
        setView({ phase: "failed", reason: update.reason, message: update.message });
        break;
      case "stopped":
        stopRef.current = null;
        setView((current) => (current.phase === "failed" ? current : { phase: "idle" }));
        break;
    }
  }

  async function start() {
    setView({ phase: "starting" });
    try {
      const stop = await backend.scanCard(handle);
      if (!alive.current) {
        void stop().catch(() => {});
        return;
      }
      stopRef.current = stop;
    } catch (cause) {
      if (alive.current) setView({ phase: "failed", reason: "node", message: BackendError.from(cause).message });
    }
  }

  async function stop() {
    const running = stopRef.current;
    stopRef.current = null;
    setView({ phase: "idle" });
    await running?.().catch(() => {});
  }

  const scanning = view.phase === "starting" || view.phase === "running";

  return (
    <div className="flex flex-col gap-4">
      <div
        className={cn(
          "relative flex aspect-[4/3] w-full items-center justify-center overflow-hidden rounded-lg border bg-muted",
          scanning && "bg-neutral-900",
        )}
      >
        {view.phase === "running" && view.frame ? (
          <img
            data-testid="camera-preview"
            src={view.frame}
            alt={t("contacts.add.camera.previewAlt")}
            className="size-full object-cover"
          />
        ) : view.phase === "failed" && view.reason === "noCamera" ? (
          <CameraOff className="size-10 text-muted-foreground" aria-hidden />
        ) : scanning ? (
          <ScanLine className="size-10 animate-pulse text-white/70" aria-hidden />
        ) : (
          <Camera className="size-10 text-muted-foreground" aria-hidden />
        )}
      </div>

      <ScanMessage view={view} />

      {view.phase === "failed" && (view.reason === "noCamera" || view.reason === "camera") && (
        <div className="flex flex-wrap gap-2">
          <Button variant="outline" size="sm" onClick={() => onUseOther("paste")} data-testid="camera-use-paste">
            <ClipboardPaste aria-hidden />
            {t("contacts.add.camera.usePaste")}
          </Button>
          <Button variant="outline" size="sm" onClick={() => onUseOther("image")} data-testid="camera-use-image">
            <ImageUp aria-hidden />
            {t("contacts.add.camera.useImage")}
          </Button>
        </div>
      )}

      <div className="flex justify-end">
        {scanning ? (
          <Button variant="outline" onClick={() => void stop()} data-testid="add-camera-stop">
            <Square aria-hidden />
            {t("contacts.add.camera.stop")}
          </Button>
        ) : (
          <Button onClick={() => void start()} data-testid="add-camera-start">
            <Camera aria-hidden />
            {view.phase === "failed" ? t("contacts.add.camera.retry") : t("contacts.add.camera.start")}
          </Button>
        )}
      </div>
    </div>
  );
}

function ScanMessage({ view }: { view: ScanView }) {
  const { t } = useTranslation();
  if (view.phase === "idle") {
    return <p className="text-sm text-muted-foreground">{t("contacts.add.camera.idle")}</p>;
  }
  if (view.phase === "failed") {
    return (
      <p
        data-testid="camera-message"
        data-kind="failed"
        role="alert"
        className="flex items-start gap-2 rounded-lg border border-destructive/25 bg-destructive/[0.06] px-3.5 py-3 text-sm"
      >
        <TriangleAlert className="mt-0.5 size-4 shrink-0 text-destructive" aria-hidden />
        <span className="block">{view.message}</span>
      </p>
    );
  }
  if (view.phase === "running" && view.refused) {
    return (
      <p
        data-testid="camera-message"
        data-kind="refused"
        role="alert"
        className="flex items-start gap-2 rounded-lg border border-warning/40 bg-warning/10 px-3.5 py-3 text-sm"
      >
        <TriangleAlert className="mt-0.5 size-4 shrink-0 text-foreground/70" aria-hidden />
        <span>
          {view.refused} {t("contacts.add.camera.keepLooking")}
        </span>
      </p>
    );
  }
  return (
    <p data-testid="camera-message" data-kind="looking" role="status" className="text-sm text-muted-foreground">
      {view.phase === "running" && view.camera
        ? t("contacts.add.camera.looking", { camera: view.camera })
        : t("contacts.add.camera.starting")}
    </p>
  );
}
