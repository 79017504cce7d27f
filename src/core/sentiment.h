/* sentiment.h - the sentiment of a piece of English text (a survey answer,
 * a review, a chat message): a compound score in [-1, 1] and a label.
 *
 * The algorithm is VADER (Hutto & Gilbert, ICWSM 2014) as in the Python
 * reference vaderSentiment 3.3.2: the valences (-4 .. +4) of the words in
 * the lexicon, changed by negation (x -0.74, up to three tokens back: "not",
 * "never", "without", any word with n't, "least", and "no" before a lexicon
 * word), boosters and dampeners ("very" +0.293, "slightly" -0.293; x0.95
 * two tokens back, x0.9 three back; "kind of"), ALL CAPS among lower case
 * (+0.733), "never so good" (x1.25) and "but" (words before it weigh 0.5,
 * after it 1.5); their sum x plus 0.292 per '!' (at most 4) and 0.18 per
 * '?' (from 2; 0.96 from 4) away from zero, normalised: x / sqrt(x^2 + 15).
 *
 * Where we differ from vaderSentiment 3.3.2, on purpose:
 * - the lexicon also holds emoji (npm emoji-emotion, polarity x 0.8) where
 *   VADER spells emoji out in words, customer-experience words VADER lacks
 *   ("slow", "unhelpful", "overpriced") and phrases ("waste of money",
 *   "never again", "no issues", "doesn't work", "on hold for"), VADER's own
 *   multi-word entries ("fed up") and the idioms it lists but never scores
 *   ("cut the mustard"): lexicon/cx.tsv. A phrase scores as one word at its
 *   first token. VADER's special-case idioms ("the bomb", "yeah right",
 *   "to die for") are phrases too, matched anywhere (VADER checks them from
 *   the fourth token on only, and can never match "to die for");
 * - a negation does not reach past clause punctuation (, ; : . ! ?): "not
 *   good, terrible" leaves "terrible" negative (VADER negates it); it never
 *   flips an emoticon or emoji ("NOT good :(" is negative twice over);
 *   "nobody" negates like "nothing" and "none";
 * - without a "but", "however" works as "but", and an "although" or
 *   "though" clause (up to , ; : . ! ?) weighs 0.5 and the rest 1.5 (a
 *   "though" that ends its clause makes that clause the one that counts:
 *   "great food, terrible service though");
 * - tokens: emoji are tokens of their own even when glued to a word; a
 *   token keeps its punctuation only when it is in the lexicon as written
 *   (":)", ":-(", "<3"), so "ok." is "ok" (VADER keeps tokens of two
 *   characters or fewer as written); curly apostrophes count as straight
 *   ones ("isn’t"); case is ASCII only;
 * - "but" weighs words by position (3.3.2 finds a word's position by its
 *   value, which misweighs repeated valences).
 * The JavaScript port (npm vader-sentiment 1.1.3) differs from 3.3.2 more:
 * bench/text/vader_ref.mjs lists how, tests/data/sentiment_vader_ref.tsv
 * holds the texts where all three agree by design and the unit tests check
 * that they do.
 *
 * Pure and thread-safe: no allocation, no I/O, no state but constant
 * tables; about 35 KiB of stack. Tokens are scored in windows of
 * SENT_WINDOW: a text of up to SENT_WINDOW tokens is scored exactly as
 * above; a longer one window by window, each seeing four tokens of the one
 * before and eight of the one after, with "but" and the ALL CAPS test
 * applying within a window (the sums and the punctuation count over the
 * whole text). */
#ifndef CXM_SENTIMENT_H
#define CXM_SENTIMENT_H

#include <stddef.h>
#include <stdint.h>

#define SENT_WINDOW 1024        /* tokens scored as one text */
#define SENT_EXPLAIN_MAX 64     /* contributions an explanation lists */
#define SENT_WORD_MAX 32        /* bytes of a contribution's word, with the NUL */

/* compound in [-1, 1]; pos + neu + neg = 1 (the shares of positive,
 * neutral and negative tokens, VADER's way), all 0 for a text with no
 * tokens. Never NaN. */
struct sentiment {
    float compound, pos, neu, neg;
};

/* What changed a contribution (bits of sent_term.rules). */
enum sent_rule {
    SENT_R_NEGATED = 1 << 0,   /* times -0.74: not, n't, never, no, least, ... */
    SENT_R_BOOSTED = 1 << 1,   /* a booster before it: "very" */
    SENT_R_DAMPENED = 1 << 2,  /* a dampener before it: "slightly", "kind of" */
    SENT_R_CAPS = 1 << 3,      /* ALL CAPS among lower case */
    SENT_R_BEFORE = 1 << 4,    /* before "but" / "however", or in an "although"
                                * clause: times 0.5 */
    SENT_R_AFTER = 1 << 5,     /* the other side of that: times 1.5 */
    SENT_R_NEVER_SO = 1 << 6,  /* "never so good", "so ... good": times 1.25 */
    SENT_R_PHRASE = 1 << 7,    /* a multi-word phrase or idiom */
    SENT_R_EMOJI = 1 << 8,     /* an emoji */
    SENT_R_PUNCT = 1 << 9,     /* the '!' and '?' emphasis (word "!?") */
};

/* One contribution to the sum that compound normalises. */
struct sent_term {
    char word[SENT_WORD_MAX];  /* the token, or the phrase's words joined by
                                * single spaces, as written; cut on a UTF-8
                                * boundary; NUL-terminated */
    float valence;             /* its share of the sum, after every rule */
    uint16_t rules;            /* enum sent_rule bits */
};

/* The first SENT_EXPLAIN_MAX non-zero contributions in text order, the
 * punctuation emphasis last (it takes the last place when the list is
 * full); more counts those left out. The valences plus the punctuation
 * term add up to x, and compound = x / sqrt(x^2 + 15). */
struct sent_explain {
    struct sent_term term[SENT_EXPLAIN_MAX];
    int n;
    int more;
};

/* Scores the len bytes of UTF-8 text at text (need not be NUL-terminated;
 * text may be NULL when len is 0). ex may be NULL. Never fails: bytes that
 * are not valid UTF-8 separate tokens like spaces. */
void sentiment_score(const char *text, size_t len, struct sentiment *out,
                     struct sent_explain *ex);

/* "positive" (compound >= 0.05), "negative" (<= -0.05) or "neutral":
 * VADER's thresholds. A NaN is "neutral". */
const char *sentiment_label(double compound);

/* The name of one enum sent_rule bit ("negated", "boosted", ...), or NULL. */
const char *sentiment_rule_name(unsigned rule);

#endif
