/**
 * The node's tally API as the UI sees it, from the generated bindings, in
 * their serialised shape: every field present, absent values as null.
 */
import type {
  ChitKind,
  ChitPage_Serialize,
  ChitStatus,
  ChitView_Serialize,
  ContractText,
  ContractView,
  InvoiceView,
  NetPosition,
  PositionPoint,
  RefusalView,
  RevisionView_Serialize,
  RoomView,
  SettingInput_Serialize,
  TallyChange,
  TallyDetail_Serialize,
  TallyOffer_Serialize,
  TallySide,
  TallyStage,
  TallySummary_Serialize,
  TallyTerms,
  TermsView,
  TradingVariablesView,
  UnitView,
  VariablesView,
  Who,
  NodeEvent_Serialize,
} from "./bindings";

export type {
  ChitKind,
  ChitStatus,
  ContractText,
  ContractView,
  InvoiceView,
  NetPosition,
  PositionPoint,
  RefusalView,
  RoomView,
  TallyChange,
  TallySide,
  TallyStage,
  TallyTerms,
  TermsView,
  TradingVariablesView,
  UnitView,
  VariablesView,
  Who,
};

/** A tally as a list shows it, from our side: balance > 0 means the partner owes us. */
export type TallySummary = TallySummary_Serialize;
/** Everything about one tally. */
export type TallyDetail = TallyDetail_Serialize;
/** One revision of a negotiation; `changes` names what changed from the one before. */
export type RevisionView = RevisionView_Serialize;
/** A chit; `units` is its change to our balance (payments) or the amount asked (invoices). */
export type ChitView = ChitView_Serialize;
/** A page of chits, newest first; `before` fetches the next. */
export type ChitPage = ChitPage_Serialize;
/** A new tally as offered. */
export type TallyOffer = TallyOffer_Serialize;
/** Changes to our trading variables; what is null stays. */
export type SettingInput = SettingInput_Serialize;

/** What a revision's `changes` may name. */
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

/** The node event that tells a tally changed. */
export type TallyChangedEvent = Extract<NodeEvent_Serialize, { kind: "tallyChanged" }>;
