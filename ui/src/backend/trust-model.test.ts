import { describe, expect, it } from "vitest";
import fixture from "./trust-model.fixture.json";
import {
  DEFAULT_TRUST,
  applyChange,
  attestedScore,
  decayToward,
  levelOf,
  recommenderWeight,
  reputation,
  standingBoost,
  statistics,
  trend,
  type ChangeKind,
} from "./trust-model";

// Every number here was computed by the Rust model (crates/core/src/trust/score.rs).
const CLOSE = 12;

describe("the mock's trust model gives what Rust gives", () => {
  it("uses Rust's default parameters", () => {
    expect(DEFAULT_TRUST.start).toBe(0.5);
    expect(DEFAULT_TRUST.recommenderThreshold).toBeGreaterThan(DEFAULT_TRUST.start);
  });

  it.each(fixture.apply)("applies $kind × $count to $score", ({ score, kind, count, expected }) => {
    expect(applyChange(score, kind as ChangeKind, count)).toBeCloseTo(expected, CLOSE);
  });

  it.each(fixture.decay)("decays $score toward $target over $elapsedMs ms", ({ score, target, elapsedMs, expected }) => {
    expect(decayToward(score, target, elapsedMs)).toBeCloseTo(expected, CLOSE);
  });

  it.each(fixture.standing)("stands $earned on its live attestations at $nowMs", ({ earned, vouches, nowMs, standing, expected }) => {
    const computed = standingBoost(vouches, nowMs);
    expect(computed).toBeCloseTo(standing, CLOSE);
    expect(attestedScore(earned, computed)).toBeCloseTo(expected, CLOSE);
  });

  it.each(fixture.recommender)(
    "weighs a recommender at $earned (experienced $experienced, contact $isContact)",
    ({ earned, experienced, isContact, expected }) => {
      expect(recommenderWeight(earned, experienced, isContact)).toBe(expected);
    },
  );

  it.each(fixture.reputation)("mixes $score into a reputation", ({ score, then, kept, broken, trend: tr, statistics: st, expected }) => {
    expect(trend(score, then)).toBeCloseTo(tr, CLOSE);
    expect(statistics(kept, broken)).toBeCloseTo(st, CLOSE);
    expect(reputation(score, tr, st)).toBeCloseTo(expected, CLOSE);
  });

  it.each(fixture.level)("reads $score (convicted: $convicted) as $expected", ({ score, convicted, expected }) => {
    expect(levelOf(score, convicted)).toBe(expected);
  });
});
