/* textmodel.h - sentiment learnt from a company's own feedback: comments
 * that come with a score (NPS, CSAT) are weak supervision for a linear
 * text model, which is blended with the lexicon scorer (sentiment.h) only
 * where it measurably helps on data held back from training. No I/O, no
 * clock. A trained or loaded model is immutable: any number of threads may
 * use it at once.
 *
 * Labels (the caller's mapping from scores): NPS 9-10 and CSAT 4-5 are +1,
 * NPS 7-8 and CSAT 3 are 0, NPS 0-6 and CSAT 1-2 are -1.
 *
 * Features. The text goes through text_tokens() (themes.h: folded,
 * Snowball-stemmed words with break markers), at most TM_TOKENS tokens
 * (the rest of a longer text is ignored, in training and prediction
 * alike). Features are the stems (unigrams) and pairs of consecutive stems
 * (bigrams) that have no break between them. Negation: after a negation
 * word (not, no, never, nor, neither, none, nobody, nothing, nowhere,
 * cannot, without, any word ending in n't, and the apostrophe-less forms
 * dont, didnt, isnt, cant, wont...) every token up to the next break or
 * contrast word (but, however, although, though, whereas) is marked
 * negated, as if prefixed with "NOT_", and so is a bigram whose second
 * word is marked: "not fast" gives not, NOT_fast and NOT_(not fast), so
 * "fast" alone and "not fast" do not share a feature. Each feature is
 * hashed (64-bit FNV-1a of the stem, mixed) to one of 2^hash_bits buckets
 * with a sign (+1 or -1, from another bit of the hash), so colliding
 * features tend to cancel rather than add up. A comment's features are
 * present-or-absent (repeats count once) and scaled by 1/sqrt(count), so
 * long and short comments weigh alike.
 *
 * Model. Multinomial (3-class) logistic regression on those features plus
 * a bias, L2-regularised, trained by AdaGrad for a few epochs over the
 * examples in a shuffled order drawn from a fixed seed: the same examples
 * and options give the same model, byte for byte. The model's score is
 * P(positive) - P(negative) in [-1, 1], the expected label, and the
 * blended compound is (1 - w) * lexicon + w * score.
 *
 * Training and evaluation (textmodel_train):
 * 1. Examples are split by a hash of their text (copies of one text fall
 *    on the same side) into a training part (80%) and a held-back test
 *    part (20%), and the training part again into a fitting part (80% of
 *    it) and a validation part.
 * 2. A model is fitted on the fitting part; the weight w is the value of
 *    the grid 0, 0.05, ..., 1 that gives the blend the best macro-F1 on the
 *    validation part (ties: the smaller w). The test part is never used to
 *    choose anything.
 * 3. The model is fitted again on the whole training part and the test
 *    part is scored three ways: lexicon alone, model alone, blend with w.
 *    A compound counts as positive at >= 0.05, negative at <= -0.05 and
 *    neutral between (sentiment_label's thresholds), as in the reports.
 * 4. The blend is used only when w > 0, its macro-F1 on the test part
 *    beats the lexicon's by at least min_gain, and it is right more often
 *    than the lexicon by McNemar's test (one-sided, continuity-corrected,
 *    z >= min_z): the lexicon alone stays the default otherwise, and
 *    whenever there are fewer than min_examples usable examples or fewer
 *    than min_per_class of a class. An unused model blends to the lexicon
 *    exactly and holds no weights.
 * Macro-F1 is the mean of the per-class F1 = 2 TP / (2 TP + FP + FN) over
 * the classes that occur in the labels or the predictions of the part. */
#ifndef CXM_TEXTMODEL_H
#define CXM_TEXTMODEL_H

#include "common.h"

#define TM_TOKENS 512               /* tokens of a text that count */
#define TM_MIN_EXAMPLES 200         /* defaults of struct tm_opts */
#define TM_MIN_PER_CLASS 30
#define TM_MIN_GAIN 0.01
#define TM_MIN_Z 1.645              /* one-sided p < 0.05 */
#define TM_HASH_BITS 18
#define TM_HASH_BITS_MIN 10
#define TM_HASH_BITS_MAX 24
#define TM_EPOCHS 5
#define TM_EPOCHS_MAX 50
#define TM_MAX_EXAMPLES 50000000u   /* textmodel_train: CXM_ETOOBIG over it */

/* One training example. label: -1, 0 or +1; any other value is skipped
 * (counted in tm_report.n_skipped). lexicon: the lexicon's compound for
 * the text (sentiment_score), a NaN counts as 0. text may be NULL when len
 * is 0. */
