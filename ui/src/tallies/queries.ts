import { useInfiniteQuery, useQueries, useQuery } from "@tanstack/react-query";
import {
  useBackend,
  type BackendError,
  type ChitPage,
  type InvoiceView,
  type NetPosition,
  type TallyDetail,
  type TallySummary,
} from "@/backend";

export const tallyQueryKeys = {
  all: ["tallies"] as const,
  list: ["tallies", "list"] as const,
  detail: (id: string) => ["tallies", "detail", id] as const,
  chits: (id: string) => ["tallies", "chits", id] as const,
  positions: ["tallies", "positions"] as const,
};

/** How many chits one page of a tally's history holds. */
export const CHIT_PAGE_SIZE = 20;

export function useTallies() {
  const backend = useBackend();
  return useQuery<TallySummary[], BackendError>({
    queryKey: tallyQueryKeys.list,
    queryFn: () => backend.tallies(),
  });
}

export function useTally(id: string) {
  const backend = useBackend();
  return useQuery<TallyDetail, BackendError>({
    queryKey: tallyQueryKeys.detail(id),
    queryFn: () => backend.tally(id),
  });
}

/** A tally's chits, newest first, a page at a time. */
export function useChits(id: string) {
  const backend = useBackend();
  return useInfiniteQuery<ChitPage, BackendError, { pages: ChitPage[] }, readonly unknown[], string | null>({
    queryKey: tallyQueryKeys.chits(id),
    queryFn: ({ pageParam }) => backend.chits(id, pageParam, CHIT_PAGE_SIZE),
    initialPageParam: null,
    getNextPageParam: (last) => last.before,
  });
}

export function useNetPositions() {
  const backend = useBackend();
  return useQuery<NetPosition[], BackendError>({
    queryKey: tallyQueryKeys.positions,
    queryFn: () => backend.netPositions(),
  });
}

/** An invoice from a partner, waiting for us to pay or decline it. */
export interface WaitingInvoice {
  tally: TallySummary;
  invoice: InvoiceView;
}

/**
 * The partners' invoices waiting for our answer, over every open tally. The
 * summaries do not count them, so each open tally's detail is asked for.
 */
export function useWaitingInvoices(tallies: TallySummary[] | undefined) {
  const backend = useBackend();
  const open = (tallies ?? []).filter((tally) => tally.stage === "open");
  return useQueries({
    queries: open.map((tally) => ({
      queryKey: tallyQueryKeys.detail(tally.id),
      queryFn: () => backend.tally(tally.id),
    })),
    combine: (results) => ({
      invoices: results.flatMap((result, index) =>
        (result.data?.openInvoices ?? [])
          .filter((invoice) => invoice.payee === "partner")
          .map((invoice) => ({ tally: open[index]!, invoice })),
      ),
      pending: results.some((result) => result.isPending),
    }),
  });
}

/** Whether a tally waits for us: an offer or counter-offer to answer that has not expired. */
export function awaitsOurAnswer(tally: TallySummary): boolean {
  return tally.stage === "offered" && tally.waitingFor === "us" && !tally.expired;
}
