/**
 * The mock node's trust book: a score per party that moves the way the node
 * moves it — an earned part (valid messages up a little, invalid ones and
 * timeouts down, a sharp drop for evidence, decay back toward the start) and
 * a standing boost from the live attestations of parties whose trust was
 * earned — with the history of events behind each score, the attestations
 * and the evidence. The numbers come from `trust-model.ts`, checked against
 * what Rust computes. Tests (and the browser demo) play the rest of the
 * network with {@link MockTrust.receiveAttestation},
 * {@link MockTrust.receiveEvidence} and {@link MockTrust.observe}.
 */
import { mockHexId, mockPeerId } from "./mock-data";
import {
  DEFAULT_TRUST,
  applyChange,
  attestedScore,
  boost as boostOf,
  clamp,
  decayToward,
  levelOf,
  delta as deltaOf,
  recommenderWeight,
  reputation,
  standingBoost,
  statistics,
  trend as trendOf,
  type Vouch,
} from "./trust-model";
import {
  BackendError,
  type Attest,
  type AttestationView,
  type Contact,
  type EvidenceView,
  type NodeEvent,
  type TrustDetail,
  type TrustEvent,
  type TrustScore,
} from "./types";

const DAY_MS = 24 * 3_600_000;
const MINUTE_MS = 60_000;
const KINDS = ["identity", "trade", "service"] as const;

export interface MockTrustOptions {
  now: () => number;
  /** Delivers a node event to the window. */
  emit: (event: NodeEvent) => void;
  /** The contacts the node has now. */
  contacts: () => Contact[];
  /** This party: its id and name, when the node acts for one. */
  own: () => { partyId: string; displayName: string } | null;
}

/** A subject's earned score as last changed (its presence means direct experience). */
interface Standing {
  score: number;
  atMs: number;
  convicted: boolean;
}

function invalid(message: string): BackendError {
  return new BackendError("invalidInput", message);
}

function isPartyId(text: string): boolean {
  return /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{40,}$/.test(text);
}

function isPeerId(text: string): boolean {
  return /^12D3KooW[1-9A-HJ-NP-Za-km-z]{40,}$/.test(text);
}

export class MockTrust {
  private readonly options: MockTrustOptions;
  private standings = new Map<string, Standing>();
  private history = new Map<string, TrustEvent[]>();
  private attestationList: AttestationView[] = [];
  private evidenceList: EvidenceView[] = [];
  private nextEventId = 1;

  constructor(options: MockTrustOptions) {
    this.options = options;
  }

  /** A believable recent past for the sample contacts: messages, a timeout, an attestation between them. */
  seedSample(): void {
    const contacts = this.options.contacts();
    const now = this.options.now();
    contacts.forEach((contact, index) => {
      this.observe(contact.partyId, "valid", 40 + index * 35, `${40 + index * 35} valid messages`, now - (index + 2) * 10 * MINUTE_MS);
    });
    const [first, second, third] = contacts;
    if (third) this.observe(third.partyId, "timeout", 1, "a request on /tallymesh/tally/1 timed out", now - 5 * MINUTE_MS);
    if (first && second) {
      this.receiveAttestation(first.partyId, second.partyId, 0.85, "trade", now - 3 * DAY_MS);
    }
  }

  list(): TrustScore[] {
    const contacts = this.options.contacts();
    const subjects = new Set<string>([
      ...this.standings.keys(),
      ...this.attestationList.map((view) => view.subject),
      ...contacts.map((contact) => contact.partyId),
    ]);
    const own = this.options.own()?.partyId;
    if (own) subjects.delete(own);
    return [...subjects]
      .map((subject) => this.scoreOf(subject))
      .sort((a, b) => {
        if (a.isContact !== b.isContact) return a.isContact ? -1 : 1;
        return (a.displayName ?? a.subject).localeCompare(b.displayName ?? b.subject);
      });
  }

  show(subject: string): TrustDetail {
    const trimmed = subject.trim();
    if (!isPartyId(trimmed) && !isPeerId(trimmed)) {
      throw invalid(`"${trimmed.slice(0, 100)}" is neither a party id nor a peer id.`);
    }
    return {
      score: this.scoreOf(trimmed),
      events: [...(this.history.get(trimmed) ?? [])].reverse().slice(0, 200),
      attestations: this.attestationList
        .filter((view) => view.subject === trimmed)
        .map((view) => this.weighed(view))
        .sort((a, b) => b.issuedAtMs - a.issuedAtMs),
      evidence: this.evidenceList.filter((piece) => piece.partyId === trimmed || piece.node === trimmed),
    };
  }

