import { useMutation } from "@tanstack/react-query";
import { ArrowLeft, Camera, ClipboardPaste, ImageUp } from "lucide-react";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type CardPreview } from "@/backend";
import { CardPreviewView } from "@/contacts/card-preview";
import { FormError } from "@/components/form-error";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Textarea } from "@/components/ui/textarea";
import { readFileBytes } from "@/lib/files";
import { CameraScan } from "./camera-scan";

type Method = "paste" | "image" | "camera";

/** Adds a contact from their card: a pasted link, a picture of its QR code, or the camera. */
export function AddContactDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="max-w-xl" data-testid="add-contact-dialog">
        <DialogHeader>
          <DialogTitle>{t("contacts.add.title")}</DialogTitle>
          <DialogDescription>{t("contacts.add.description")}</DialogDescription>
        </DialogHeader>
        {/* Mounted only while open: closing forgets the form and stops the camera. */}
        <AddContactBody onClose={() => onOpenChange(false)} />
      </DialogContent>
    </Dialog>
  );
}

function AddContactBody({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const linkId = useId();
  const imageId = useId();
  const [method, setMethod] = useState<Method>("paste");
  const [link, setLink] = useState("");
  const [preview, setPreview] = useState<CardPreview | null>(null);
  const [problem, setProblem] = useState<{ method: Method; message: string } | null>(null);

  const readLink = useMutation<CardPreview, BackendError, string>({
    mutationFn: (text) => backend.readCardLink(text),
    onSuccess: setPreview,
    onError: (error) => setProblem({ method: "paste", message: error.message }),
  });
  const readImage = useMutation<CardPreview, BackendError, File>({
    mutationFn: async (file) => backend.readCardImage(await readFileBytes(file)),
    onSuccess: setPreview,
    onError: (error) => setProblem({ method: "image", message: error.message }),
  });

  function submitLink(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    if (!link.trim()) {
      setProblem({ method: "paste", message: t("contacts.add.paste.empty") });
      return;
    }
    readLink.mutate(link.trim());
  }

  const error = (which: Method) =>
    problem?.method === which ? <FormError message={problem.message} testId="add-contact-error" /> : null;

  if (preview) {
    return (
      <CardPreviewView
        card={preview}
        onAdded={onClose}
        secondary={
          <Button
            variant="ghost"
            onClick={() => {
              setPreview(null);
              setProblem(null);
            }}
          >
            <ArrowLeft aria-hidden />
            {t("contacts.add.another")}
          </Button>
        }
      />
    );
  }

  return (
    <Tabs
      value={method}
      onValueChange={(value) => {
        setMethod(value as Method);
        setProblem(null);
      }}
    >
      <TabsList className="w-full" aria-label={t("contacts.add.methodLabel")}>
        <TabsTrigger value="paste" data-testid="add-tab-paste">
          <ClipboardPaste aria-hidden />
          {t("contacts.add.paste.tab")}
        </TabsTrigger>
        <TabsTrigger value="image" data-testid="add-tab-image">
          <ImageUp aria-hidden />
          {t("contacts.add.image.tab")}
        </TabsTrigger>
        <TabsTrigger value="camera" data-testid="add-tab-camera">
          <Camera aria-hidden />
          {t("contacts.add.camera.tab")}
        </TabsTrigger>
      </TabsList>

      <TabsContent value="paste">
        <form onSubmit={submitLink} className="flex flex-col gap-3" noValidate>
          <Label htmlFor={linkId}>{t("contacts.add.paste.label")}</Label>
          <Textarea
            id={linkId}
            data-testid="add-paste-input"
            value={link}
            onChange={(event) => setLink(event.target.value)}
            rows={3}
            spellCheck={false}
            autoComplete="off"
            placeholder="tallymesh:card?…"
            className="font-mono text-[12.5px] break-all"
          />
          {error("paste")}
          <Button type="submit" className="self-end" data-testid="add-paste-submit" disabled={readLink.isPending}>
            {readLink.isPending ? t("contacts.add.checking") : t("contacts.add.paste.submit")}
          </Button>
        </form>
      </TabsContent>

      <TabsContent value="image">
        <div className="flex flex-col gap-3">
          <Label htmlFor={imageId}>{t("contacts.add.image.label")}</Label>
          <Input
            id={imageId}
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp,image/bmp"
            data-testid="add-image-input"
            className="h-10 py-1.5"
            disabled={readImage.isPending}
            onChange={(event) => {
              const file = event.target.files?.[0];
              setProblem(null);
              if (file) readImage.mutate(file);
              // The same file can be chosen again after a refusal.
              event.target.value = "";
            }}
          />
          <p className="text-xs text-muted-foreground" role="status">
            {readImage.isPending ? t("contacts.add.checking") : t("contacts.add.image.hint")}
          </p>
          {error("image")}
        </div>
      </TabsContent>

      <TabsContent value="camera">
        <CameraScan onFound={setPreview} onUseOther={(other) => setMethod(other)} />
      </TabsContent>
    </Tabs>
  );
}