struct tm_example {
    const char *text;
    size_t len;
    int8_t label;
    float lexicon;
};

/* Options; zero (or a NULL pointer) means the default for every field. */
struct tm_opts {
    uint32_t min_examples;      /* usable examples needed (200) */
    uint32_t min_per_class;     /* of each label (30) */
    double min_gain;            /* macro-F1 gain over the lexicon (0.01) */
    double min_z;               /* McNemar z (1.645) */
    unsigned hash_bits;         /* 2^bits feature buckets (18), 10 to 24 */
    unsigned epochs;            /* passes over the data (5), at most 50 */
    double learning_rate;       /* AdaGrad step (0.2) */
    double l2;                  /* L2 penalty per update (1e-6) */
    uint64_t seed;              /* split and shuffle (0: a fixed seed) */
};

/* What training found. The accuracies (share of the labels predicted
 * right) and macro-F1s are on the held-back test part; all 0 when no
 * model was fitted (too little data). */
struct tm_report {
    size_t n_examples;          /* usable: label -1, 0 or +1 */
    size_t n_skipped;           /* other labels */
    size_t per_class[3];        /* usable examples labelled -1, 0, +1 */
    size_t n_fit, n_valid;      /* the training part: fitting + validation */
    size_t n_train, n_test;     /* n_train = n_fit + n_valid */
    size_t features;            /* non-zero buckets of the final model */
    double acc_lexicon, acc_model, acc_blend;
    double f1_lexicon, f1_model, f1_blend;
    double weight;              /* w chosen on validation (even when not used) */
    double z;                   /* McNemar z of blend against lexicon */
    bool used;                  /* the blend replaces the lexicon */
    char reason[160];           /* why (or why not), one sentence */
};

struct textmodel;

/* Trains on ex[0..n-1] (see above) and sets *out to the model, used or not:
 * an unused model (too little data, no measurable gain) blends to the
 * lexicon exactly. rep (may be NULL) receives the report. The texts are
 * only read during the call. Memory: about 150 bytes per example (its
 * cached features, for a comment of ~100 bytes) plus 44 bytes per bucket
 * (11 MiB at 18 bits).
 * Returns CXM_OK, CXM_EINVAL (out NULL, ex NULL with n > 0, an option out
 * of range), CXM_ETOOBIG (n over TM_MAX_EXAMPLES) or CXM_ENOMEM; *out is
 * NULL on error. */
int textmodel_train(const struct tm_example *ex, size_t n, const struct tm_opts *o,
                    struct textmodel **out, struct tm_report *rep);

/* The blended compound (1 - w) * lexicon + w * score, in [-1, 1]. Returns
 * lexicon itself, unchanged, when m is NULL or unused (a NaN lexicon then
 * stays NaN; sentiment.h never gives one); otherwise a NaN lexicon counts
 * as 0 and one outside [-1, 1] is clamped. No allocation; about 30 KiB of
 * stack (the tokens and features of one text). */
float textmodel_blend(const struct textmodel *m, const char *text, size_t len, float lexicon);
/* The model's own score P(positive) - P(negative) in [-1, 1]; 0 when m is
 * NULL or unused. */
float textmodel_score(const struct textmodel *m, const char *text, size_t len);

/* What a model (trained or loaded) keeps of its report. */
struct tm_info {
    bool used;
    double weight;              /* 0 when not used */
    unsigned hash_bits;
    size_t features;            /* non-zero buckets */
    uint64_t n_train, n_test;
    double acc_lexicon, acc_model, acc_blend;
    double f1_lexicon, f1_model, f1_blend;
};
void textmodel_info(const struct textmodel *m, struct tm_info *info);

/* Serialises m into a new buffer (*buf, *len; free() it): a versioned,
 * little-endian byte format ending in a CRC-32, holding the non-zero
 * buckets only (16 bytes each; about 100 bytes for an unused model). The
 * same model gives the same bytes. CXM_OK, CXM_EINVAL or CXM_ENOMEM. */
int textmodel_save(const struct textmodel *m, uint8_t **buf, size_t *len);
/* Loads what textmodel_save wrote, checking everything (magic, version,
 * sizes, checksum, ranges, finite numbers) before use. A used model
 * takes 12 bytes per bucket in memory (3 MiB at 18 bits). CXM_OK,
 * CXM_EINVAL (err says what is wrong) or CXM_ENOMEM; *out is NULL on
 * error. */
int textmodel_load(const uint8_t *buf, size_t len, struct textmodel **out, struct cxm_err *err);
void textmodel_free(struct textmodel *m);               /* accepts NULL */

#endif
