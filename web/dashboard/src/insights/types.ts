// The insights API's results (internal/insight), as the dashboard reads them.

export type Kind = 'trend' | 'funnel' | 'retention';

export interface TrendLine {
  series: number;
  name: string;
  measure: string;
  group: string;
  values: number[];
  previous?: number[];
  total?: number;
}

export interface TrendResult {
  interval: string;
  tz: string;
  buckets: string[];
  previous_buckets?: string[];
  series: TrendLine[];
}

export interface FunnelStep {
  step: number;
  name: string;
  users: number;
  conversion_from_previous: number;
  conversion_from_start: number;
  dropped: number;
  median_seconds: number | null;
}

export interface FunnelResult {
  from: string;
  to: string;
  tz: string;
  window: string;
  steps: string[];
  groups: { group: string; steps: FunnelStep[] }[];
}

export interface Cohort {
  start: string;
  users: number;
  returned: (number | null)[];
  shares: (number | null)[];
}

export interface RetentionResult {
  interval: string;
  tz: string;
  start: string;
  return: string;
  periods: number;
  groups: { group: string; cohorts: Cohort[]; average: (number | null)[] }[];
}

export interface InsightAnswer<T> {
  kind: Kind;
  result: T;
  took_ms: number;
}

export interface SavedInsight {
  id: string;
  name: string;
  kind: Kind;
  author: string;
  definition: any;
  pinned?: boolean; // shown on the site's overview
  updated_at: string;
}

export interface Annotation {
  id: string;
  date: string;
  text: string;
  source: string;
}

/** A breakdown segment as the API takes it: a saved one or one written out. */
export interface SegmentRef {
  id?: string;
  text?: string;
  name?: string;
}
