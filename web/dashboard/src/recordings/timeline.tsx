// The player's scrubber: a range input (so the keyboard seeks too) with
// the recording's markers over it — page views, clicks, rage and dead
// clicks, errors, u-turns, custom events and identify calls. A marker is a
// button: clicking it jumps there.

import type { TimelineItem } from './types';
import { pathOf } from '../pages/recordings';

/** m:ss (or h:mm:ss) of a time in milliseconds. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const names: Record<string, string> = {
  page: 'Page view',
  identify: 'Identify',
  click: 'Click',
  rage_click: 'Rage click',
  dead_click: 'Dead click',
  error: 'Error',
  u_turn: 'U-turn',
  event: 'Event',
};

/** What a marker says: its kind and the page, event or error it is about. */
export function markLabel(m: TimelineItem): string {
  const kind = names[m.type] || m.type;
  const p = m.properties || {};
  switch (m.type) {
    case 'page':
      return kind + ' ' + (m.path || (m.url ? pathOf(m.url) : ''));
    case 'event':
      return kind + ' ' + (m.name || '');
    case 'error':
      return kind + (typeof p.message === 'string' ? ': ' + p.message : '');
    case 'click':
    case 'rage_click':
    case 'dead_click':
      return kind + (typeof p.selector === 'string' ? ' on ' + p.selector : '');
    case 'identify':
      return kind;
    default:
      return kind;
  }
}

/** The scrubber with markers; onSeek gets a time in milliseconds. */
export function Timeline(props: { now: number; total: number; marks: TimelineItem[]; onSeek: (ms: number) => void }) {
  const total = Math.max(props.total, 1);
  return (
    <div class="timeline-bar">
      <input
        type="range"
        class="scrubber"
        min={0}
        max={Math.round(total)}
        step={100}
        value={Math.round(props.now)}
        aria-label="Position in the recording"
        aria-valuetext={clock(props.now) + ' of ' + clock(total)}
        onInput={(e) => props.onSeek(Number(e.currentTarget.value))}
      />
      <div class="marks">
        {props.marks.map((m, i) => (
          <button
            type="button"
            key={i}
            class={'mark mark-' + m.type}
            data-type={m.type}
            data-offset={m.offset_ms}
            style={{ left: Math.min(100, (m.offset_ms / total) * 100) + '%' }}
            title={clock(m.offset_ms) + ' ' + markLabel(m)}
            aria-label={markLabel(m) + ' at ' + clock(m.offset_ms)}
            onClick={() => props.onSeek(m.offset_ms)}
          />
        ))}
      </div>
      <ul class="mark-legend" aria-label="Markers">
        {Object.keys(names).map((k) => (
          <li key={k}>
            <span class={'mark-dot mark-' + k} aria-hidden="true" /> {names[k]}
          </li>
        ))}
      </ul>
    </div>
  );
}
