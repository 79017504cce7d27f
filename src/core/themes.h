/* themes.h - text analytics over free-text comments, sentiment excluded:
 * a theme taxonomy matched on folded, Snowball-stemmed words; aspect
 * sentiment (one score per theme per comment, from the clauses that
 * mention it); emerging phrases against a baseline (Dunning G2); and the
 * arithmetic of pain points. No I/O, no clock, no locking.
 *
 * Text is UTF-8 (invalid bytes are taken as spaces, never a crash) and
 * goes through one pipeline everywhere, terms included:
 *   words   runs of letters, digits and marks (Unicode categories L, N, M);
 *           an apostrophe (' or U+2019) between two letters stays in the
 *           word ("don't"); default-ignorable characters (soft hyphen,
 *           zero-width joiners) are dropped inside a word; anything else
 *           separates words ("e-mail" is "e" "mail").
 *   folding NFKC, case folding and accents stripped (utf8proc:
 *           COMPAT | CASEFOLD | STRIPMARK | IGNORE, then recomposed), so
 *           "CAFÉ", "Café" and "cafe" are one word.
 *   stems   the English Snowball stemmer (libstemmer "english", Porter2):
 *           "delivered" -> "deliv", "deliveries" -> "deliveri".
 *   limits  a word over 63 bytes once folded is "too long": it matches
 *           nothing and breaks phrases.
 *   breaks  hard: . ! ? ; line ends and the ellipsis ("." inside "3.50" or
 *           "amazon.co.uk" is not one); soft: , : ( ) [ ] dashes (en, em,
 *           and " - " with spaces) ("," inside "1,000" is not one);
 *           contrast words: but, although, however, though, whereas, and
 *           "yet" first in a clause or after a comma.
 *
 * Threads: a compiled taxonomy is immutable and may be shared by any
 * number of threads. The Snowball stemmer is not thread-safe, so each
 * thread that matches or tokenises text lazily creates its own stemmer
 * and a 2048-word stem cache (about 150 KiB), held in thread-local storage
 * and freed by a pthread key destructor when the thread exits.
 * themes_thread_release() frees it earlier (e.g. in the main thread before
 * exit, where destructors do not run; the memory stays reachable there, so
 * LeakSanitizer does not report it either way; valgrind calls libstemmer's
 * buffer "possibly lost" unless it is released). Should the stemmer or the
 * cache fail to allocate, themes_match, themes_aspects and text_tokens use
 * words unstemmed (folded only): matching degrades, nothing fails;
 * taxonomy_parse and phrases_add return CXM_ENOMEM. */
#ifndef CXM_THEMES_H
#define CXM_THEMES_H

#include "common.h"
#include "core/metrics.h"

#define THEMES_MAX 32            /* a comment's themes fit in a uint32_t */
#define THEMES_ID_MAX 32         /* bytes of a theme id, NUL excluded */
#define THEMES_NAME_MAX 100      /* bytes of a theme name, NUL excluded */
#define THEMES_TERM_WORDS 4      /* words in one term, at most */
#define THEMES_TERMS_MAX 20000   /* terms in a taxonomy, at most */
#define THEMES_JSON_MAX (1u << 20)   /* bytes of taxonomy JSON, at most */
#define THEMES_TOKEN_LEN 32      /* text_tokens: a token with its NUL */

/* ---- taxonomy ------------------------------------------------------------ */

struct taxonomy;

/* Compiles a taxonomy from JSON:
 *   {"themes": [{"id": "delivery", "name": "Delivery & shipping",
 *                "terms": ["delivery", "deliver", "courier", "late parcel",
 *                          "=friendly"]}, ...]}
 * 1 to THEMES_MAX themes; theme i is bit i of themes_match. id: 1 to 32 of
 * [a-z0-9_-], unique. name: optional (defaults to the id), at most 100
 * bytes. terms: a non-empty array of strings, each 1 to THEMES_TERM_WORDS
 * words once split as above. A term matches when its words occur
 * consecutively in the text with no break in between. A term's words
 * are compared by stem, or, when the term starts with "=", by the folded
 * word itself ("=friendly" matches "Friendly" but not "friend", which has
 * the same stem). Other keys (top level or in a theme) are ignored, to
 * leave room for descriptions and colours. The same term in two themes
 * sets both bits. When a term of several words matches, the single-word
 * terms of the words it covers do not count: "user friendly" (website)
 * hides "friendly" (staff) in that place.
 * Errors: CXM_EINVAL for bad JSON (the message has line and column), a
 * missing or wrong field; CXM_ETOOBIG over a limit above; CXM_ENOMEM.
 * err names the theme index (-1 when the error is not in one theme) and
 * the field: "themes", "id", "name", "terms" or "terms[k]". */