  attest(attest: Attest): AttestationView {
    const own = this.options.own();
    if (!own) throw new BackendError("unavailable", "This node acts for no party yet: create or restore one first.");
    const subject = attest.partyId.trim();
    if (!isPartyId(subject)) throw invalid(`"${subject.slice(0, 100)}" is neither a party id nor a peer id.`);
    if (!(KINDS as readonly string[]).includes(attest.kind.trim())) {
      throw invalid(`"${attest.kind.slice(0, 40)}" is not a kind of attestation: use identity, trade or service.`);
    }
    if (!Number.isFinite(attest.score) || attest.score < 0 || attest.score > 1) {
      throw invalid("The score is a number from 0 to 1.");
    }
    if (!Number.isInteger(attest.validDays) || attest.validDays < 1 || attest.validDays > 366) {
      throw invalid("An attestation counts for 1 to 366 days.");
    }
    if (subject === own.partyId) throw invalid("You cannot attest yourself.");
    return this.receiveAttestation(own.partyId, subject, attest.score, attest.kind.trim(), this.options.now(), attest.validDays);
  }

  evidence(): EvidenceView[] {
    return this.evidenceList.map((piece) => ({ ...piece }));
  }

  /**
   * An attestation arrives (or is made here, when `attester` is this party):
   * it replaces the attester's earlier one about the subject; the subject's
   * score carries its boost while it lives, if the attester's word counts.
   */
  receiveAttestation(
    attester: string,
    subject: string,
    score: number,
    kind: string,
    issuedAtMs = this.options.now(),
    validDays = 365,
  ): AttestationView {
    const own = this.options.own()?.partyId ?? null;
    const standingBefore = this.standingOf(subject);
    const previous = this.attestationList.find((view) => view.attester === attester && view.subject === subject);
    const milli = Math.round(clamp(score) * 1000);
    const recommender = this.recommenderOf(attester);
    const view: AttestationView = {
      id: mockHexId(`attestation:${attester}:${subject}:${issuedAtMs}`),
      attester,
      attesterName: null,
      subject,
      subjectName: null,
      kind,
      score: milli / 1000,
      issuedAtMs,
      expiresAtMs: issuedAtMs + validDays * DAY_MS,
      expired: false,
      recommender,
      boost: recommender !== null && subject !== own ? boostOf(milli / 1000, recommender) : 0,
      byMe: attester === own,
    };
    this.attestationList = [...this.attestationList.filter((entry) => entry !== previous), view];
    if (subject !== own) {
      const who = this.nameOf(attester) ?? `…${attester.slice(-8)}`;
      const weight = recommender === null ? `${who}'s trust is not earned here: it does not count` : `recommender at ${recommender.toFixed(3)}`;
      this.record(
        subject,
        "attested",
        1,
        this.standingOf(subject) - standingBefore,
        `attestation by ${who}: ${kind} at ${(milli / 1000).toFixed(2)}, ${weight}`,
        issuedAtMs,
      );
    }
    this.options.emit({ kind: "trustChanged", subject });
    return this.weighed(view);
  }

  /** Verified evidence against `partyId` arrives (from `reportedBy`, or found here when `null`). */
  receiveEvidence(partyId: string, summary: string, reportedBy: string | null = mockPeerId("reporter")): EvidenceView {
    const offence = mockHexId(`offence:${partyId}:${summary}`);
    const known = this.evidenceList.find((piece) => piece.offence === offence);
    if (known) return known;
    const piece: EvidenceView = {
      id: mockHexId(`evidence:${offence}`),
      offence,
      kind: "double-signed",
      node: mockPeerId(`culprit:${partyId}`),
      partyId,
      partyName: this.nameOf(partyId),
      summary,
      reportedBy,
      receivedAtMs: this.options.now(),
    };
    this.evidenceList = [piece, ...this.evidenceList];
    this.change(partyId, "evidence", 1, `evidence: ${summary}`, piece.receivedAtMs, true);
    this.options.emit({ kind: "evidenceKept", offence, partyId, summary });
    return piece;
  }

  /** The node saw `count` valid or invalid messages or timeouts of `subject`. */
  observe(
    subject: string,
    kind: "valid" | "invalid" | "timeout",
    count: number,
    reason: string,
    atMs = this.options.now(),
  ): void {
    this.change(subject, kind, count, reason, atMs);
  }

