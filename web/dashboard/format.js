// format.js - how numbers read on the page (English, fixed decimals), one
// place so tiles, tables, chart labels and the tests agree.

const ints = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const none = '–';

export function num(v, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(v)) return none;
  return new Intl.NumberFormat('en-US', {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(v);
}

export const int = (v) => (Number.isFinite(v) ? ints.format(v) : none);
export const signed = (v, digits = 1) => (Number.isFinite(v) && v > 0 ? '+' : '') + num(v, digits);
export const pct = (v, digits = 1) => (Number.isFinite(v) ? `${num(v, digits)}%` : none);
export const margin = (v, digits = 1) => (Number.isFinite(v) ? `±${num(v, digits)}` : '');
export const count = (n) => `n = ${int(n || 0)}`;
// An API time ("2026-11-22T17:04:09Z") to the minute: "2026-11-22 17:04 UTC".
export const when = (ts) => (ts ? ts.replace('T', ' ').replace(/:\d\dZ$/, ' UTC') : none);
