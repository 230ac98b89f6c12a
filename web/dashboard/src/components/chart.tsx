// A line chart of a dated series (uPlot), sized to its container, with a
// legend of our own: the series' name and its latest value, or the value
// under the cursor while one hovers the chart (uPlot's own legend shows
// "Time: --" until then).

import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';

export interface Point {
  date: string; // YYYY-MM-DD
  value: number;
}

const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** A day of a series (YYYY-MM-DD, a UTC day) in the reader's words. */
function formatDay(date: string): string {
  const t = Date.parse(date + 'T00:00:00Z');
  return isNaN(t) ? date : day.format(t);
}

/**
 * Draws points as a line; label names the series for the legend and for
 * screen readers, format writes a value (numbers with at most two
 * decimals by default).
 */
export function LineChart(props: { points: Point[]; label: string; height?: number; format?: (v: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<number | null>(null);
  const [colour, setColour] = useState('');
  useEffect(() => {
    const el = box.current!;
    const xs = props.points.map((p) => Date.parse(p.date + 'T00:00:00Z') / 1000);
    const ys = props.points.map((p) => p.value);
    const css = getComputedStyle(document.documentElement);
    const accent = css.getPropertyValue('--accent').trim() || '#2f6fdf';
    const grid = css.getPropertyValue('--border').trim() || '#e3e6ea';
    const text = css.getPropertyValue('--muted').trim() || '#667085';
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    setColour(accent);
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: props.height || 220,
        // One point (a new survey's first week) gets a few days either side.
        scales: { x: { time: true, range: (_u, min, max) => (min === max ? [min - 3 * 86400, max + 3 * 86400] : [min, max]) }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
        axes: [axis, { ...axis, size: 60 }],
        series: [{}, { label: props.label, stroke: accent, width: 2, fill: accent + '22', points: { show: xs.length < 32, size: 6 } }],
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        hooks: {
          setCursor: [
            (u) => {
              const i = u.cursor.idx;
              setHover(i === null || i === undefined || u.cursor.left === undefined || u.cursor.left < 0 ? null : i);
            },
          ],
        },
      },
      [xs, ys],
      el,
    );
    // Resized in the next frame, and only when the width changed: resizing
    // from the callback would change what is observed within the same
    // frame ("ResizeObserver loop completed with undelivered notifications").
    let frame = 0;
    let width = el.clientWidth;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (el.clientWidth === width) return;
        width = el.clientWidth;
        plot.setSize({ width: Math.max(200, width), height: props.height || 220 });
      });
    });
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      plot.destroy();
      setHover(null);
    };
  }, [props.points, props.label, props.height]);
  const fmt = props.format || ((v: number) => number.format(v));
  const last = props.points[props.points.length - 1];
  const shown = hover !== null && props.points[hover] ? props.points[hover] : last;
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={`${props.label}: ${props.points.length} points${last ? `, ${last.value} on ${last.date}` : ''}`} />
      <figcaption class="chart-legend" aria-live="off">
        <span class="chart-swatch" style={{ background: colour }} aria-hidden="true" />
        <span class="chart-series">{props.label}</span>
        {shown && (
          <span class="chart-value" data-hover={hover !== null ? 'true' : 'false'}>
            {hover !== null ? '' : 'latest '}
            <strong>{fmt(shown.value)}</strong> <span class="muted">on {formatDay(shown.date)}</span>
          </span>
        )}
      </figcaption>
    </figure>
  );
}
