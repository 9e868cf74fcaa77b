/**
 * The mock node's trust book: a score per party that moves the way the node
 * moves it (valid messages up a little, invalid ones and timeouts down, a
 * transitive boost from attestations, a sharp drop for evidence), with the
 * history of events behind each score, the attestations and the evidence.
 * Tests (and the browser demo) play the rest of the network with
 * {@link MockTrust.receiveAttestation}, {@link MockTrust.receiveEvidence} and
 * {@link MockTrust.observe}.
 */
import { mockHexId, mockPeerId } from "./mock-data";
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
const START = 0.5;
const VALID = 0.001;
const INVALID = 0.1;
const TIMEOUT = 0.05;
const EVIDENCE = 0.5;
const ATTESTATION_WEIGHT = 0.1;
const RECOMMENDER_THRESHOLD = 0.5;
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

interface Standing {
  score: number;
  atMs: number;
  convicted: boolean;
}

function invalid(message: string): BackendError {
  return new BackendError("invalidInput", message);
}

function clamp(value: number): number {
  return Math.min(1, Math.max(0, value));
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

  /** A believable past for the sample contacts: messages, a timeout, an attestation between them. */
  seedSample(): void {
    const contacts = this.options.contacts();
    const now = this.options.now();
    contacts.forEach((contact, index) => {
      this.observe(contact.partyId, "valid", 40 + index * 35, `${40 + index * 35} valid messages`, now - (index + 2) * DAY_MS);
    });
    const [first, second, third] = contacts;
    if (third) this.observe(third.partyId, "timeout", 1, "a request on /tallymesh/tally/1 timed out", now - DAY_MS);
    if (first && second) {
      this.receiveAttestation(first.partyId, second.partyId, 0.85, "trade", now - 3 * DAY_MS);
    }
  }

  list(): TrustScore[] {
    const contacts = this.options.contacts();
    const subjects = new Set<string>([...this.standings.keys(), ...contacts.map((contact) => contact.partyId)]);
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
        .map((view) => this.named(view))
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
   * it replaces the attester's earlier one about the subject, and the
   * subject's score moves by the difference of their boosts.
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
    const byMe = attester === own;
    const recommender = byMe ? 1 : this.scoreOf(attester).score;
    const isContact = this.options.contacts().some((contact) => contact.partyId === attester);
    const counts = byMe || isContact || recommender >= RECOMMENDER_THRESHOLD;
    const boost = counts && subject !== own ? clamp(score) * recommender * ATTESTATION_WEIGHT : 0;
    const previous = this.attestationList.find((view) => view.attester === attester && view.subject === subject);
    const milli = Math.round(clamp(score) * 1000);
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
      expired: issuedAtMs + validDays * DAY_MS <= this.options.now(),
      boost,
      byMe,
    };
    this.attestationList = [...this.attestationList.filter((entry) => entry !== previous), view];
    const delta = boost - (previous?.boost ?? 0);
    const who = this.nameOf(attester) ?? `…${attester.slice(-8)}`;
    if (delta !== 0) {
      this.change(
        subject,
        "attested",
        1,
        delta,
        `attestation by ${who}: ${kind} at ${(milli / 1000).toFixed(2)}, recommender at ${recommender.toFixed(3)}`,
        issuedAtMs,
      );
    } else {
      this.options.emit({ kind: "trustChanged", subject });
    }
    return this.named(view);
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
    this.change(partyId, "evidence", 1, -EVIDENCE, `evidence: ${summary}`, piece.receivedAtMs, true);
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
    const each = kind === "valid" ? VALID : kind === "invalid" ? -INVALID : -TIMEOUT;
    this.change(subject, kind, count, each * count, reason, atMs);
  }

  private change(
    subject: string,
    kind: string,
    count: number,
    delta: number,
    reason: string,
    atMs: number,
    convict = false,
  ): void {
    const standing = this.standings.get(subject) ?? { score: START, atMs, convicted: false };
    const next: Standing = {
      score: clamp(standing.score + delta),
      atMs,
      convicted: standing.convicted || convict,
    };
    this.standings.set(subject, next);
    const events = this.history.get(subject) ?? [];
    events.push({ id: this.nextEventId++, atMs, kind, count, delta, score: next.score, reason });
    this.history.set(subject, events);
    this.options.emit({ kind: "trustChanged", subject });
  }

  private scoreOf(subject: string): TrustScore {
    const standing = this.standings.get(subject);
    const score = standing?.score ?? START;
    const weekAgo = this.options.now() - 7 * DAY_MS;
    const past = (this.history.get(subject) ?? []).filter((event) => event.atMs <= weekAgo).at(-1);
    const trend = clamp(0.5 + (score - (past?.score ?? START)) / 2);
    const statistics = 0.5;
    const contact = this.options.contacts().find((entry) => entry.partyId === subject);
    return {
      subject,
      partyId: isPartyId(subject) ? subject : null,
      displayName: contact?.displayName ?? null,
      isContact: contact !== undefined,
      score,
      trend,
      statistics,
      kept: 0,
      broken: 0,
      reputation: clamp(0.6 * score + 0.2 * trend + 0.2 * statistics),
      convicted: standing?.convicted ?? false,
      updatedAtMs: standing?.atMs ?? 0,
    };
  }

  private nameOf(partyId: string): string | null {
    const own = this.options.own();
    if (own && own.partyId === partyId) return own.displayName;
    return this.options.contacts().find((contact) => contact.partyId === partyId)?.displayName ?? null;
  }

  private named(view: AttestationView): AttestationView {
    return {
      ...view,
      attesterName: this.nameOf(view.attester),
      subjectName: this.nameOf(view.subject),
      expired: view.expiresAtMs <= this.options.now(),
    };
  }
}
