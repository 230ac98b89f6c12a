// The compare and experiment API's answers (internal/compare,
// internal/experiment).

export interface CompareRow {
  kind: string;
  key: string;
  value?: string;
  measure: string;
  label: string;
  a: number;
  b: number;
  n_a: number;
  n_b: number;
  diff: number;
  lift?: number;
  test?: string;
  p: number;
  q: number;
  significant: boolean;
  effect: number;
  effect_kind?: string;
  rank_biserial?: number;
  dominance: number;
  defining?: boolean;
  segment?: string;
  segment_a?: string;
  segment_b?: string;
}

export interface CompareGroup {
  label: string;
  segment: string;
  size: number;
}

export interface Comparison {
  a: CompareGroup;
  b: CompareGroup;
  from: string;
  to: string;
  overlap: number; // users in both segments
  shared?: 'excluded' | 'counted_in_both';
  metrics: CompareRow[];
  rows: CompareRow[];
  tests: number;
  took_ms: number;
}

export interface Interval {
  Low: number;
  High: number;
}

export interface Goal {
  kind: string;
  name?: string;
  event?: string;
  property?: string;
  funnel?: string; // a saved funnel's ID
  steps?: string[];
  window?: string;
}

export interface ExperimentDef {
  id?: string;
  name: string;
  description?: string;
  source: { kind: string; attribute?: string; event?: string; experiment?: string; property?: string };
  variants: { name: string; weight?: number }[];
  control: string;
  start: string;
  end?: string;
  goals: Goal[];
  breakdown?: string[];
  created_at?: string;
}

export interface Arm {
  variant: string;
  control: boolean;
  users: number;
  conversions: number;
  rate: number;
  interval: Interval;
  mean: number;
  sd: number;
  diff?: number;
  diff_interval?: Interval;
  lift?: number;
  lift_interval?: Interval;
  lift_note?: 'control_zero' | 'corrected';
  test?: string;
  p?: number;
  q?: number;
  significant: boolean;
}

export interface Part {
  segment?: string;
  variants: { name: string; control: boolean; weight: number; users: number; expected: number; segment: string }[];
  unexpected?: Record<string, number>;
  multiple: number;
  srm: { chi_square: number; p: number; mismatch: boolean };
  goals: { goal: Goal; arms: Arm[] }[];
}

export interface ExperimentResults extends Part {
  start: string;
  end: string;
  breakdown?: Part[];
  took_ms: number;
}
