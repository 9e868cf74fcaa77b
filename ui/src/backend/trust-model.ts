/**
 * The trust model as the mock node computes it: a TypeScript copy of
 * `crates/core/src/trust/score.rs`, with the parameters Rust writes into
 * `trust-model.fixture.json`. The fixture also holds what Rust computes for a
 * set of inputs; `trust-model.test.ts` runs them through this copy, so the
 * mock cannot drift from the node unnoticed. Nothing in the UI itself uses
 * these numbers: screens show what the backend returns.
 */
import type { TrustLevel } from "./types";
import fixture from "./trust-model.fixture.json";

/** The node's trust parameters (`TrustConfig`), by their camelCase names. */
export type TrustParameters = typeof fixture.config;

/** The defaults, exactly as Rust has them. */
export const DEFAULT_TRUST: TrustParameters = fixture.config;

/** What moves an earned score. */
export type ChangeKind = "valid" | "invalid" | "timeout" | "evidence";

/** `value` held in [0, 1]; not-a-number reads as 0. */
export function clamp(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(1, Math.max(0, value));
}

/** How much a change moves a score before clamping. */
export function delta(kind: ChangeKind, count: number, c: TrustParameters = DEFAULT_TRUST): number {
  switch (kind) {
    case "valid":
      return c.validMessage * count;
    case "invalid":
      return -c.invalidMessage * count;
    case "timeout":
      return -c.timeout * count;
    case "evidence":
      return -c.evidencePenalty;
  }
}

/** The earned score after a change. */
export function applyChange(score: number, kind: ChangeKind, count: number, c: TrustParameters = DEFAULT_TRUST): number {
  return clamp(clamp(score) + delta(kind, count, c));
}

/** The score `elapsedMs` later, its distance to `target` shrunk by the decay rate per interval. */
export function decayToward(score: number, target: number, elapsedMs: number, c: TrustParameters = DEFAULT_TRUST): number {
  const [s, t] = [clamp(score), clamp(target)];
  if (c.decayIntervalMs === 0 || elapsedMs === 0) return s;
  const keep = 1 - clamp(c.decayRate);
  return clamp(t + (s - t) * keep ** (elapsedMs / c.decayIntervalMs));
}

/** recommended × recommender × the attestation weight. */
export function boost(recommended: number, recommender: number, c: TrustParameters = DEFAULT_TRUST): number {
  return clamp(recommended) * clamp(recommender) * clamp(c.attestationWeight);
}

/** One attestation about a subject, as weighed now. */
export interface Vouch {
  recommended: number;
  /** The attester's weight, or `null` when its attestations do not count. */
  recommender: number | null;
  expiresAtMs: number;
}

/** The boosts of the attestations still alive at `nowMs`. */
export function standingBoost(vouches: Vouch[], nowMs: number, c: TrustParameters = DEFAULT_TRUST): number {
  return vouches.reduce(
    (sum, vouch) => sum + (vouch.recommender !== null && nowMs < vouch.expiresAtMs ? boost(vouch.recommended, vouch.recommender, c) : 0),
    0,
  );
}

/** The score: earned plus standing, in [0, 1]. */
export function attestedScore(earned: number, standing: number): number {
  const extra = Number.isFinite(standing) ? Math.max(0, standing) : 0;
  return clamp(clamp(earned) + extra);
}

/** A contact's word weighs its earned score; anyone else's only when earned here above the threshold. */
export function recommenderWeight(
  earned: number,
  experienced: boolean,
  isContact: boolean,
  c: TrustParameters = DEFAULT_TRUST,
): number | null {
  const e = clamp(earned);
  const earnedEnough = experienced && e >= c.recommenderThreshold && e > clamp(c.start);
  return isContact || earnedEnough ? e : null;
}

/** 0.5 when unchanged over the trend window, above when it rose. */
export function trend(now: number, then: number): number {
  return clamp(0.5 + (clamp(now) - clamp(then)) / 2);
}

/** (kept + 1) / (kept + broken + 2). */
export function statistics(kept: number, broken: number): number {
  return clamp((kept + 1) / (kept + broken + 2));
}

/** 0.6 × score + 0.2 × trend + 0.2 × statistics, with the configured weights. */
export function reputation(score: number, trendValue: number, stats: number, c: TrustParameters = DEFAULT_TRUST): number {
  return clamp(
    c.reputationScoreWeight * clamp(score) + c.reputationTrendWeight * clamp(trendValue) + c.reputationStatisticsWeight * clamp(stats),
  );
}

/** How a score reads in words (`TrustLevel`): where the node starts treating a party differently. */
export function levelOf(score: number, convicted: boolean, c: TrustParameters = DEFAULT_TRUST): TrustLevel {
  const s = clamp(score);
  if (convicted || s < c.disconnectBelow) return "none";
  if (s < Math.max(c.offlineFloor, c.relayThreshold)) return "low";
  if (s >= c.recommenderThreshold) return "high";
  if (s >= c.start + fixture.goodMargin) return "good";
  return "neutral";
}
