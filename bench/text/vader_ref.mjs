#!/usr/bin/env node
// vader_ref.mjs - the reference scores of tests/data/sentiment_vader_ref.tsv:
// each text's compound from the JavaScript VADER (npm vader-sentiment 1.1.3,
// bench/text/node_modules), and whether cxm's scorer should agree with it.
//
//   node bench/text/vader_ref.mjs FILE... > tests/data/sentiment_vader_ref.tsv
//
// A FILE ending in .tsv gives the texts of its third column (the labelled
// set), any other file one text a line. Each output line is
// JS_COMPOUND<TAB>CLASS<TAB>TEXT, CLASS "same" when none of the differences
// below applies (the unit test then wants |ours - JS| <= 1e-3), else the
// differences that apply, comma-separated. The differences are by design:
// cxm follows the Python reference (vaderSentiment 3.3.2), which the
// JavaScript port predates, and adds what src/core/sentiment.h lists.
//   unicode     emoji, curly quotes: cxm splits and scores emoji (the port
//               scores none), and reads curly apostrophes as straight
//   tokens      the port strips at most one punctuation mark on each side
//               of a word and only some ("good!!!!", "#fail", "(great)"
//               stay unmatched); cxm strips all, as Python does
//   short       the port drops one-character tokens ("I", "a"), moving a
//               booster or negation nearer to its word than cxm counts it
//   caps        the dropped tokens change the ALL CAPS test ("I" is caps)
//   case        the port matches negations, "never", "so", "this",
//               "without", "doubt" and "but" in lower case (or BUT) only:
//               "Not good", "NEVER", "But" are no rule words to it
//   never-so    "never so good": x1.25 in Python 3.3.2, x1.5 in the port
//   no          3.3.2's "no" rule ("no problem": "no" negates the next
//               words instead of scoring -1.2); the port has none
//   without     3.3.2's "without doubt" exception
//   boosters    boosters 3.3.2 added ("total", "extreme", "slight", ...)
//   phrase      cxm's phrases and idioms (lexicon/cx.tsv, VADER's special
//               cases anywhere, multi-word lexicon entries)
//   cx-word     a word of lexicon/cx.tsv
//   contrast    "however", "although", "though" without a "but"
//   clause      a negation whose scope cxm ends at , ; : . ! ?
//   emoticon    a negation before an emoticon, which cxm never negates
//   nobody      "nobody", a negation in cxm only
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as G from '../../scripts/gen-lexicon.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const V = require(path.join(here, 'node_modules', 'vader-sentiment')).SentimentIntensityAnalyzer;

const src = await G.loadSources();
const VAL = new Set([...src.vader.words.keys(), ...src.emoji.keys()]);
const CX_WORDS = new Set();
const PHRASES = Object.keys(G.SPECIAL_CASES).map(G.phraseWords);
for (const [k] of src.cx) {
  if (k.includes(' ')) PHRASES.push(G.phraseWords(k));
  else {
    CX_WORDS.add(k);
    VAL.add(k);
  }
}
for (const [k] of src.vader.phrases) PHRASES.push(G.phraseWords(k));
const NEG = new Set([...G.NEGATE, ...G.NEGATE_CX]);
// In BOOSTERS (3.3.2) but not in the port's BOOSTER_DICT.
const BOOSTERS_33 = new Set([
  'considerable', 'enormous', 'exceptional', 'extreme', 'frackin', 'fracking', 'fuckin',
  'fuggin', 'fugging', 'incredible', 'major', 'total', 'tremendous', 'utter', 'marginal',
  'occasional', 'scarce', 'slight',
]);
const BOOST = new Set(Object.keys(G.BOOSTERS));
const RULE_WORDS = new Set(['never', 'so', 'this', 'without', 'doubt']);

