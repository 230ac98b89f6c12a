// The results of insights: a trend's chart with its table, a funnel's
// steps with the users who dropped at each, a retention's cohort table.
// Every chart has a table beside it with the same numbers, the one a
// keyboard or a screen reader reads; each table exports as CSV.

import { formatCount, formatDuration } from '../format';
import { MultiLineChart, lineColour, type Line } from './chart';
import type { Annotation, FunnelResult, FunnelStep, RetentionResult, TrendResult } from './types';

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '' : (v * 100).toFixed(1) + '%');

/** A table as rows of text, header first: what the view shows and the CSV holds. */
export type Table = string[][];

/** Downloads a table as a CSV file. */
export function downloadCSV(name: string, table: Table): void {
  const esc = (s: string) => (/[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);
  const text = table.map((r) => r.map(esc).join(',')).join('\n') + '\n';
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase() + '.csv';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function lineLabel(r: TrendResult, i: number): string {
  const l = r.series[i];
  const many = new Set(r.series.map((s) => s.group)).size > 1;
  return `${l.name} (${l.measure})` + (many || l.group !== 'All users' ? ' · ' + l.group : '');
}

export function trendTable(r: TrendResult): Table {
  const head = ['Bucket', ...r.series.map((_, i) => lineLabel(r, i))];
  const prev = r.previous_buckets && r.previous_buckets.length > 0;
  if (prev) head.push(...r.series.map((_, i) => 'Previous: ' + lineLabel(r, i)));
  return [
    head,
    ...r.buckets.map((b, j) => {
      const row = [b, ...r.series.map((l) => String(l.values[j]))];
      if (prev) row.push(...r.series.map((l) => (l.previous && j < l.previous.length ? String(l.previous[j]) : '')));
      return row;
    }),
  ];
}

export function TrendView(props: { result: TrendResult; annotations: Annotation[] }) {
  const r = props.result;
  const lines: Line[] = r.series.map((l, i) => ({ label: lineLabel(r, i), values: l.values }));
  if (r.previous_buckets && r.previous_buckets.length > 0) {
    r.series.forEach((l, i) => lines.push({ label: 'Previous period: ' + lineLabel(r, i), values: r.buckets.map((_, j) => (l.previous || [])[j] ?? 0), dashed: true }));
  }
  const table = trendTable(r);
  return (
    <div class="insight-result">
      <MultiLineChart buckets={r.buckets} lines={lines} annotations={props.annotations} label="Trend" />
      <details class="insight-table" open={r.buckets.length <= 14}>
        <summary>Table of the trend ({r.tz})</summary>
        <div class="table-wrap">
          <table data-testid="trend-table">
            <caption class="sr-only">Trend: one row per {r.interval}</caption>
            <thead>
              <tr>{table[0].map((h, i) => (<th key={i} scope="col">{h}</th>))}</tr>
            </thead>
            <tbody>
              {table.slice(1).map((row, j) => (
                <tr key={j}>
                  <th scope="row">{row[0]}</th>
                  {row.slice(1).map((v, i) => (<td key={i} class="num">{v === '' ? '' : number.format(Number(v))}</td>))}
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                {r.series.map((l, i) => (<td key={i} class="num">{l.total === undefined ? '—' : number.format(l.total)}</td>))}
              </tr>
            </tfoot>
          </table>
        </div>
      </details>
      <button type="button" class="btn btn-small" onClick={() => downloadCSV('trend', table)}>Download CSV</button>
    </div>
  );
}

export function funnelTable(r: FunnelResult): Table {
  const rows: Table = [['Group', 'Step', 'Name', 'Users', 'Conversion from previous', 'Conversion from start', 'Dropped', 'Median time from previous (s)']];
  for (const g of r.groups) {
    for (const s of g.steps) {
      rows.push([g.group, String(s.step), s.name, String(s.users), String(s.conversion_from_previous), String(s.conversion_from_start), String(s.dropped), s.median_seconds === null ? '' : String(s.median_seconds)]);
    }
  }
  return rows;
}

/** What the funnel view offers for the users who dropped at a step of a group. */
export interface DropActions {
  recordings: (group: number, step: FunnelStep) => void;
  saveSegment: (group: number, step: FunnelStep) => void;
  /** Creates a draft survey targeting them, when offered. */
  survey?: (group: number, step: FunnelStep) => void;
}

export function FunnelView(props: { result: FunnelResult; actions: DropActions }) {
  const r = props.result;
  return (
    <div class="insight-result">
      <p class="muted">
        {r.from} to {r.to} ({r.tz}), every step within {r.window} of the first.
      </p>
      {r.groups.map((g, gi) => (
        <section key={gi} class="funnel-group" aria-label={'Funnel of ' + g.group}>
          <h3>{g.group}</h3>
          <div class="funnel-bars" aria-hidden="true">
            {g.steps.map((s) => (
              <div key={s.step} class="funnel-bar">
                <div class="funnel-fill" style={{ height: `${Math.max(2, s.conversion_from_start * 100)}%`, background: lineColour(gi) }} />
                <span class="funnel-bar-label">{pct(s.conversion_from_start)}</span>
              </div>
            ))}
          </div>
          <div class="table-wrap">
            <table class="funnel-table" data-testid={'funnel-table-' + gi}>
              <caption class="sr-only">Funnel steps of {g.group}</caption>
              <thead>
                <tr>
                  <th scope="col">Step</th>
                  <th scope="col">Users</th>
                  <th scope="col">From previous</th>
                  <th scope="col">From start</th>
                  <th scope="col">Dropped</th>
                  <th scope="col">Median time</th>
                  <th scope="col">Who dropped</th>
                </tr>
              </thead>
              <tbody>
                {g.steps.map((s) => (
                  <tr key={s.step}>
                    <th scope="row">
                      {s.step}. <code>{s.name}</code>
                    </th>
                    <td class="num" data-users={s.users}>{formatCount(s.users)}</td>
                    <td class="num">{pct(s.conversion_from_previous)}</td>
                    <td class="num">{pct(s.conversion_from_start)}</td>
                    <td class="num">{s.step > 1 ? formatCount(s.dropped) : ''}</td>
                    <td class="num">{s.median_seconds === null ? '' : formatDuration(Math.round(s.median_seconds))}</td>
                    <td>
                      {s.step > 1 && s.dropped > 0 && (
                        <span class="funnel-actions">
                          <button type="button" class="btn btn-small" onClick={() => props.actions.recordings(gi, s)}>
                            Recordings of the {formatCount(s.dropped)} who dropped
                          </button>
                          <button type="button" class="btn btn-small btn-ghost" onClick={() => props.actions.saveSegment(gi, s)}>
                            Save as segment
                          </button>
                          {props.actions.survey && (
                            <button type="button" class="btn btn-small btn-ghost" onClick={() => props.actions.survey!(gi, s)}>
                              Ask them in a survey
                            </button>
                          )}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
      <button type="button" class="btn btn-small" onClick={() => downloadCSV('funnel', funnelTable(r))}>Download CSV</button>
    </div>
  );
}

export function retentionTable(r: RetentionResult): Table {
  const rows: Table = [['Group', 'Cohort', 'Users', ...Array.from({ length: r.periods + 1 }, (_, k) => `${r.interval} ${k}`)]];
  for (const g of r.groups) {
    for (const c of g.cohorts) rows.push([g.group, c.start, String(c.users), ...c.returned.map((n) => (n === null ? '' : String(n)))]);
  }
  return rows;
}

export function RetentionView(props: { result: RetentionResult }) {
  const r = props.result;
  const periods = Array.from({ length: r.periods + 1 }, (_, k) => k);
  return (
    <div class="insight-result">
      <p class="muted">
        Cohorts by the first <code>{r.start}</code>; coming back means <code>{r.return}</code> ({r.tz}).
      </p>
      {r.groups.map((g, gi) => (
        <section key={gi} aria-label={'Retention of ' + g.group}>
          <h3>{g.group}</h3>
          <div class="table-wrap">
            <table class="retention-table" data-testid={'retention-table-' + gi}>
              <caption class="sr-only">Share of each cohort of {g.group} coming back, by {r.interval}</caption>
              <thead>
                <tr>
                  <th scope="col">Cohort</th>
                  <th scope="col">Users</th>
                  {periods.map((k) => (<th key={k} scope="col">{r.interval} {k}</th>))}
                </tr>
              </thead>
              <tbody>
                <tr class="retention-average">
                  <th scope="row">Average</th>
                  <td class="num">{formatCount(g.cohorts.reduce((a, c) => a + c.users, 0))}</td>
                  {periods.map((k) => (<td key={k} class="num">{pct(g.average[k])}</td>))}
                </tr>
                {g.cohorts.map((c) => (
                  <tr key={c.start}>
                    <th scope="row">{c.start}</th>
                    <td class="num">{formatCount(c.users)}</td>
                    {periods.map((k) => {
                      const s = c.shares[k];
                      return (
                        <td key={k} class="num retention-cell" style={s === null || s === undefined ? undefined : { background: `rgba(47, 111, 223, ${0.08 + 0.6 * s})` }} title={c.returned[k] === null ? 'not begun' : `${c.returned[k]} of ${c.users}`}>
                          {pct(s)}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
      <button type="button" class="btn btn-small" onClick={() => downloadCSV('retention', retentionTable(r))}>Download CSV</button>
    </div>
  );
}
