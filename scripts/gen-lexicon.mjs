#!/usr/bin/env node
// gen-lexicon.mjs - builds the constant tables of the sentiment scorer
// (src/core/sentiment.c) from its sources, pinned in lexicon/package-lock.json:
//   - npm vader-sentiment 1.1.3 (Apache-2.0): vader_lexicon.txt, ~7,500 words,
//     slang and emoticons rated -4 .. +4;
//   - npm emoji-emotion 3.0.1 (MIT): emoji rated -5 .. +5, scaled by 0.8;
//   - lexicon/cx.tsv: our customer-experience words and phrases;
//   - the word lists of VADER's algorithm (vaderSentiment 3.3.2), below.
// Usage: node scripts/gen-lexicon.mjs OUTDIR   (writes OUTDIR/lexicon.h and
// OUTDIR/lexicon.c; the Makefile runs it). Other scripts import the lists.
//
// Lookup: FNV-1a (32 bit) of the key's bytes; open addressing with linear
// probing in a power-of-two table at most half full. A slot holds the top 16
// bits of the hash (a tag that spares most key comparisons) and the term
// index. Keys are lower case: VADER looks words up lower-cased, so its 14
// keys with capitals (":D" beside ":d") can never match and are left out.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// --- VADER 3.3.2's constants and lists ---------------------------------------
export const B_INCR = 0.293;
export const B_DECR = -0.293;

export const NEGATE = [
  'aint', 'arent', 'cannot', 'cant', 'couldnt', 'darent', 'didnt', 'doesnt',
  "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
  'dont', 'hadnt', 'hasnt', 'havent', 'isnt', 'mightnt', 'mustnt', 'neither',
  "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
  'neednt', "needn't", 'never', 'none', 'nope', 'nor', 'not', 'nothing', 'nowhere',
  'oughtnt', 'shant', 'shouldnt', 'uhuh', 'wasnt', 'werent',
  "oughtn't", "shan't", "shouldn't", 'uh-uh', "wasn't", "weren't",
  'without', 'wont', 'wouldnt', "won't", "wouldn't", 'rarely', 'seldom', 'despite',
];

const INCR = [
  'absolutely', 'amazingly', 'awfully', 'completely', 'considerable', 'considerably',
  'decidedly', 'deeply', 'effing', 'enormous', 'enormously', 'entirely', 'especially',
  'exceptional', 'exceptionally', 'extreme', 'extremely', 'fabulously', 'flipping',
  'flippin', 'frackin', 'fracking', 'fricking', 'frickin', 'frigging', 'friggin', 'fully',
  'fuckin', 'fucking', 'fuggin', 'fugging', 'greatly', 'hella', 'highly', 'hugely',
  'incredible', 'incredibly', 'intensely', 'major', 'majorly', 'more', 'most',
  'particularly', 'purely', 'quite', 'really', 'remarkably', 'so', 'substantially',
  'thoroughly', 'total', 'totally', 'tremendous', 'tremendously', 'uber', 'unbelievably',
  'unusually', 'utter', 'utterly', 'very',
];
const DECR = [
  'almost', 'barely', 'hardly', 'just enough', 'kind of', 'kinda', 'kindof', 'kind-of',
  'less', 'little', 'marginal', 'marginally', 'occasional', 'occasionally', 'partly',
  'scarce', 'scarcely', 'slight', 'slightly', 'somewhat', 'sort of', 'sorta', 'sortof',
  'sort-of',
];
export const BOOSTERS = Object.fromEntries([
  ...INCR.map((w) => [w, B_INCR]),
  ...DECR.map((w) => [w, B_DECR]),
]);

// Idioms that contain lexicon words. VADER lets one replace the valence of
// its lexicon word, but checks them only from the fourth token on and
// never matches "to die for"; we score them as phrases wherever they are.
// "badass" is in VADER's list too but, one token, is no sequence.
export const SPECIAL_CASES = {
  'the shit': 3, 'the bomb': 3, 'bad ass': 1.5, 'bus stop': 0.0, 'yeah right': -2,
  'kiss of death': -1.5, 'to die for': 3, 'beating heart': 3.1, 'broken heart': -2.9,
};