  /** Moves the earned score of `subject` at `atMs` and keeps the event. */
  private change(
    subject: string,
    kind: "valid" | "invalid" | "timeout" | "evidence",
    count: number,
    reason: string,
    atMs: number,
    convict = false,
  ): void {
    const earned = this.earnedAt(subject, atMs);
    const convicted = earned.convicted || convict;
    const next: Standing = { score: applyChange(earned.score, kind, count), atMs, convicted };
    this.standings.set(subject, next);
    this.record(subject, kind, count, deltaOf(kind, count), reason, atMs);
    this.options.emit({ kind: "trustChanged", subject });
  }

  private record(subject: string, kind: string, count: number, delta: number, reason: string, atMs: number): void {
    const events = this.history.get(subject) ?? [];
    const score = attestedScore(this.earnedAt(subject, atMs).score, this.standingOf(subject, atMs));
    events.push({ id: this.nextEventId++, atMs, kind, count, delta, score, reason });
    this.history.set(subject, events);
  }

  /** The earned score at `atMs`, decayed toward the start (or 0 once convicted). */
  private earnedAt(subject: string, atMs = this.options.now()): Standing & { experienced: boolean } {
    const standing = this.standings.get(subject);
    if (!standing) return { score: DEFAULT_TRUST.start, atMs, convicted: false, experienced: false };
    const target = standing.convicted ? 0 : DEFAULT_TRUST.start;
    const elapsed = Math.max(0, atMs - standing.atMs);
    return { ...standing, score: decayToward(standing.score, target, elapsed), experienced: true };
  }

  /** How much `attester`'s word weighs here now. */
  private recommenderOf(attester: string): number | null {
    if (attester === this.options.own()?.partyId) return 1;
    const earned = this.earnedAt(attester);
    const isContact = this.options.contacts().some((contact) => contact.partyId === attester);
    return recommenderWeight(earned.score, earned.experienced, isContact);
  }

  private vouchesFor(subject: string): Vouch[] {
    if (subject === this.options.own()?.partyId) return [];
    return this.attestationList
      .filter((view) => view.subject === subject)
      .map((view) => ({ recommended: view.score, recommender: this.recommenderOf(view.attester), expiresAtMs: view.expiresAtMs }));
  }

  private standingOf(subject: string, atMs = this.options.now()): number {
    return standingBoost(this.vouchesFor(subject), atMs);
  }

  private scoreOf(subject: string): TrustScore {
    const now = this.options.now();
    const earned = this.earnedAt(subject, now);
    const score = attestedScore(earned.score, this.standingOf(subject, now));
    const weekAgo = now - DEFAULT_TRUST.trendWindowMs;
    const past = (this.history.get(subject) ?? []).filter((event) => event.atMs <= weekAgo).at(-1);
    const trend = trendOf(score, past?.score ?? DEFAULT_TRUST.start);
    const stats = statistics(0, 0);
    const contact = this.options.contacts().find((entry) => entry.partyId === subject);
    const standing = this.standings.get(subject);
    return {
      subject,
      partyId: isPartyId(subject) ? subject : null,
      displayName: contact?.displayName ?? null,
      isContact: contact !== undefined,
      score,
      earned: earned.score,
      attested: score - earned.score,
      trend,
      statistics: stats,
      kept: 0,
      broken: 0,
      reputation: reputation(score, trend, stats),
      convicted: earned.convicted,
      level: levelOf(score, earned.convicted),
      updatedAtMs: standing?.atMs ?? 0,
    };
  }

  private nameOf(partyId: string): string | null {
    const own = this.options.own();
    if (own && own.partyId === partyId) return own.displayName;
    return this.options.contacts().find((contact) => contact.partyId === partyId)?.displayName ?? null;
  }

  /** The attestation as the node shows it now: names, expiry, its attester's weight and its boost. */
  private weighed(view: AttestationView): AttestationView {
    const now = this.options.now();
    const own = this.options.own()?.partyId ?? null;
    const recommender = view.subject === own ? null : this.recommenderOf(view.attester);
    const expired = view.expiresAtMs <= now;
    return {
      ...view,
      attesterName: this.nameOf(view.attester),
      subjectName: this.nameOf(view.subject),
      expired,
      recommender,
      boost: recommender !== null && !expired ? boostOf(view.score, recommender) : 0,
    };
  }
}
