import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useBackend, type BackendError, type CardPreview } from "@/backend";
import { CardPreviewView } from "@/contacts/card-preview";
import { FormError } from "@/components/form-error";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";

/**
 * Offers what a `tallymesh:` link the app was opened with means — "Add Ana
 * as a contact?" — or why it can't be used. Nothing happens without a yes.
 */
export function LinkOffer({ link, onDone }: { link: string | null; onDone: () => void }) {
  return (
    <Dialog
      open={link !== null}
      onOpenChange={(open) => {
        if (!open) onDone();
      }}
    >
      <DialogContent data-testid="link-offer" className="max-w-lg">
        {link !== null && <LinkOfferBody key={link} link={link} onDone={onDone} />}
      </DialogContent>
    </Dialog>
  );
}

function LinkOfferBody({ link, onDone }: { link: string; onDone: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const preview = useQuery<CardPreview, BackendError>({
    queryKey: ["linkPreview", link],
    queryFn: () => backend.readCardLink(link),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 0,
  });

  return (
    <>
      <DialogHeader>
        <DialogTitle>
          {preview.isSuccess
            ? preview.data.known
              ? t("links.offer.titleKnown", { name: preview.data.displayName })
              : t("links.offer.title", { name: preview.data.displayName })
            : preview.isError
              ? t("links.offer.refusedTitle")
              : t("links.offer.checking")}
        </DialogTitle>
        <DialogDescription>{preview.isError ? t("links.offer.refusedBody") : t("links.offer.body")}</DialogDescription>
      </DialogHeader>
      {preview.isPending && (
        <div className="flex flex-col gap-3" role="status" aria-label={t("links.offer.checking")}>
          <Skeleton className="h-11 w-1/2" />
          <Skeleton className="h-24 w-full" />
        </div>
      )}
      {preview.isError && (
        <>
          <FormError message={preview.error.message} testId="link-offer-error" />
          <div className="flex justify-end">
            <Button variant="outline" onClick={onDone}>
              {t("dialog.close")}
            </Button>
          </div>
        </>
      )}
      {preview.isSuccess && (
        <CardPreviewView
          card={preview.data}
          onAdded={onDone}
          secondary={
            <Button variant="ghost" onClick={onDone} data-testid="link-offer-dismiss">
              {t("links.offer.notNow")}
            </Button>
          }
        />
      )}
    </>
  );
}
