/**
 * The mock node's tallies: negotiation, chits that turn final a moment after
 * they are signed, limits checked the way the node checks them and refused in
 * the node's sentences. The partner's side is played by methods tests (and the
 * browser demo) call: they counter, accept, pay and send invoices.
 */
import { SAMPLE_TRADING, devicePeerId, mockHexId, type MockTally } from "./mock-data";
import {
  BackendError,
  type ChitPage,
  type ChitView,
  type Contact,
  type InvoiceView,
  type NetPosition,
  type RevisionView,
  type SettingInput,
  type TallyChange,
  type TallyDetail,
  type TallyOffer,
  type TallySummary,
  type TallyTerms,
  type TermsView,
  type TradingVariablesView,
  type UnitView,
  type Who,
} from "./types";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MAX_CALL_DAYS = 365;
const MAX_EXPIRY_HOURS = 30 * 24;
/** How long a counter-offer stays open; the terms of a counter do not say. */
const COUNTER_EXPIRY_HOURS = 72;
const MAX_MEMO = 200;

export interface MockTalliesOptions {
  now: () => number;
  /** Delivers a `tallyChanged` event to the window. */
  emit: (tally: string, change: TallyChange) => void;
  /** The contact of a party id, if the node knows it. */
  contact: (partyId: string) => Contact | undefined;
  /** This device's peer id, nominated on every tally. */
  ourPeerId: () => string;
  /** The peer ids of the party's devices that may keep a tally: this one first, then every enrolled one not revoked. */
  cadreNodes: () => string[];
  /** Our party's name. */
  ourName: () => string;
  /** How long a chit stays pending before its certificate comes back. */
  certifyMs: number;
  /** When set, partners answer by themselves this long after being asked (the browser demo). */
  replyMs: number | null;
}

function invalid(message: string): BackendError {
  return new BackendError("invalidInput", message);
}

/** Whose nodes a tally waits for while some of them are down (tests steer it). */
export interface NodesDown {
  who: Who;
  up: number;
  needed: number;
}

/** Amount text as the node writes it in its sentences: "10.001 CHIP". */
function amountText(units: number, unit: UnitView): string {
  const magnitude = BigInt(Math.abs(units));
  const base = 10n ** BigInt(unit.scale);
  const fraction = unit.scale > 0 ? `.${(magnitude % base).toString().padStart(unit.scale, "0")}` : "";
  return `${units < 0 ? "-" : ""}${magnitude / base}${fraction} ${unit.code}`;
}