// Words the rules name (enum lex_word, in this order from 1).
export const WORDS = [
  'but', 'kind', 'of', 'least', 'at', 'very', 'never', 'so', 'this', 'without',
  'doubt', 'no', 'or', 'nor', 'however', 'although', 'though',
];

// Ours: a negative pronoun VADER's list lacks beside "nothing", "none",
// "nowhere" ("nobody cares").
export const NEGATE_CX = ['nobody'];

export const NEG_ANY = '{neg}';
const PHRASE_MAX = 4;
const PINNED = { 'vader-sentiment': '1.1.3', 'emoji-emotion': '3.0.1' };

// --- sources -------------------------------------------------------------------
function pkgDir(root, name) {
  const dir = path.join(root, 'lexicon', 'node_modules', name);
  let version;
  try {
    version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    throw new Error(`${name} is not installed: run npm ci --prefix lexicon`);
  }
  if (version !== PINNED[name])
    throw new Error(`${name} ${version} installed, ${PINNED[name]} pinned: run npm ci --prefix lexicon`);
  return dir;
}

function parseTenths(s, where) {
  const v = Number(s);
  if (!Number.isFinite(v) || Math.abs(v) > 4 || Math.abs(Math.round(v * 10) - v * 10) > 1e-9)
    throw new Error(`${where}: valence '${s}' is not a number of tenths in -4 .. 4`);
  return Math.round(v * 10);
}

// Returns { words: Map(key -> tenths), phrases: [[key, tenths]], dropped }
// from vader_lexicon.txt: later lines win, as in VADER's dict.
function readVader(root) {
  const file = path.join(pkgDir(root, 'vader-sentiment'), 'vader_lexicon.txt');
  const words = new Map();
  const dropped = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const [key, val] = line.split('\t');
    if (key.toLowerCase() !== key) {
      dropped.push(key);
      continue;
    }
    words.set(key, parseTenths(val, `vader_lexicon.txt '${key}'`));
  }
  const phrases = [];
  for (const [k, v] of words) {
    if (/\s/.test(k)) {
      phrases.push([k, v]);
      words.delete(k);
    }
  }
  return { words, phrases, dropped };
}

async function readEmoji(root) {
  const file = path.join(pkgDir(root, 'emoji-emotion'), 'index.js');
  const { emojiEmotion } = await import(pathToFileURL(file).href);
  const out = new Map();
  for (const e of emojiEmotion) {
    const key = e.emoji.replace(/\uFE0F/g, '');
    if ([...key].length !== 1) throw new Error(`emoji-emotion: '${e.emoji}' is not one code point`);
    if (e.polarity !== 0) out.set(key, e.polarity * 8); // x 0.8, in tenths
  }
  return out;
}

function readCx(root) {
  const file = path.join(root, 'lexicon', 'cx.tsv');
  const out = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    const [key, val] = line.split('\t');
    if (key !== key.toLowerCase().trim() || /\s\s/.test(key))
      throw new Error(`cx.tsv:${i + 1}: '${key}' must be lower case, single-spaced`);
    out.push([key, parseTenths(val, `cx.tsv:${i + 1}`), i + 1]);
  });
  return out;
}

export async function loadSources(root = ROOT) {
  const vader = readVader(root);
  return { vader, emoji: await readEmoji(root), cx: readCx(root) };
}

// The lower-case words a phrase key is made of, as the tokenizer cuts them.
export function phraseWords(key) {
  return key.split(' ');
}

