// The CSV export of a list (a segment's members, a survey's responses)
// with its columns chosen first: the list's own fields, then the site's
// user attributes. Until a person changes the choice the server's default
// columns are exported; a choice is remembered for the site.

import { useId, useRef } from 'preact/hooks';
import { useStored } from '../hooks';

export interface Column {
  key: string;
  label: string;
}

export function ExportCSV(props: {
  /** The export's address, with its filters; columns are added to it. */
  href: string;
  /** The export's own columns, in the file's order. */
  fields: Column[];
  /** The site's user attributes, after the fields. */
  attributes: string[];
  /** The columns the server exports when none are asked for. */
  defaults: string[];
  /** Where the choice is remembered (localStorage). */
  storageKey: string;
}) {
  const id = useId();
  const [stored, setStored] = useStored<string[] | null>(props.storageKey, null);
  const all: Column[] = [...props.fields, ...props.attributes.filter((a) => !props.fields.some((f) => f.key === a)).map((a) => ({ key: a, label: a }))];
  const known = (k: string) => all.some((c) => c.key === k);
  // A remembered choice keeps only the columns that still exist.
  const chosen = stored ? stored.filter(known) : null;
  const shown = chosen ?? props.defaults.filter(known);
  // Clicks that come faster than renders build on each other.
  const latest = useRef(shown);
  latest.current = shown;
  const toggle = (k: string) => {
    const cur = latest.current;
    const next = all.map((c) => c.key).filter((c) => (c === k ? !cur.includes(c) : cur.includes(c)));
    latest.current = next;
    setStored(next);
  };
  const sep = props.href.includes('?') ? '&' : '?';
  const href = chosen ? props.href + sep + 'columns=' + encodeURIComponent(chosen.join(',')) : props.href;
  return (
    <details class="export-menu">
      <summary class="btn">Export CSV</summary>
      <div class="popover export-popover">
        <fieldset>
          <legend>Columns to export</legend>
          <div class="export-columns">
            {all.map((c) => (
              <div class="check" key={c.key}>
                <input id={id + c.key} type="checkbox" checked={shown.includes(c.key)} onChange={() => toggle(c.key)} />
                <label for={id + c.key}>{c.label}</label>
              </div>
            ))}
          </div>
        </fieldset>
        {shown.length === 0 && <p class="field-error">Choose at least one column.</p>}
        <div class="actions">
          {chosen && (
            <button type="button" class="btn btn-small btn-ghost" onClick={() => setStored(null)}>
              Default columns
            </button>
          )}
          {shown.length > 0 ? (
            <a class="btn btn-small btn-primary" href={href} download data-columns={chosen ? chosen.join(',') : ''}>
              Download CSV
            </a>
          ) : (
            <button type="button" class="btn btn-small btn-primary" disabled>
              Download CSV
            </button>
          )}
        </div>
      </div>
    </details>
  );
}
