// The heatmap API's answers (internal/heatmap).

export type Kind = 'click' | 'rage' | 'dead' | 'scroll';

export interface Element {
  selector: string;
  clicks: number;
  users: number;
  page_views: number;
  view_share: number;
  rage_clicks: number;
  dead_clicks: number;
  rage_share: number;
  dead_share: number;
  offset_x: number;
  offset_y: number;
  /** [column, row, count] in a 5 × 5 grid over the element. */
  spots: [number, number, number][];
  count: number;
}

export interface ClickMap {
  kind: Kind;
  page_views: number;
  total: number;
  users: number;
  elements: Element[];
  more_elements: number;
  grid: { columns: number; row_px: number; cells: [number, number, number][]; omitted: number };
  took_ms: number;
}

export interface ScrollMap {
  kind: 'scroll';
  page_views: number;
  step: number;
  reached: number[];
  average_fold: number;
  average_fold_px: number;
  average_depth: number;
}

export interface PageSeen {
  path: string;
  page_views: number;
  urls: number;
  clicks: number;
}

export interface Difference {
  selector: string;
  clicks_a: number;
  clicks_b: number;
  users_a: number;
  users_b: number;
  share_a: number;
  share_b: number;
  difference: number;
  z: number;
  marked: boolean;
}

export interface Comparison {
  total_a: number;
  total_b: number;
  page_views_a: number;
  page_views_b: number;
  elements: Difference[];
  a: ClickMap;
  b: ClickMap;
}

export interface SnapshotRef {
  recording: string;
  index: number;
  href: string;
  width: number;
  height: number;
  taken_at: string;
  html: string;
  /** Captured by the tracker for the heatmap, not taken from a session's recording. */
  captured: boolean;
}

export interface ElementClick {
  at: string;
  session_id: number;
  user_id?: string;
  recording?: string;
  offset_ms?: number;
}

/** The spot grid's size (heatmap.SpotCells). */
export const SPOT_CELLS = 5;

/** The width a device's map is drawn at when no snapshot says otherwise. */
export const DEVICE_WIDTH: Record<string, number> = { desktop: 1280, tablet: 820, mobile: 390 };
