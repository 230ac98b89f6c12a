// The map drawn over the page: the snapshot in a sandboxed iframe (no
// scripts run in it), and above it hot spots placed by the clicked
// elements' boxes in the snapshot, so that clicks land on their element
// whatever the width. Elements the snapshot does not have are listed, not
// drawn. Without a snapshot the density grid is drawn on a blank page.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { ClickMap, ScrollMap } from './types';
import { SPOT_CELLS } from './types';

export interface Spot {
  selector: string;
  x: number; // page px in the snapshot
  y: number;
  n: number;
  marked: boolean;
}

export interface Box {
  selector: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The element a selector names in the snapshot, or null. The tracker
 * writes an element inside an open shadow root as its host's selector,
 * ">>>" and its selector inside the root; the snapshot has the root as
 * declarative shadow DOM, open, so it is searched through the host's
 * shadowRoot.
 */
export function find(doc: Document, sel: string): Element | null {
  let scope: Document | ShadowRoot | null = doc;
  let el: Element | null = null;
  for (const part of sel.split('>>>')) {
    if (!scope) return null;
    try {
      el = scope.querySelector(part);
    } catch {
      return null;
    }
    if (!el) return null;
    scope = el.shadowRoot;
  }
  return el;
}

/** Where each element of the map is in the snapshot's document, or null when missing. */
export function locate(doc: Document, selectors: string[]): Record<string, Box | null> {
  const out: Record<string, Box | null> = {};
  const view = doc.defaultView;
  const sx = view ? view.scrollX : 0;
  const sy = view ? view.scrollY : 0;
  for (const sel of selectors) {
    const el = find(doc, sel);
    if (!el) {
      out[sel] = null;
      continue;
    }
    const r = el.getBoundingClientRect();
    out[sel] = { selector: sel, left: r.left + sx, top: r.top + sy, width: r.width, height: r.height };
  }
  return out;
}

/** The hot spots of a map over located boxes. */
export function spotsOf(map: ClickMap, boxes: Record<string, Box | null>, marked: Set<string>): Spot[] {
  const out: Spot[] = [];
  for (const e of map.elements) {
    const b = boxes[e.selector];
    if (!b) continue;
    for (const [cx, cy, n] of e.spots) {
      out.push({
        selector: e.selector,
        x: b.left + ((cx + 0.5) / SPOT_CELLS) * b.width,
        y: b.top + ((cy + 0.5) / SPOT_CELLS) * b.height,
        n,
        marked: marked.has(e.selector),
      });
    }
  }
  return out;
}

interface Props {
  snapshotURL: string | null;
  width: number;
  map: ClickMap | null;
  scroll: ScrollMap | null;
  marked: Set<string>;
  label: string;
  /** Called with the selectors the snapshot lacks. */
  onMissing?: (missing: string[]) => void;
}

/** The page with its map over it, scaled to the width available. */
export function Overlay(props: Props) {
  const frame = useRef<HTMLIFrameElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const [height, setHeight] = useState(1200);
  const [boxes, setBoxes] = useState<Record<string, Box | null>>({});
  const [loaded, setLoaded] = useState(0);
  const [scale, setScale] = useState(1);

  useEffect(() => {
    const fit = () => {
      const w = wrap.current ? wrap.current.clientWidth : props.width;
      setScale(Math.min(1, w / props.width));
    };
    fit();
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
  }, [props.width]);

  const selectors = (props.map ? props.map.elements : []).map((e) => e.selector);
  useEffect(() => {
    const doc = frame.current && frame.current.contentDocument;
    if (!props.snapshotURL || !doc || !doc.body) {
      setBoxes({});
      return;
    }
    setHeight(Math.max(400, Math.min(20000, doc.documentElement.scrollHeight)));
    const b = locate(doc, selectors);
    setBoxes(b);
    if (props.onMissing) props.onMissing(selectors.filter((s) => b[s] === null));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loaded, props.snapshotURL, selectors.join('\n')]);

  const spots = props.map && props.snapshotURL ? spotsOf(props.map, boxes, props.marked) : [];
  const max = Math.max(1, ...spots.map((s) => s.n));
  const grid = props.map && !props.snapshotURL ? props.map.grid : null;
  const gridMax = grid ? Math.max(1, ...grid.cells.map((c) => c[2])) : 1;
  const pageHeight = grid ? Math.max(800, ...grid.cells.map((c) => (c[1] + 1) * grid.row_px)) : height;

  return (
    <div class="heat-frame" ref={wrap} data-label={props.label} style={{ height: Math.ceil(pageHeight * scale) + 'px' }}>
      <div class="heat-stage" style={{ width: props.width + 'px', height: pageHeight + 'px', transform: `scale(${scale})` }}>
        {props.snapshotURL ? (
          <iframe
            ref={frame}
            class="heat-page"
            title={'The page as a visitor saw it: ' + props.label}
            src={props.snapshotURL}
            sandbox="allow-same-origin"
            referrerpolicy="no-referrer"
            style={{ width: props.width + 'px', height: height + 'px' }}
            onLoad={() => setLoaded((n) => n + 1)}
          />
        ) : (
          <div class="heat-blank" style={{ width: props.width + 'px', height: pageHeight + 'px' }} />
        )}
        <svg class="heat-layer" width={props.width} height={pageHeight} aria-hidden="true">
          {props.scroll && <ScrollBands scroll={props.scroll} height={height} width={props.width} />}
          {spots.map((s, i) => (
            <circle
              key={i}
              class={'spot' + (s.marked ? ' spot-marked' : '')}
              data-selector={s.selector}
              data-n={s.n}
              cx={s.x}
              cy={s.y}
              r={8 + 22 * Math.sqrt(s.n / max)}
              style={{ opacity: 0.35 + 0.5 * (s.n / max) }}
            />
          ))}
          {props.map &&
            props.snapshotURL &&
            props.map.elements
              .filter((e) => props.marked.has(e.selector) && boxes[e.selector])
              .map((e) => {
                const b = boxes[e.selector]!;
                return <rect key={e.selector} class="box-marked" data-selector={e.selector} x={b.left - 3} y={b.top - 3} width={b.width + 6} height={b.height + 6} />;
              })}
          {grid &&
            grid.cells.map(([x, y, n], i) => (
              <rect
                key={i}
                class="cell"
                x={(x / grid.columns) * props.width}
                y={y * grid.row_px}
                width={props.width / grid.columns}
                height={grid.row_px}
                style={{ opacity: 0.15 + 0.75 * (n / gridMax) }}
              />
            ))}
        </svg>
      </div>
    </div>
  );
}

/** The scroll map: each band darker where fewer page views reached it, and the average fold. */
function ScrollBands(props: { scroll: ScrollMap; height: number; width: number }) {
  const s = props.scroll;
  const band = props.height / (s.reached.length - 1);
  return (
    <g class="scroll-map">
      {s.reached.slice(0, -1).map((r, i) => (
        <rect key={i} class="scroll-band" data-reached={r} x={0} y={i * band} width={props.width} height={band} style={{ opacity: 0.6 * (1 - r) }} />
      ))}
      {s.average_fold > 0 && (
        <g class="fold">
          <line x1={0} x2={props.width} y1={(s.average_fold / 100) * props.height} y2={(s.average_fold / 100) * props.height} />
          <text x={8} y={(s.average_fold / 100) * props.height - 6}>
            Average fold ({Math.round(s.average_fold)} % of the page)
          </text>
        </g>
      )}
    </g>
  );
}
