// What the user asks for: a target (size=20KB, latency=0.5ms, flash=64KB) and the
// accuracy loss allowed; how a candidate's result ranks against them; the Pareto
// front over (size, latency, accuracy).
import { fail } from '../ir/errors.js';
import type { Evaluation } from './evaluate.js';

export const TARGET_KINDS = ['size', 'latency', 'flash'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface Target {
  kind: TargetKind;
  /** Bytes (size, flash) or milliseconds (latency). */
  limit: number;
  /** As the user wrote it. */
  text: string;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 * 1024, m: 1024 * 1024 };

/** Parses `size=20KB`, `latency=0.5ms`, `flash=64KB`. */
export function parseTarget(text: string): Target {
  const m = /^([a-z]+)=([0-9.]+)\s*([a-zµ]*)$/i.exec(text.trim());
  if (!m) fail(`--target ${text}: write KIND=VALUE, e.g. size=20KB, latency=0.5ms or flash=64KB`);
  const kind = m[1].toLowerCase();
  if (!(TARGET_KINDS as readonly string[]).includes(kind)) fail(`--target ${text}: unknown target kind "${m[1]}"; use ${TARGET_KINDS.join(', ')}`);
  const value = Number(m[2]);
  const unit = m[3].toLowerCase();
  if (!(value > 0) || !Number.isFinite(value)) fail(`--target ${text}: the value must be a positive number`);
  if (kind === 'latency') {
    const scale = { ms: 1, us: 1e-3, 'µs': 1e-3, s: 1000 }[unit || 'ms'];
    if (scale === undefined) fail(`--target ${text}: latency is in ms, us or s`);
    return { kind, limit: value * scale, text };
  }
  const scale = UNITS[unit || 'b'];
  if (scale === undefined) fail(`--target ${text}: ${kind} is in B, KB or MB`);
  return { kind: kind as TargetKind, limit: value * scale, text };
}

/** The figure of a result the target bounds. */
export function metric(t: TargetKind, e: Evaluation): number {
  return t === 'size' ? e.size : t === 'latency' ? e.latencyMs : e.flash ?? Infinity;
}

export interface Goal {
  target: Target;
  /** Accuracy loss allowed, as a fraction (--max-loss 0.2 = 0.2 pp = 0.002). */
  maxLoss: number;
  baseline: number;
}

/** How far a result is from meeting the goal (0 = meets it): target overshoot plus loss overshoot, relative. */
export function violation(g: Goal, e: Evaluation): number {
  const over = Math.max(0, metric(g.target.kind, e) / g.target.limit - 1);
  const loss = Math.max(0, g.baseline - e.accuracy - g.maxLoss) / Math.max(g.maxLoss, 1e-3);
  return over + loss;
}

/**
 * Best first: results meeting the goal by accuracy, then by the target's figure;
 * the others by how far they miss (Deb's constraint ranking). Ties by hash, so the order is stable.
 */
export function rank(g: Goal, results: Evaluation[]): Evaluation[] {
  const key = results.map((e) => ({ e, v: violation(g, e), m: metric(g.target.kind, e) }));
  key.sort((a, b) => (a.v === 0 && b.v === 0 ? b.e.accuracy - a.e.accuracy || a.m - b.m : a.v - b.v) || (a.e.hash < b.e.hash ? -1 : a.e.hash > b.e.hash ? 1 : 0));
  return key.map((k) => k.e);
}

/** The results no other result beats on size, latency and accuracy together (sorted by size, then hash). */
export function paretoFront(results: Evaluation[]): Evaluation[] {
  const beats = (a: Evaluation, b: Evaluation) =>
    a.size <= b.size && a.latencyMs <= b.latencyMs && a.accuracy >= b.accuracy &&
    (a.size < b.size || a.latencyMs < b.latencyMs || a.accuracy > b.accuracy);
  return results.filter((r) => !results.some((o) => beats(o, r))).sort((a, b) => a.size - b.size || (a.hash < b.hash ? -1 : 1));
}