// --- the tables ----------------------------------------------------------------
const LF = { VAL: 1, UP: 2, DOWN: 4, NEG: 8, EMOJI: 32, CX: 64, EMOTICON: 128 };
// A lexicon key with more than letters, digits, apostrophes and hyphens:
// ":)", "<3", ":d" (and a few like "r&r").
export const isEmoticon = (key) => /[^a-z0-9'-]/.test(key);

function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function build(src) {
  const index = new Map();
  const terms = [null]; // 0: no term
  const term = (key) => {
    let i = index.get(key);
    if (i === undefined) {
      i = terms.length;
      index.set(key, i);
      terms.push({ key, flags: 0, word: 0, val10: 0, phrases: [] });
    }
    return terms[i];
  };
  const t = (key) => index.get(key);

  for (const [k, v] of src.vader.words)
    Object.assign(term(k), { flags: LF.VAL | (isEmoticon(k) ? LF.EMOTICON : 0), val10: v });
  for (const [k, v] of src.emoji) Object.assign(term(k), { flags: LF.VAL | LF.EMOJI, val10: v });
  const cxPhrases = [];
  for (const [k, v, line] of src.cx) {
    if (k.includes(' ')) {
      cxPhrases.push([k, v]);
      continue;
    }
    if (index.has(k) && term(k).flags & LF.VAL)
      throw new Error(`cx.tsv:${line}: '${k}' is already in the lexicon`);
    Object.assign(term(k), { flags: LF.VAL | LF.CX, val10: v });
  }
  for (const w of [...NEGATE, ...NEGATE_CX]) term(w).flags |= LF.NEG;
  const boost2 = [];
  for (const [w, v] of Object.entries(BOOSTERS)) {
    if (w.includes(' ')) {
      const [a, b] = w.split(' ');
      boost2.push({ w: [term(a), term(b)], val: v });
    } else {
      term(w).flags |= v > 0 ? LF.UP : LF.DOWN;
    }
  }
  WORDS.forEach((w, i) => (term(w).word = i + 1));
  // Phrases: VADER's special cases, ours, the lexicon's multi-word entries.
  // Grouped by their first word, longest first; {neg} phrases in a list of
  // their own.
  const phrases = [];
  const negPhrases = [];
  const seen = new Set();
  const specials = Object.entries(SPECIAL_CASES).map(([k, v]) => [k, Math.round(v * 10)]);
  for (const [k, v] of [...specials, ...cxPhrases, ...src.vader.phrases]) {
    if (seen.has(k)) throw new Error(`phrase '${k}' twice`);
    seen.add(k);
    const ws = phraseWords(k);
    if (ws.length > PHRASE_MAX) throw new Error(`phrase '${k}': over ${PHRASE_MAX} words`);
    if (ws.slice(1).includes(NEG_ANY)) throw new Error(`phrase '${k}': ${NEG_ANY} only first`);
    const p = { key: k, val10: v, w: ws.map((w) => (w === NEG_ANY ? null : term(w))) };
    if (ws[0] === NEG_ANY) negPhrases.push(p);
    else p.w[0].phrases.push(p);
  }
  const byLength = (a, b) => b.w.length - a.w.length || (a.key < b.key ? -1 : 1);
  for (const x of terms.slice(1)) {
    x.phrases.sort(byLength);
    x.phraseFirst = phrases.length;
    phrases.push(...x.phrases);
  }
  negPhrases.sort(byLength);
  const negFirst = phrases.length;
  phrases.push(...negPhrases);

  if (terms.length >= 0xffff) throw new Error('too many terms for 16-bit indices');
  let bits = 1;
  while (1 << bits < 2 * terms.length) bits++;
  const slots = new Uint32Array(1 << bits);
  let keyMax = 0;
  let keyOff = 0;
  const enc = new TextEncoder();
  for (let i = 1; i < terms.length; i++) {
    const x = terms[i];
    x.bytes = enc.encode(x.key);
    if (x.bytes.length > 255) throw new Error(`key '${x.key}' too long`);
    x.off = keyOff;
    keyOff += x.bytes.length;
    keyMax = Math.max(keyMax, x.bytes.length);
    const h = fnv1a(x.bytes);
    let s = h & (slots.length - 1);
    while (slots[s]) s = (s + 1) & (slots.length - 1);
    slots[s] = ((h >>> 16) << 16 | i) >>> 0;
  }
  const idx = (x) => index.get(x.key);
  return {
    terms, slots, bits, keyMax, keyOff, phrases, negFirst, negCount: negPhrases.length,
    boost2, idx, t,
  };
}

// --- C output ------------------------------------------------------------------
function cString(bytes) {
  // Octal escapes for all but letters and digits: no trigraphs, no greedy
  // hex escapes.
  let out = '';
  let line = '"';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    line += /[A-Za-z0-9 ]/.test(c) ? c : '\\' + b.toString(8).padStart(3, '0');
    if (line.length > 90) {
      out += line + '"\n    ';
      line = '"';
    }
  }
  return out + line + '"';
}