int taxonomy_parse(const char *json, size_t len, struct taxonomy **out, struct cxm_err *err);
/* The built-in default taxonomy (eleven CX themes), as JSON: a static
 * string that taxonomy_parse always accepts. */
const char *taxonomy_default_json(void);
/* taxonomy_parse of the default. */
int taxonomy_default(struct taxonomy **out, struct cxm_err *err);
void taxonomy_free(struct taxonomy *t);                 /* accepts NULL */
size_t taxonomy_count(const struct taxonomy *t);
/* Id and name of theme i (i < count), valid while t lives. */
const char *taxonomy_id(const struct taxonomy *t, size_t i);
const char *taxonomy_name(const struct taxonomy *t, size_t i);
/* Index of the theme with this id, -1 when none. */
int taxonomy_find(const struct taxonomy *t, const char *id);
/* The taxonomy as compact JSON in the input's form (ids, names, terms as
 * written; ignored keys dropped), for showing and editing. Valid while t
 * lives. */
const char *taxonomy_json(const struct taxonomy *t);

/* ---- matching --------------------------------------------------------------- */

/* Themes of a text as a bitmask (bit i = theme i). Any length is handled
 * in constant stack space (about 1 KiB). No allocation in steady state:
 * the first call in a thread creates its stemmer and cache, and
 * libstemmer grows its own buffer when it first meets a longer word
 * (words are at most 63 bytes). text may be NULL when len is 0. */
uint32_t themes_match(const struct taxonomy *t, const char *text, size_t len);

/* Aspect sentiment. score(text, len, ctx) rates a stretch of the comment
 * (not NUL-terminated) on the scorer's scale, 0 meaning neutral; this
 * module does not know the scale. The comment is cut into clauses at hard
 * breaks and contrast words, and clauses into pieces at soft breaks. A
 * theme's sentiment is the mean, over the pieces that mention it, of the
 * piece's score, or, when a piece scores 0 (e.g. "the staff" in "the
 * staff, who were lovely, helped"), of its whole clause's score. So "fast
 * delivery but rude staff" scores delivery on "fast delivery" and staff on
 * "rude staff". A NaN or infinite score counts as 0; score NULL scores
 * everything 0. Writes one aspect per theme found, in theme order, at
 * most max; returns how many were written. The themes are exactly those
 * of themes_match. Allocation as themes_match; score is called at most
 * twice per piece. */
typedef float (*clause_scorer)(const char *text, size_t len, void *ctx);
struct aspect {
    uint8_t theme;
    float sentiment;
};
size_t themes_aspects(const struct taxonomy *t, const char *text, size_t len,
                      clause_scorer score, void *ctx, struct aspect *out, size_t max);

/* Folded, stemmed tokens of a text, for the caller's own statistics: at
 * most max, NUL-terminated. A break (hard, soft, or a word that is too
 * long or whose stem needs THEMES_TOKEN_LEN bytes or more) is written as
 * an empty token, never first, last or twice in a row, so n-grams that
 * hold an empty token are to be skipped. Contrast words are ordinary
 * tokens here. Returns the number written. */
size_t text_tokens(const char *text, size_t len, char (*tok)[THEMES_TOKEN_LEN], size_t max);

/* Frees the calling thread's stemmer and stem cache now; the next call
 * that needs them creates them again. */
void themes_thread_release(void);

/* ---- emerging phrases --------------------------------------------------------- */

/* Dunning's log-likelihood ratio G2 of the 2x2 table
 *               phrase   not phrase
 *   period         a        N - a
 *   baseline       b        M - b
 * G2 = 2 sum O ln(O / E) over the four cells (a cell with O = 0 adds 0),
 * E = row total * column total / (N + M). Signed: negative when the
 * period's rate a/N is below the baseline's b/M. Counts may be of tokens
 * or of comments. 0 when N or M is not positive, a or b is negative or
 * over its total, or an argument is not finite. Under the null hypothesis
 * G2 is chi-squared with one degree of freedom: 3.84 is p < 0.05, 6.63
 * p < 0.01, 10.83 p < 0.001. */
double emerging_g2(double a, double N, double b, double M);

#define EMERGING_G2_MIN 10.83    /* p < 0.001 */
#define EMERGING_COUNT_MIN 5
#define EMERGING_EXAMPLES 3
#define EMERGING_PHRASES_DEFAULT 250000