// The port's tokenizer (SentiText.get_words_and_emoticons).
const PORT_PUNCT = /[!"#$%&'()*+,-./:;<=>?@[\\\]^_`{|}~]/g;
const PUNC_LIST = ['.', '!', '?', ',', ';', ':', '-', "'", '"', '!!', '!!!', '??', '???',
  '?!?', '!?!', '?!?!', '!?!?'];
function portTokens(text) {
  const words = text.replace(PORT_PUNCT, '').split(/\s/).filter((w) => w.length > 1);
  const dict = new Map();
  for (const p of PUNC_LIST) {
    for (const w of words) {
      dict.set(p + w, w);
      dict.set(w + p, w);
    }
  }
  return text.split(/\s/).filter((t) => t.length > 1).map((t) => (dict.has(t) ? dict.get(t) : t));
}

// cxm's tokenizer, for ASCII text (sentiment.c: make_tok).
const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
function ourTokens(text) {
  const out = [];
  for (const raw of text.split(/\s+/).filter(Boolean)) {
    let b = 0;
    let e = raw.length;
    while (b < e && PUNCT.includes(raw[b])) b++;
    while (e > b && PUNCT.includes(raw[e - 1])) e--;
    let tok = raw;
    let clause = false;
    if (b === e) clause = /[,;:.!?]/.test(raw);
    else if ((b > 0 || e < raw.length) && !VAL.has(raw.toLowerCase())) {
      tok = raw.slice(b, e);
      clause = /[,;:.!?]/.test(raw.slice(e));
    }
    out.push({ tok, low: tok.toLowerCase(), clause });
  }
  return out;
}

const isUpper = (w) => /^[^a-z]*[A-Z]+[^a-z]*$/.test(w);
const capDiff = (ws) => {
  const up = ws.filter(isUpper).length;
  return up > 0 && up < ws.length;
};
const negish = (low) => NEG.has(low) || low.includes("n't") || low === 'no' || low === 'least';
const modifier = (low) => negish(low) || BOOST.has(low) || RULE_WORDS.has(low) || low === 'kind';

export function classify(text) {
  const why = new Set();
  if (/[^\x00-\x7f]/.test(text)) why.add('unicode');
  const ours = ourTokens(text);
  const lows = ours.map((t) => t.low);
  const port = portTokens(text);
  const oursLong = ours.filter((t) => t.tok.length > 1).map((t) => t.low);
  if (oursLong.join('\u0001') !== port.map((w) => w.toLowerCase()).join('\u0001')) why.add('tokens');
  const isVal = (i) => VAL.has(lows[i]);
  for (let i = 0; i < ours.length; i++) {
    if (!isVal(i)) continue;
    for (let j = Math.max(0, i - 4); j < i; j++) {
      if (!modifier(lows[j])) continue;
      if (ours.slice(j + 1, i).some((t) => t.tok.length === 1)) why.add('short');
      if (j >= i - 3 && negish(lows[j])) {
        if (ours.slice(j, i).some((t) => t.clause)) why.add('clause');
        if (G.isEmoticon(lows[i])) why.add('emoticon');
      }
    }
  }
  const upperMatters = ours.some((t) => isUpper(t.tok) && (VAL.has(t.low) || BOOST.has(t.low)));
  if (upperMatters && capDiff(ours.map((t) => t.tok)) !== capDiff(port)) why.add('caps');
  for (const t of ours) {
    if ((negish(t.low) || RULE_WORDS.has(t.low)) && t.tok !== t.low) why.add('case');
    if (t.low === 'but' && t.tok !== 'but' && t.tok !== 'BUT') why.add('case');
    if (t.low === 'no') why.add('no');
    if (t.low === 'nobody') why.add('nobody');
    if (BOOSTERS_33.has(t.low)) why.add('boosters');
    if (CX_WORDS.has(t.low)) why.add('cx-word');
  }
  for (let i = 0; i + 1 < lows.length; i++) {
    if (lows[i] === 'never' && (lows[i + 1] === 'so' || lows[i + 1] === 'this')) why.add('never-so');
    if (lows[i] === 'without' && lows[i + 1] === 'doubt') why.add('without');
  }
  if (!lows.includes('but') && lows.some((w) => w === 'however' || w === 'although' || w === 'though'))
    why.add('contrast');
  for (let i = 0; i < lows.length; i++) {
    for (const p of PHRASES) {
      if (i + p.length > lows.length) continue;
      let ok = true;
      for (let k = 0; k < p.length && ok; k++)
        ok = p[k] === G.NEG_ANY ? negish(lows[i]) && lows[i] !== 'least' && lows[i] !== 'no' : p[k] === lows[i + k];
      if (ok) why.add('phrase');
    }
  }
  return why.size ? [...why].sort().join(',') : 'same';
}

async function main() {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: node bench/text/vader_ref.mjs FILE... > sentiment_vader_ref.tsv');
    process.exit(2);
  }
  const out = [
    '# sentiment_vader_ref.tsv - generated by bench/text/vader_ref.mjs: do not edit.',
    '# JS_COMPOUND<TAB>CLASS<TAB>TEXT: the compound of npm vader-sentiment 1.1.3 and',
    '# "same" where cxm must agree within 1e-3, else why it differs by design',
    '# (bench/text/vader_ref.mjs lists the reasons).',
  ];
  for (const f of files) {
    let lines = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    if (f.endsWith('.tsv')) lines = lines.map((l) => l.split('\t')[2]);
    for (const text of lines) {
      if (text.includes('\t')) continue;
      out.push(`${V.polarity_scores(text).compound.toFixed(4)}\t${classify(text)}\t${text}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

if (import.meta.url === `file://${path.resolve(process.argv[1] ?? '')}`) await main();