function emit(outdir, b, src) {
  const L = [];
  const word = (x) => (x ? b.idx(x) : 0xffff);
  L.push('/* lexicon.c - generated by scripts/gen-lexicon.mjs from lexicon/: do not edit.');
  L.push(' * VADER lexicon: vader-sentiment 1.1.3, (c) C.J. Hutto, Comcast Cable');
  L.push(' * Communications, Apache License 2.0. Emoji: emoji-emotion 3.0.1,');
  L.push(' * (c) Titus Wormer, MIT License. */');
  L.push('#include "lexicon.h"', '');
  L.push(`const uint32_t lex_slots[LEX_SLOTS] = {`);
  for (let i = 0; i < b.slots.length; i += 8)
    L.push('    ' + Array.from(b.slots.slice(i, i + 8), (s) => `0x${s.toString(16)}u,`).join(' '));
  L.push('};', '');
  L.push(`const struct lex_term lex_terms[LEX_NTERMS] = {`);
  L.push('    {0, 0, 0, 0, 0, 0, 0},');
  for (let i = 1; i < b.terms.length; i++) {
    const x = b.terms[i];
    L.push(`    {${x.off}, ${x.bytes.length}, ${x.word}, ${x.flags}, ${x.phrases.length}, ` +
           `${x.val10}, ${x.phrases.length ? x.phraseFirst : 0}},`);
  }
  L.push('};', '');
  L.push(`const char lex_keys[${b.keyOff + 1}] =`);
  const all = new Uint8Array(b.keyOff);
  for (let i = 1; i < b.terms.length; i++) all.set(b.terms[i].bytes, b.terms[i].off);
  L.push('    ' + cString(all) + ';', '');
  L.push(`const struct lex_phrase lex_phrases[LEX_NPHRASES] = {`);
  for (const p of b.phrases) {
    const w = [...p.w.map(word)];
    while (w.length < PHRASE_MAX) w.push(0);
    L.push(`    {{${w.join(', ')}}, ${p.w.length}, ${p.val10}},`);
  }
  L.push('};', '');
  L.push(`const struct lex_boost2 lex_boost2[LEX_NBOOST2] = {`);
  for (const p of b.boost2)
    L.push(`    {{${b.idx(p.w[0])}, ${b.idx(p.w[1])}}, ${Math.round(p.val * 1000)}},`);
  L.push('};');

  const H = [];
  H.push('/* lexicon.h - generated by scripts/gen-lexicon.mjs from lexicon/: do not edit.');
  H.push(' * The constant tables of src/core/sentiment.c; see the generator for the');
  H.push(' * layout and the sources. */');
  H.push('#ifndef CXM_GEN_LEXICON_H', '#define CXM_GEN_LEXICON_H', '', '#include <stdint.h>', '');
  H.push(`/* ${src.vader.words.size} VADER words and emoticons, ${src.emoji.size} emoji, ` +
         `${src.cx.length} lines of lexicon/cx.tsv; ${src.vader.dropped.length} VADER keys with capitals left out. */`);
  H.push(`#define LEX_SLOTS ${b.slots.length}u          /* power of two, at most half full */`);
  H.push(`#define LEX_NTERMS ${b.terms.length}`);
  H.push(`#define LEX_KEY_MAX ${b.keyMax}           /* longest key, bytes */`);
  H.push(`#define LEX_PHRASE_MAX ${PHRASE_MAX}          /* words in a phrase */`);
  H.push(`#define LEX_NPHRASES ${b.phrases.length}`);
  H.push(`#define LEX_NEG_PHRASE_FIRST ${b.negFirst}   /* phrases that start with {neg} */`);
  H.push(`#define LEX_NEG_PHRASE_COUNT ${b.negCount}`);
  H.push(`#define LEX_NBOOST2 ${b.boost2.length}`);
  H.push('#define LEX_NEG_ANY 0xFFFFu        /* phrase word: any negation */');
  H.push('#define LEX_FNV_OFFSET 0x811c9dc5u /* FNV-1a, 32 bit */');
  H.push('#define LEX_FNV_PRIME 0x01000193u', '');
  H.push('enum lex_word {', '    LW_NONE,');
  for (const w of WORDS) H.push(`    LW_${w.toUpperCase()},`);
  H.push('};', '');
  H.push('enum lex_flag {');
  H.push('    LF_VAL = 1,     /* has a valence (lexicon, emoji, cx.tsv) */');
  H.push('    LF_UP = 2,      /* booster: +B_INCR */');
  H.push('    LF_DOWN = 4,    /* dampener: B_DECR */');
  H.push('    LF_NEG = 8,     /* in VADER\'s negation list */');
  H.push('    LF_EMOJI = 32,  /* an emoji (emoji-emotion) */');
  H.push('    LF_CX = 64,     /* a word of lexicon/cx.tsv */');
  H.push('    LF_EMOTICON = 128, /* a key with more than letters, digits, apostrophes, hyphens */');
  H.push('};', '');
  H.push('struct lex_term {');
  H.push('    uint32_t key;     /* offset of the key in lex_keys */');
  H.push('    uint8_t len;      /* key bytes */');
  H.push('    uint8_t word;     /* enum lex_word */');
  H.push('    uint8_t flags;    /* enum lex_flag */');
  H.push('    uint8_t nphrase;  /* phrases that start with this word */');
  H.push('    int16_t val10;    /* valence x 10 */');
  H.push('    uint16_t phrase;  /* the first of them in lex_phrases */');
  H.push('};', '');
  H.push('struct lex_phrase {');
  H.push('    uint16_t w[LEX_PHRASE_MAX]; /* term indices, or LEX_NEG_ANY */');
  H.push('    uint8_t n;');
  H.push('    int16_t val10;');
  H.push('};', '');
  H.push('struct lex_boost2 {           /* two-word boosters ("kind of") */');
  H.push('    uint16_t w[2];');
  H.push('    int16_t val1000;');
  H.push('};', '');
  H.push('/* slot: hash >> 16 in the high half, term index in the low half; 0 = empty */');
  H.push('extern const uint32_t lex_slots[LEX_SLOTS];');
  H.push('extern const struct lex_term lex_terms[LEX_NTERMS];');
  H.push(`extern const char lex_keys[${b.keyOff + 1}];`);
  H.push('extern const struct lex_phrase lex_phrases[LEX_NPHRASES];');
  H.push('extern const struct lex_boost2 lex_boost2[LEX_NBOOST2];', '');
  H.push('#endif');

  fs.mkdirSync(outdir, { recursive: true });
  for (const [name, text] of [['lexicon.h', H], ['lexicon.c', L]]) {
    const tmp = path.join(outdir, `.${name}.tmp`);
    fs.writeFileSync(tmp, text.join('\n') + '\n');
    fs.renameSync(tmp, path.join(outdir, name));
  }
}

async function main() {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error('usage: node scripts/gen-lexicon.mjs OUTDIR');
    process.exit(2);
  }
  const src = await loadSources();
  const b = build(src);
  emit(outdir, b, src);
  console.log(`gen-lexicon: ${b.terms.length - 1} terms, ${b.phrases.length} phrases, ` +
              `${b.slots.length} slots -> ${outdir}/lexicon.{c,h}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(`gen-lexicon: ${e.message}`);
    process.exit(1);
  });
}
