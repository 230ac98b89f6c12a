// Attribute values and times as pages show them.

import { ago, formatTime, formatValue } from '../format';
import type { AttrType } from '../types';

/** A type badge: string, number, boolean, datetime. */
export function TypeBadge(props: { type: AttrType | string }) {
  return <span class={'badge badge-' + props.type}>{props.type}</span>;
}

/** An attribute value; "not set" when missing. */
export function Value(props: { value: unknown; type?: string }) {
  if (props.value === null || props.value === undefined) return <span class="muted">not set</span>;
  return <span class={'value value-' + (props.type || 'string')}>{formatValue(props.value, props.type)}</span>;
}

/** A time as "3 min ago" with the full time as its title, in a <time> element. */
export function Ago(props: { at: string | null | undefined }) {
  if (!props.at) return <span class="muted">never</span>;
  return (
    <time dateTime={props.at} title={formatTime(props.at)}>
      {ago(props.at)}
    </time>
  );
}
