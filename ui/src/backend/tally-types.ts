/**
 * The node's tally API as the UI sees it. These types stand in for the ones
 * specta will generate into `bindings.ts`, with the same names and shapes, so
 * that swapping them in later changes only imports.
 */

/** Our side of a tally: stock = expected creditor (vendor), foil = expected debtor (client). */
export type TallySide = "stock" | "foil";
export type TallyStage = "offered" | "open" | "refused" | "closing" | "closed";
export type Who = "us" | "partner";
/** Amounts are integers of the smallest unit; CHIP has scale 3: 12500 = "12.500 CHIP". */
export type UnitView = { code: string; scale: number };

export type TallySummary = {
  id: string;
  partyId: string;
  partnerName: string;
  /** Our side. */
  side: TallySide;
  stage: TallyStage;
  /** While offered: whose answer is awaited. */
  waitingFor: Who | null;
  /** Offered and past its expiry. */
  expired: boolean;
  revision: number;
  unit: UnitView;
  /** Our view: > 0 the partner owes us, < 0 we owe the partner. */
  balance: number;
  /** The most the partner may come to owe us. */
  weGrant: number;
  /** The most we may come to owe the partner. */
  theyGrant: number;
  memo: string;
  updatedAtMs: number;
};

/** Call = days of notice. */
export type TermsView = { weGrant: number; theyGrant: number; ourCall: number; theirCall: number };

export type TermsChange =
  | "memo"
  | "unit"
  | "contract"
  | "weGrant"
  | "theyGrant"
  | "ourCall"
  | "theirCall"
  | "ourNodes"
  | "theirNodes";

export type RevisionView = {
  revision: number;
  by: Who;
  dateMs: number;
  expiresMs: number;
  memo: string;
  terms: TermsView;
  contract: { title: string; hash: string } | null;
  /** What changed from the previous revision. */
  changes: string[];
};

/** Reward and clutch in millionths (5000 = 0.5 %). */
export type TradingVariablesView = { target: number; bound: number; rewardPpm: number; clutchPpm: number; call: number };

export type InvoiceView = { id: string; payee: Who; units: number; memo: string; dateMs: number };

export type TallyDetail = {
  summary: TallySummary;
  /** Oldest first. */
  revisions: RevisionView[];
  refusal: { by: Who; reason: string } | null;
  /** Peer ids. */
  ourNodes: string[];
  theirNodes: string[];
  /** Once open. */
  variables: { ours: TradingVariablesView; theirs: TradingVariablesView } | null;
  openInvoices: InvoiceView[];
  /** Units left before each limit, once open. */
  room: { weCanPay: number; theyCanPay: number } | null;
};

export type ChitKind = "transaction" | "invoice" | "decline" | "setting";
export type ChitStatus = "pending" | "final" | "refused";

export type ChitView = {
  id: string;
  by: Who;
  kind: ChitKind;
  /** Transaction: change to OUR balance view (we pay 12.5 → -12500); invoice: amount asked (positive). */
  units: number | null;
  memo: string;
  dateMs: number;
  status: ChitStatus;
  refusedReason: string | null;
  /** Our view, once final. */
  balanceAfter: number | null;
  /** The invoice a transaction pays or a decline declines. */
  invoice: string | null;
};

/** Newest first; pass `before` to get the next page, null = no more. */
export type ChitPage = { chits: ChitView[]; before: string | null };

export type TallyOffer = {
  partyId: string;
  side: TallySide;
  /** Amounts as typed, e.g. "50" or "50.000"; the node parses with the unit. */
  weGrant: string;
  theyGrant: string;
  ourCall: number;
  theirCall: number;
  memo: string;
  contract: { title: string; text: string } | null;
  expiresInHours: number;
};

export type TallyTerms = { weGrant: string; theyGrant: string; ourCall: number; theirCall: number; memo: string };

/** Reward/clutch as percent text, e.g. "0.5". */
export type SettingInput = {
  target: string | null;
  bound: string | null;
  reward: string | null;
  clutch: string | null;
  call: number | null;
};

export type PositionPoint = { atMs: number; net: number };
/** Net = sum of our-view balances over open tallies of that unit. */
export type NetPosition = { unit: UnitView; net: number; points: PositionPoint[] };

export type TallyChange =
  | "offerReceived"
  | "counterReceived"
  | "accepted"
  | "refused"
  | "chitReceived"
  | "invoiceReceived"
  | "chitCertified"
  | "chitRefused"
  | "updated";

/** The node event that tells a tally changed; one more variant of `NodeEvent`. */
export type TallyChangedEvent = { kind: "tallyChanged"; tally: string; change: TallyChange };
