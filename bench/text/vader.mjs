#!/usr/bin/env node
// vader.mjs - the JavaScript peer of bench/text: npm vader-sentiment 1.1.3's
// polarity_scores on every line of a file, single-threaded, after a warm-up
// of 20,000 lines (so the JIT has compiled the hot paths, as in a server
// that has been up for a while). Prints one JSON line of figures; with OUT
// also writes each line's compound (4 decimals), as the C driver does.
//
//   node bench/text/vader.mjs COMMENTS [OUT]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const V = require(path.join(here, 'node_modules', 'vader-sentiment')).SentimentIntensityAnalyzer;

const [file, out] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/text/vader.mjs COMMENTS [OUT]');
  process.exit(2);
}
const text = fs.readFileSync(file, 'utf8');
const lines = text.split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const bytes = Buffer.byteLength(text, 'utf8');

for (let i = 0; i < Math.min(20000, lines.length); i++) V.polarity_scores(lines[i]);

const compound = new Float64Array(lines.length);
const t0 = process.hrtime.bigint();
for (let i = 0; i < lines.length; i++) compound[i] = V.polarity_scores(lines[i]).compound;
const secs = Number(process.hrtime.bigint() - t0) / 1e9;

let pos = 0;
let neg = 0;
for (const c of compound) {
  if (c >= 0.05) pos++;
  else if (c <= -0.05) neg++;
}
console.log(JSON.stringify({
  comments: lines.length, bytes, seconds: Number(secs.toFixed(3)),
  comments_per_s: Math.round(lines.length / secs), mb_per_s: Number((bytes / secs / 1e6).toFixed(2)),
  positive: pos, negative: neg, neutral: lines.length - pos - neg,
}));
if (out) {
  const parts = [];
  for (const c of compound) parts.push((c === 0 ? 0 : c).toFixed(4));
  fs.writeFileSync(out, parts.join('\n') + '\n');
}