/** Reads an amount as the node does, refusing in its words. */
function parseUnits(text: string, unit: UnitView, what: string, options: { allowZero?: boolean } = {}): number {
  const trimmed = text.trim();
  const match = /^(\d*)(?:\.(\d*))?$/.exec(trimmed);
  if (!trimmed || !match || (match[1] === "" && !match[2])) {
    throw invalid(`${what} must be a number such as 12.5, written with a dot.`);
  }
  const fraction = match[2] ?? "";
  if (fraction.length > unit.scale) throw invalid(`Use at most ${unit.scale} decimal places for ${unit.code}.`);
  const units = BigInt(match[1] || "0") * 10n ** BigInt(unit.scale) + BigInt(fraction.padEnd(unit.scale, "0") || "0");
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${what} is too large.`);
  if (units === 0n && !options.allowZero) throw invalid(`${what} must be more than zero.`);
  return Number(units);
}

function checkCall(days: number, whose: string): number {
  if (!Number.isInteger(days) || days < 0 || days > MAX_CALL_DAYS) {
    throw invalid(`${whose} call must be a whole number of days from 0 to ${MAX_CALL_DAYS}.`);
  }
  return days;
}

function checkMemo(memo: string): string {
  const trimmed = memo.trim();
  if ([...trimmed].length > MAX_MEMO) throw invalid(`A memo has at most ${MAX_MEMO} characters.`);
  return trimmed;
}

/** What differs between two revisions' terms. */
function changesBetween(before: RevisionView | undefined, after: Omit<RevisionView, "changes">): string[] {
  if (!before) return [];
  const changes: string[] = [];
  if (before.memo !== after.memo) changes.push("memo");
  if ((before.contract?.hash ?? null) !== (after.contract?.hash ?? null)) changes.push("contract");
  for (const key of ["weGrant", "theyGrant", "ourCall", "theirCall"] as const) {
    if (before.terms[key] !== after.terms[key]) changes.push(key);
  }
  return changes;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((entry, index) => entry === b[index]);
}

/** A short stand-in for a contract's hash. */
function contractHash(text: string): string {
  let hash = 2_166_136_261;
  for (const char of text) hash = Math.imul(hash ^ char.charCodeAt(0), 16_777_619) >>> 0;
  return `${hash.toString(16).padStart(8, "0")}${(hash ^ 0x5bd1e995).toString(16).padStart(8, "0")}`;
}

export class MockTallies {
  private readonly tallies = new Map<string, MockTally>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly nodesDown = new Map<string, NodesDown>();
  private readonly options: MockTalliesOptions;
  private made = 0;
  private exportPath: string | null = "/home/ana/Documents/tally.csv";

  constructor(options: MockTalliesOptions, tallies: MockTally[]) {
    this.options = options;
    for (const tally of tallies) this.tallies.set(tally.id, tally);
  }

  // ---- what the window asks ----

  list(): TallySummary[] {
    return [...this.tallies.values()]
      .map((tally) => this.summaryOf(tally))
      .sort((a, b) => b.updatedAtMs - a.updatedAtMs);
  }

  get(id: string): TallyDetail {
    const tally = this.find(id);
    const summary = this.summaryOf(tally);
    const open = tally.stage === "open" || tally.stage === "closing";
    return {
      summary,
      revisions: tally.revisions.map((revision) => ({ ...revision, changes: [...revision.changes] })),
      refusal: tally.refusal ? { ...tally.refusal } : null,
      ourNodes: [...tally.ourNodes],
      theirNodes: [...tally.theirNodes],
      variables: tally.variables ? { ours: { ...tally.variables.ours }, theirs: { ...tally.variables.theirs } } : null,
      openInvoices: tally.invoices.map((invoice) => ({ ...invoice })),
      room: open ? this.roomOf(tally) : null,
    };
  }

  propose(offer: TallyOffer): TallySummary {
    const contact = this.options.contact(offer.partyId);
    if (!contact) throw invalid(`There is no contact with the party id ${offer.partyId}; add them before offering a tally.`);
    const unit = { code: "CHIP", scale: 3 };
    const terms: TermsView = {
      weGrant: parseUnits(offer.weGrant, unit, "The limit you grant", { allowZero: true }),
      theyGrant: parseUnits(offer.theyGrant, unit, "The limit you ask for", { allowZero: true }),
      ourCall: checkCall(offer.ourCall, "Your"),
      theirCall: checkCall(offer.theirCall, "Their"),
    };
    if (!Number.isInteger(offer.expiresInHours) || offer.expiresInHours < 1 || offer.expiresInHours > MAX_EXPIRY_HOURS) {
      throw invalid(`An offer stays open from 1 hour to ${MAX_EXPIRY_HOURS / 24} days.`);
    }
    if (offer.contract && !offer.contract.title.trim()) throw invalid("A contract needs a title.");
    const now = this.options.now();
    this.made += 1;
    const tally: MockTally = {
      id: mockHexId(`new tally ${this.made}:${now}`),
      partyId: contact.partyId,
      partnerName: contact.displayName,
      side: offer.side,
      stage: "offered",
      waitingFor: "partner",
      unit,
      revisions: [
        {
          revision: 1,
          by: "us",
          dateMs: now,
          expiresMs: now + offer.expiresInHours * HOUR_MS,
          memo: checkMemo(offer.memo),
          terms,
          contract: offer.contract
            ? { title: offer.contract.title.trim(), hash: contractHash(offer.contract.text), text: offer.contract.text }
            : null,
          changes: [],
        },
      ],
      refusal: null,
      ourNodes: this.ourNodes(offer.ourNodes),
      // The partner's side comes from their card: every device it lists.
      theirNodes: Array.from({ length: Math.max(1, contact.devices) }, (_, device) => devicePeerId(contact.partyId, device)),
      variables: null,
      invoices: [],
      chits: [],
      updatedAtMs: now,
    };
    this.tallies.set(tally.id, tally);
    this.later(() => this.partnerAccepts(tally.id));
    return this.summaryOf(tally);
  }

  counter(id: string, input: TallyTerms): TallySummary {
    const tally = this.find(id);
    this.requireOffered(tally);
    if (tally.waitingFor !== "us" && !this.isExpired(tally)) {
      throw invalid(`This offer is waiting for ${tally.partnerName}'s answer; you can change it once they answer or it expires.`);
    }
    const terms: TermsView = {
      weGrant: parseUnits(input.weGrant, tally.unit, "The limit you grant", { allowZero: true }),
      theyGrant: parseUnits(input.theyGrant, tally.unit, "The limit you ask for", { allowZero: true }),
      ourCall: checkCall(input.ourCall, "Your"),
      theirCall: checkCall(input.theirCall, "Their"),
    };
    const memo = checkMemo(input.memo);
    const nodes = this.ourNodes(input.ourNodes);
    const nodesChanged = !sameList(nodes, tally.ourNodes);
    tally.ourNodes = nodes;
    this.addRevision(tally, "us", terms, memo, nodesChanged ? ["ourNodes"] : []);
    this.later(() => this.partnerAccepts(tally.id));
    return this.summaryOf(tally);
  }

  accept(id: string): TallySummary {
    const tally = this.find(id);
    this.requireOffered(tally);
    if (tally.waitingFor !== "us") {
      throw invalid(`This offer is waiting for ${tally.partnerName}'s answer; only ${tally.partnerName} can accept it.`);
    }
    if (this.isExpired(tally)) {
      throw invalid("This offer has expired and can no longer be accepted; send a counter-offer to trade on these terms.");
    }
    this.open(tally);
    return this.summaryOf(tally);
  }

  refuse(id: string, reason: string): TallySummary {
    const tally = this.find(id);
    this.requireOffered(tally);
    tally.stage = "refused";
    tally.waitingFor = null;
    tally.refusal = { by: "us", reason: checkMemo(reason) };
    tally.updatedAtMs = this.options.now();
    return this.summaryOf(tally);
  }

  pay(id: string, amount: string, memo: string): ChitView {
    const tally = this.find(id);
    this.requireOpen(tally, "Payments");
    const units = parseUnits(amount, tally.unit, "A payment");
    const room = this.roomOf(tally).weCanPay;
    if (units > room) {
      throw invalid(
        `A payment of ${amountText(units, tally.unit)} is over the credit limit: at most ${amountText(room, tally.unit)} can be paid now.`,
      );
    }
    return this.sign(tally, { by: "us", kind: "transaction", units: -units, memo: checkMemo(memo), invoice: null });
  }

  invoice(id: string, amount: string, memo: string): ChitView {
    const tally = this.find(id);
    this.requireOpen(tally, "Invoices");
    const units = parseUnits(amount, tally.unit, "An invoice");
    const room = this.roomOf(tally).theyCanPay;
    if (units > room) {
      throw invalid(
        `An invoice of ${amountText(units, tally.unit)} is over the credit limit: ${tally.partnerName} can pay at most ${amountText(room, tally.unit)} now.`,
      );
    }
    const chit = this.sign(tally, { by: "us", kind: "invoice", units, memo: checkMemo(memo), invoice: null });
    tally.invoices.push({ id: chit.id, payee: "us", units, memo: chit.memo, dateMs: chit.dateMs });
    this.later(() => this.partnerPaysInvoice(tally.id, chit.id), 2);
    return chit;
  }

  approve(id: string, invoiceId: string): ChitView {
    const tally = this.find(id);
    this.requireOpen(tally, "Payments");
    const invoice = this.partnerInvoice(tally, invoiceId);
    const room = this.roomOf(tally).weCanPay;
    if (invoice.units > room) {
      throw invalid(
        `A payment of ${amountText(invoice.units, tally.unit)} is over the credit limit: at most ${amountText(room, tally.unit)} can be paid now.`,
      );
    }
    tally.invoices = tally.invoices.filter((entry) => entry.id !== invoice.id);
    return this.sign(tally, { by: "us", kind: "transaction", units: -invoice.units, memo: invoice.memo, invoice: invoice.id });
  }

  decline(id: string, invoiceId: string): ChitView {
    const tally = this.find(id);
    this.requireOpen(tally, "Invoices");
    const invoice = this.partnerInvoice(tally, invoiceId);
    tally.invoices = tally.invoices.filter((entry) => entry.id !== invoice.id);
    return this.sign(tally, { by: "us", kind: "decline", units: null, memo: invoice.memo, invoice: invoice.id });
  }

  set(id: string, setting: SettingInput): ChitView {
    const tally = this.find(id);
    this.requireOpen(tally, "Trading variables");
    const current = tally.variables?.ours ?? { ...SAMPLE_TRADING };
    const next: TradingVariablesView = { ...current };
    if (setting.target !== null) next.target = parseUnits(setting.target, tally.unit, "The target", { allowZero: true });
    if (setting.bound !== null) next.bound = parseUnits(setting.bound, tally.unit, "The bound", { allowZero: true });
    if (setting.reward !== null) next.rewardPpm = parsePercent(setting.reward, "The reward");
    if (setting.clutch !== null) next.clutchPpm = parsePercent(setting.clutch, "The clutch");
    if (setting.call !== null) next.call = checkCall(setting.call, "Your");
    if (next.bound < next.target) throw invalid("The bound must be at least the target.");
    tally.variables = { ours: next, theirs: tally.variables?.theirs ?? { ...SAMPLE_TRADING } };
    const changed = (["target", "bound", "rewardPpm", "clutchPpm", "call"] as const).filter((key) => current[key] !== next[key]);
    return this.sign(tally, { by: "us", kind: "setting", units: null, memo: `Changed: ${changed.join(", ") || "nothing"}`, invoice: null });
  }

  close(id: string): ChitView {
    const tally = this.find(id);
    if (tally.stage === "closing") throw invalid("This tally is already closing; it closes when its balance reaches zero.");
    this.requireOpen(tally, "Closing");
    tally.stage = "closing";
    return this.sign(tally, { by: "us", kind: "setting", units: null, memo: "Close when the balance is zero", invoice: null });
  }

  chits(id: string, before: string | null, limit: number): ChitPage {
    const tally = this.find(id);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalid("A page holds 1 to 500 chits.");
    const newestFirst = [...tally.chits].reverse();
    let start = 0;
    if (before !== null) {
      const index = newestFirst.findIndex((chit) => chit.id === before);
      if (index < 0) throw invalid("This page of chits is out of date; reload the history.");
      start = index + 1;
    }
    const page = newestFirst.slice(start, start + limit).map((chit) => ({ ...chit }));
    const more = start + limit < newestFirst.length;
    return { chits: page, before: more ? (page[page.length - 1]?.id ?? null) : null };
  }

  exportCsv(id: string): string | null {
    const tally = this.find(id);
    if (this.exportPath === null) return null;
    return this.exportPath.replace(/tally\.csv$/, `tally-${tally.partnerName.split(" ")[0]?.toLowerCase() ?? "export"}.csv`);
  }

  positions(): NetPosition[] {
    const byUnit = new Map<string, { unit: UnitView; tallies: MockTally[] }>();
    for (const tally of this.tallies.values()) {
      if (tally.stage !== "open" && tally.stage !== "closing") continue;
      const entry = byUnit.get(tally.unit.code) ?? { unit: tally.unit, tallies: [] };
      entry.tallies.push(tally);
      byUnit.set(tally.unit.code, entry);
    }
    const now = this.options.now();
    return [...byUnit.values()].map(({ unit, tallies }) => {
      const moves = tallies
        .flatMap((tally) => tally.chits)
        .filter((chit) => chit.kind === "transaction" && chit.status === "final" && chit.units !== null)
        .sort((a, b) => a.dateMs - b.dateMs);
      let net = 0;
      const points = moves.map((chit) => {
        net += chit.units ?? 0;
        return { atMs: chit.dateMs, net };
      });
      const first = moves[0];
      if (first) points.unshift({ atMs: first.dateMs - DAY_MS, net: 0 });
      points.push({ atMs: now, net });
      return { unit: { ...unit }, net, points };
    });
  }

  // ---- what tests and the demo steer ----

  /** Where CSV exports go; `null` acts as a cancelled save dialog. */
  setExportPath(path: string | null): void {
    this.exportPath = path;
  }

  /** Every pending chit gets its certificate now. */
  certifyPending(): void {
    for (const tally of this.tallies.values()) {
      for (const chit of tally.chits) if (chit.status === "pending") this.certify(tally, chit.id);
    }
  }

  /** The partner offers us a tally; returns its id. */
  partnerOffers(partyId: string, terms: TermsView, memo = ""): string {
    const contact = this.options.contact(partyId);
    if (!contact) throw new Error(`no contact ${partyId}`);
    const now = this.options.now();
    this.made += 1;
    const tally: MockTally = {
      id: mockHexId(`offer ${this.made}:${now}`),
      partyId,
      partnerName: contact.displayName,
      side: "foil",
      stage: "offered",
      waitingFor: "us",
      unit: { code: "CHIP", scale: 3 },
      revisions: [{ revision: 1, by: "partner", dateMs: now, expiresMs: now + 3 * DAY_MS, memo, terms, contract: null, changes: [] }],
      refusal: null,
      // The partner names ours from our card: every device of the cadre.
      ourNodes: this.options.cadreNodes(),
      theirNodes: Array.from({ length: Math.max(1, contact.devices) }, (_, device) => devicePeerId(partyId, device)),
      variables: null,
      invoices: [],
      chits: [],
      updatedAtMs: now,
    };
    this.tallies.set(tally.id, tally);
    this.options.emit(tally.id, "offerReceived");
    return tally.id;
  }

  /** The partner's offer names these nodes for us (it filled our side from an old card of ours). */
  nameOurNodes(id: string, nodes: string[]): void {
    this.find(id).ourNodes = [...nodes];
    this.options.emit(id, "updated");
  }

  /** The partner answers our offer with changed terms (our view). */
  partnerCounters(id: string, change: Partial<TermsView>, memo?: string): void {
    const tally = this.find(id);
    const last = tally.revisions[tally.revisions.length - 1]!;
    this.addRevision(tally, "partner", { ...last.terms, ...change }, memo ?? last.memo);
    this.options.emit(id, "counterReceived");
  }

  /** The partner accepts our latest revision. */
  partnerAccepts(id: string): void {
    const tally = this.tallies.get(id);
    if (!tally || tally.stage !== "offered" || tally.waitingFor !== "partner" || this.isExpired(tally)) return;
    this.open(tally);
    this.options.emit(id, "accepted");
  }

  /** The partner refuses our offer. */
  partnerRefuses(id: string, reason: string): void {
    const tally = this.find(id);
    tally.stage = "refused";
    tally.waitingFor = null;
    tally.refusal = { by: "partner", reason };
    tally.updatedAtMs = this.options.now();
    this.options.emit(id, "refused");
  }

  /** The partner pays us `units`; the chit arrives final, as the partner's nodes certified it. */
  partnerPays(id: string, units: number, memo: string, invoice: string | null = null): void {
    const tally = this.find(id);
    const chit = this.sign(tally, { by: "partner", kind: "transaction", units, memo, invoice }, false);
    if (invoice) tally.invoices = tally.invoices.filter((entry) => entry.id !== invoice);
    this.certify(tally, chit.id, false);
    this.options.emit(id, "chitReceived");
  }

  /** The partner asks us to pay `units`. */
  partnerInvoices(id: string, units: number, memo: string): string {
    const tally = this.find(id);
    const chit = this.sign(tally, { by: "partner", kind: "invoice", units, memo, invoice: null }, false);
    this.certify(tally, chit.id, false);
    tally.invoices.push({ id: chit.id, payee: "partner", units, memo, dateMs: chit.dateMs });
    this.options.emit(id, "invoiceReceived");
    return chit.id;
  }

  /**
   * Some of a side's nodes go down: fewer than a certificate needs are up, so
   * pending chits stay pending until {@link nodesReturn}.
   */
  nodesGoDown(id: string, down: NodesDown): void {
    this.find(id);
    this.nodesDown.set(id, { ...down });
    this.options.emit(id, "updated");
  }

  /** The nodes are back: what waited is certified. */
  nodesReturn(id: string): void {
    const tally = this.find(id);
    this.nodesDown.delete(id);
    for (const chit of tally.chits.filter((entry) => entry.status === "pending")) this.certify(tally, chit.id, false);
    this.options.emit(id, "chitCertified");
  }

  /** The tally network refuses a pending chit of ours. */
  refusePending(id: string, reason: string): void {
    const tally = this.find(id);
    for (const chit of tally.chits) {
      if (chit.status !== "pending") continue;
      chit.status = "refused";
      chit.refusedReason = reason;
      if (chit.kind === "invoice") tally.invoices = tally.invoices.filter((entry) => entry.id !== chit.id);
    }
    this.options.emit(id, "chitRefused");
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // ---- inside ----

  private find(id: string): MockTally {
    const tally = this.tallies.get(id);
    if (!tally) throw new BackendError("notFound", `There is no tally ${id}.`);
    return tally;
  }

  private isExpired(tally: MockTally): boolean {
    const last = tally.revisions[tally.revisions.length - 1];
    return tally.stage === "offered" && last !== undefined && this.options.now() > last.expiresMs;
  }

  private requireOffered(tally: MockTally): void {
    if (tally.stage !== "offered") throw invalid(`This tally is ${tally.stage}: there is no offer to answer.`);
  }

  private requireOpen(tally: MockTally, what: string): void {
    if (tally.stage !== "open") {
      throw invalid(`${what} need an open tally, and this one is ${tally.stage}.`);
    }
  }

  private balanceOf(tally: MockTally): number {
    return tally.chits.reduce(
      (sum, chit) => (chit.kind === "transaction" && chit.status === "final" ? sum + (chit.units ?? 0) : sum),
      0,
    );
  }

  /** Room left, counting pending payments as if they were final, as the node does. */
  private roomOf(tally: MockTally): { weCanPay: number; theyCanPay: number } {
    const terms = this.currentTerms(tally);
    const settled = this.balanceOf(tally);
    const pending = tally.chits.reduce(
      (sum, chit) => (chit.kind === "transaction" && chit.status === "pending" ? sum + (chit.units ?? 0) : sum),
      0,
    );
    const low = settled + Math.min(0, pending);
    const high = settled + Math.max(0, pending);
    return { weCanPay: Math.max(0, low + terms.theyGrant), theyCanPay: Math.max(0, terms.weGrant - high) };
  }

  private currentTerms(tally: MockTally): TermsView {
    return tally.revisions[tally.revisions.length - 1]!.terms;
  }

  private summaryOf(tally: MockTally): TallySummary {
    const last = tally.revisions[tally.revisions.length - 1]!;
    return {
      id: tally.id,
      partyId: tally.partyId,
      partnerName: tally.partnerName,
      side: tally.side,
      stage: tally.stage,
      waitingFor: tally.stage === "offered" ? tally.waitingFor : null,
      expired: this.isExpired(tally),
      revision: last.revision,
      unit: { ...tally.unit },
      balance: this.balanceOf(tally),
      weGrant: last.terms.weGrant,
      theyGrant: last.terms.theyGrant,
      memo: last.memo,
      updatedAtMs: tally.updatedAtMs,
      waitingForNodes: this.nodesWait(tally),
    };
  }

  /** As the node says it: only while chits wait and a side has too few nodes up. */
  private nodesWait(tally: MockTally): TallySummary["waitingForNodes"] {
    const down = this.nodesDown.get(tally.id);
    if (!down || !tally.chits.some((chit) => chit.status === "pending")) return null;
    return { ...down, name: down.who === "partner" ? tally.partnerName : this.options.ourName() };
  }

  /**
   * The nodes we name, as the node checks them: every device of the cadre when
   * `chosen` is null, else the ones chosen, each a device of the cadre, this one
   * among them.
   */
  private ourNodes(chosen: string[] | null | undefined): string[] {
    const cadre = this.options.cadreNodes();
    if (chosen === null || chosen === undefined) return cadre;
    const nodes: string[] = [];
    for (const text of chosen) {
      const id = text.trim();
      if (!/^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/.test(id)) throw invalid(`"${id.slice(0, 60)}" is not a device's peer id.`);
      if (!cadre.includes(id)) {
        throw invalid(`${id.slice(0, 60)} is not a device of your cadre; \`tallymesh cadre list\` shows them.`);
      }
      if (!nodes.includes(id)) nodes.push(id);
    }
    if (!nodes.includes(this.options.ourPeerId())) {
      throw invalid("This device signs your chits and hands them to the tally's ledger, so it must be one of your nodes.");
    }
    return nodes;
  }

  private addRevision(tally: MockTally, by: Who, terms: TermsView, memo: string, extraChanges: string[] = []): void {
    const now = this.options.now();
    const last = tally.revisions[tally.revisions.length - 1];
    const revision = {
      revision: (last?.revision ?? 0) + 1,
      by,
      dateMs: now,
      expiresMs: now + COUNTER_EXPIRY_HOURS * HOUR_MS,
      memo,
      terms,
      contract: last?.contract ?? null,
    };
    tally.revisions.push({ ...revision, changes: [...changesBetween(last, revision), ...extraChanges] });
    tally.waitingFor = by === "us" ? "partner" : "us";
    tally.updatedAtMs = now;
  }

  private open(tally: MockTally): void {
    tally.stage = "open";
    tally.waitingFor = null;
    const terms = this.currentTerms(tally);
    tally.variables = {
      ours: { ...SAMPLE_TRADING, call: terms.ourCall },
      theirs: { ...SAMPLE_TRADING, call: terms.theirCall },
    };
    if (tally.theirNodes.length === 0) tally.theirNodes = [devicePeerId(tally.partyId, 0)];
    tally.updatedAtMs = this.options.now();
  }

  private partnerInvoice(tally: MockTally, invoiceId: string): InvoiceView {
    const invoice = tally.invoices.find((entry) => entry.id === invoiceId && entry.payee === "partner");
    if (!invoice) throw invalid("This invoice is no longer open: it was paid, declined or withdrawn.");
    return invoice;
  }

  /** Appends a chit, pending until its certificate comes back after `certifyMs`. */
  private sign(
    tally: MockTally,
    chit: Pick<ChitView, "by" | "kind" | "units" | "memo" | "invoice">,
    certifyLater = true,
  ): ChitView {
    const now = this.options.now();
    this.made += 1;
    const signed: ChitView = {
      id: mockHexId(`chit ${this.made}:${tally.id}:${now}`),
      ...chit,
      dateMs: now,
      status: "pending",
      refusedReason: null,
      balanceAfter: null,
    };
    tally.chits.push(signed);
    tally.updatedAtMs = now;
    if (certifyLater) this.schedule(() => this.certify(tally, signed.id), this.options.certifyMs);
    return { ...signed };
  }

  private certify(tally: MockTally, chitId: string, announce = true): void {
    const chit = tally.chits.find((entry) => entry.id === chitId);
    if (!chit || chit.status !== "pending") return;
    // Without a quorum of both sides nothing is certified.
    if (this.nodesDown.has(tally.id) && chit.by === "us") return;
    chit.status = "final";
    if (chit.kind === "transaction") chit.balanceAfter = this.balanceOf(tally);
    if (tally.stage === "closing" && this.balanceOf(tally) === 0) tally.stage = "closed";
    if (announce) this.options.emit(tally.id, "chitCertified");
  }

  private partnerPaysInvoice(id: string, invoiceId: string): void {
    const tally = this.tallies.get(id);
    const invoice = tally?.invoices.find((entry) => entry.id === invoiceId);
    if (!tally || !invoice || tally.stage !== "open") return;
    if (invoice.units > this.roomOf(tally).theyCanPay) return;
    this.partnerPays(id, invoice.units, invoice.memo, invoice.id);
  }

  /** Runs `action` after the partner's reply time, when partners answer by themselves. */
  private later(action: () => void, factor = 1): void {
    if (this.options.replyMs === null) return;
    this.schedule(action, this.options.replyMs * factor);
  }

  private schedule(action: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, delayMs);
    this.timers.add(timer);
  }
}

function parsePercent(text: string, what: string): number {
  const trimmed = text.trim();
  const match = /^(\d+)(?:\.(\d{0,4}))?$/.exec(trimmed);
  if (!match) throw invalid(`${what} is a percentage such as 0.5, with at most 4 decimal places.`);
  const ppm = Number(match[1]) * 10_000 + Number((match[2] ?? "").padEnd(4, "0"));
  if (ppm > 1_000_000) throw invalid(`${what} is at most 100 %.`);
  return ppm;
}
