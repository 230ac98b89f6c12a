// The shapes of the recordings API (docs/recordings.md).

import type { Attr, Signals } from '../types';

/** A recording as the list and the player read it. */
export interface Recording {
  id: string;
  /** The user ID, else the anonymous ID. */
  user: string;
  user_id: string;
  anonymous_id: string;
  attributes: Record<string, Attr>;
  started_at: string;
  ended_at: string;
  duration_seconds: number;
  pages: number;
  first_url: string;
  device: string;
  browser: string;
  os: string;
  country: string;
  session_id?: number;
  signals: Signals;
  frustration: number;
  chunks: number;
  bytes_stored: number;
  bytes_raw: number;
}

/** What a timeline marker stands for. */
export type MarkType = 'page' | 'identify' | 'click' | 'rage_click' | 'dead_click' | 'error' | 'u_turn' | 'event';

/** One marker of the player's timeline. */
export interface TimelineItem {
  offset_ms: number;
  at: string;
  type: MarkType | string;
  name?: string;
  url?: string;
  path?: string;
  title?: string;
  properties?: Record<string, unknown>;
}

/** The answer of GET …/recordings/{id}. */
export interface RecordingDetail {
  recording: Recording;
  timeline: TimelineItem[];
}
