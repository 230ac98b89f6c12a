// A horizontal bar chart of counts, drawn with plain elements so that it
// reads as a table to screen readers and needs no canvas.

import { formatCount } from '../format';

export interface Bar {
  label: string;
  value: number;
  /** A class for the bar's colour: promoter, passive, detractor. */
  tone?: string;
}

/** Bars for counts, each with its share of the total. */
export function Bars(props: { bars: Bar[]; caption: string; compact?: boolean }) {
  const total = props.bars.reduce((n, b) => n + b.value, 0);
  const max = Math.max(1, ...props.bars.map((b) => b.value));
  return (
    <table class={'bars' + (props.compact ? ' bars-compact' : '')}>
      <caption class="sr-only">{props.caption}</caption>
      <tbody>
        {props.bars.map((b) => (
          <tr key={b.label} data-bar={b.label}>
            <th scope="row">{b.label}</th>
            <td class="bar-cell">
              <span class={'bar-fill' + (b.tone ? ' bar-' + b.tone : '')} style={{ width: (100 * b.value) / max + '%' }} />
            </td>
            <td class="num">
              {formatCount(b.value)}
              <span class="sub"> {total ? Math.round((100 * b.value) / total) + '%' : ''}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
