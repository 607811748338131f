// Agreement versions: which version's terms are in force on which dates, and the
// one Agreement the calculation core settles from them. Pure: no store, no clock.
//
// The latest approved version whose effective date is on or before a day is in
// force that day. A version with an earlier effective date than versions before
// it (a retroactive correction) replaces them from its date on. A calendar period
// that an effective date cuts in two is settled as two parts, each on its own
// version's tiers (docs/decisions/0011-amendments.md).
import type { Agreement, Rule } from '../calculation/calculation.types.ts';
import { addDays } from '../shared/dates.ts';

export interface ApprovedVersion {
  version: number;
  effectiveFrom: string;
  terms: Agreement;
}

export interface VersionSpan {
  version: number;
  start: string;
  end: string;
}

/** The dates each version is in force, in date order; versions no longer in force on any day are left out. */
export function versionSpans(versions: readonly ApprovedVersion[]): VersionSpan[] {
  const byVersion = [...versions].sort((a, b) => a.version - b.version);
  let segments: { version: ApprovedVersion; start: string }[] = [];
  for (const v of byVersion) {
    segments = segments.filter((s) => s.start < v.effectiveFrom);
    segments.push({ version: v, start: v.effectiveFrom });
  }
  const spans: VersionSpan[] = [];
  segments.forEach((s, i) => {
    const next = segments[i + 1];
    const untilNext = next ? addDays(next.start, -1) : s.version.terms.window.end;
    // A version ends where its own terms end, even when a later one starts after a gap.
    const end = untilNext < s.version.terms.window.end ? untilNext : s.version.terms.window.end;
    if (s.start <= end) spans.push({ version: s.version.version, start: s.start, end });
  });
  return spans;
}

/**
 * The agreement as the calculation settles it: the latest version's heading, the
 * first version's start, the latest span's end, and every version's rules, each
 * limited to the dates its version is in force.
 */
export function agreementInForce(versions: readonly ApprovedVersion[]): Agreement {
  const byVersion = [...versions].sort((a, b) => a.version - b.version);
  const first = byVersion[0];
  const latest = byVersion.at(-1);
  if (first === undefined || latest === undefined) throw new Error('an agreement has at least one version');
  const spans = versionSpans(byVersion);
  const rules: Rule[] = spans.flatMap((span) => {
    const terms = byVersion.find((v) => v.version === span.version)!.terms;
    return terms.rules.map((rule) => ({
      ...rule,
      version: span.version,
      effective: { start: span.start, end: span.end },
    }));
  });
  return {
    ...latest.terms,
    window: { start: first.terms.window.start, end: spans.at(-1)?.end ?? latest.terms.window.end },
    rules,
  };
}