/* A phrase counter over two periods: the current period and the baseline
 * before it. Phrases are 1 to 3 consecutive words (no break in between)
 * whose first and last words are not English stop words, numbers or
 * single characters ("waste of money" is a phrase, "of money" is not).
 * They are counted by stem ("late deliveries" and "late delivery" are one
 * phrase) and shown in the folded form first seen. Counts are of comments
 * (a phrase counts once per comment), so the G2 test compares the share
 * of comments that use a phrase.
 * Feed the current period first, then the baseline: baseline comments only
 * count phrases the current period has, since a phrase the current period
 * lacks cannot be rising; that keeps memory to the current period's
 * phrases (about 100 bytes each plus their text). Not thread-safe. */
struct phrases;

enum phrases_period { PHRASES_CURRENT, PHRASES_BASELINE };

/* max_phrases caps distinct phrases (0: EMERGING_PHRASES_DEFAULT); phrases
 * past the cap are not counted (see phrases_dropped). NULL on OOM. */
struct phrases *phrases_new(size_t max_phrases);
void phrases_free(struct phrases *p);                   /* accepts NULL */
/* Counts the phrases of one comment. comment_id is kept as an example for
 * up to EMERGING_EXAMPLES phrases of the current period (the first ones
 * fed). CXM_ECONFLICT for a current-period comment after a baseline one;
 * CXM_ENOMEM (the counts of this comment may be partly added). */
int phrases_add(struct phrases *p, enum phrases_period period, const char *text, size_t len,
                uint64_t comment_id);
/* Comments fed for a period. */
uint64_t phrases_comments(const struct phrases *p, enum phrases_period period);
size_t phrases_count(const struct phrases *p);           /* distinct phrases */
uint64_t phrases_dropped(const struct phrases *p);       /* not counted: cap */

struct emerging_opts {
    double min_g2;          /* at least this G2 (0: EMERGING_G2_MIN) */
    uint32_t min_count;     /* in at least this many current comments (0: 5) */
};
struct emerging {
    const char *phrase;     /* folded words as first seen; valid while p lives */
    const char *key;        /* stems separated by one space */
    uint32_t count, base_count;   /* comments that use it */
    double rate, base_rate;       /* count / comments of the period */
    double g2;
    uint64_t examples[EMERGING_EXAMPLES];
    uint8_t n_examples;
};
/* The rising phrases, G2 descending (ties: count descending, key
 * ascending): G2 >= min_g2, rate > base_rate, count >= min_count. A
 * phrase is left out when a longer listed phrase that holds it accounts
 * for at least 3/4 of its comments ("tracking" under "tracking link").
 * Writes at most k to out and their number to *n. opts NULL: defaults.
 * CXM_OK or CXM_ENOMEM. */
int phrases_top(const struct phrases *p, const struct emerging_opts *opts, struct emerging *out,
                size_t k, size_t *n);

/* ---- pain points ------------------------------------------------------------ */

/* One theme in one group (touchpoint, channel, period...): fed with the
 * theme's aspect sentiment of each comment that mentions it. Starts
 * zeroed. A mention is negative below PAIN_NEGATIVE. */
#define PAIN_NEGATIVE (-0.05)
struct pain_acc {
    uint64_t mentions, negative;
    double neg_mass;        /* sum of max(0, -sentiment) */
    double sent_sum;
};
void pain_add(struct pain_acc *a, double sentiment);       /* NaN counts as 0 */
void pain_merge(struct pain_acc *into, const struct pain_acc *a);
/* Pain = volume x negativity = mentions x mean(max(0, -sentiment)) = the
 * negative mass: praise does not cancel complaints, and a theme that is
 * mentioned a lot but neutrally scores 0. */
double pain_score(const struct pain_acc *a);
/* Orders the n (<= THEMES_MAX) themes of acc by pain, highest first (ties:
 * more negative mentions, then lower index) into order; returns how many
 * have pain > 0 (they come first). */
size_t pain_rank(const struct pain_acc *acc, size_t n, uint8_t *order);
/* Trend of a theme in a group from the previous period to this one: the
 * change in the percentage of the group's comments that are negative
 * about it, with its 95% significance (metrics.h pct_change). comments_*
 * count all of the group's comments in each period. */
struct metric_change pain_trend(const struct pain_acc *prev, uint64_t comments_prev,
                                const struct pain_acc *cur, uint64_t comments_cur);

#endif
