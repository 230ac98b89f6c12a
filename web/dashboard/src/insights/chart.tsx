// A line chart of several series over the same buckets (uPlot), with the
// site's annotations drawn as dashed vertical lines at their dates. The
// chart is a picture for those who look; the table beside it (see
// TrendTable) carries the same numbers for keyboards and screen readers.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Annotation } from './types';

export interface Line {
  label: string;
  values: number[];
  dashed?: boolean;
}

const palette = ['#2f6fdf', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#0b7285', '#c2255c', '#5c940d'];

/** The colour of the i-th line, shared by the chart and its legend. */
export function lineColour(i: number): string {
  return palette[i % palette.length];
}

/** Seconds since the epoch of a bucket label (YYYY-MM-DD or YYYY-MM-DDTHH:MM), read as UTC wall time. */
function bucketTime(b: string): number {
  return Date.parse(b.length === 10 ? b + 'T00:00:00Z' : b + ':00Z') / 1000;
}

export function MultiLineChart(props: { buckets: string[]; lines: Line[]; annotations: Annotation[]; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const xs = props.buckets.map(bucketTime);
    const css = getComputedStyle(document.documentElement);
    const grid = css.getPropertyValue('--border').trim() || '#e3e6ea';
    const text = css.getPropertyValue('--muted').trim() || '#667085';
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const marks = props.annotations.map((a) => ({ t: bucketTime(a.date), text: a.text }));
    const plot = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: props.height || 260,
        scales: {
          x: { time: true, range: (_u, min, max) => (min === max ? [min - 3 * 86400, max + 3 * 86400] : [min, max]) },
          y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
        },
        axes: [axis, { ...axis, size: 60 }],
        series: [
          {},
          ...props.lines.map((l, i) => ({
            label: l.label,
            stroke: lineColour(i),
            width: 2,
            dash: l.dashed ? [6, 4] : undefined,
            points: { show: xs.length < 40, size: 5 },
          })),
        ],
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx;
              const [min, max] = [u.scales.x.min ?? 0, u.scales.x.max ?? 0];
              ctx.save();
              ctx.strokeStyle = '#9c36b5';
              ctx.fillStyle = '#9c36b5';
              ctx.setLineDash([4, 4]);
              ctx.font = `${Math.round(11 * devicePixelRatio)}px sans-serif`;
              for (const m of marks) {
                if (m.t < min || m.t > max) continue;
                const x = Math.round(u.valToPos(m.t, 'x', true));
                ctx.beginPath();
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
                ctx.fillText(m.text, x + 4, u.bbox.top + 12 * devicePixelRatio);
              }
              ctx.restore();
            },
          ],
        },
      },
      [xs, ...props.lines.map((l) => l.values)] as uPlot.AlignedData,
      el,
    );
    let frame = 0;
    let width = el.clientWidth;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (el.clientWidth === width) return;
        width = el.clientWidth;
        plot.setSize({ width: Math.max(240, width), height: props.height || 260 });
      });
    });
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      plot.destroy();
    };
  }, [props.buckets, props.lines, props.annotations, props.height]);
  const shown = props.annotations.filter((a) => props.buckets.length > 0 && a.date >= props.buckets[0].slice(0, 10) && a.date <= props.buckets[props.buckets.length - 1].slice(0, 10));
  return (
    <figure class="chart insight-chart">
      <div ref={box} role="img" aria-label={`${props.label}: ${props.lines.length} lines over ${props.buckets.length} buckets; the table beside it has the numbers`} data-annotations={shown.length} />
      <figcaption class="chart-legend">
        {props.lines.map((l, i) => (
          <span key={i} class="insight-legend-item">
            <span class="chart-swatch" style={{ background: lineColour(i) }} aria-hidden="true" />
            <span class="chart-series">{l.label}</span>
          </span>
        ))}
      </figcaption>
      {shown.length > 0 && (
        <ul class="insight-annotations" aria-label="Annotations on this chart">
          {shown.map((a) => (
            <li key={a.id}>
              <time dateTime={a.date}>{a.date}</time> {a.text}
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
