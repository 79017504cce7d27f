/* test_textmodel.c - the learnt text model: it must beat the lexicon on a
 * synthetic company whose vocabulary carries sentiment the lexicon does
 * not know, stay out of the way on random labels and on too little data,
 * be deterministic, survive a save/load round trip, refuse corrupt bytes
 * (thousands of random mutations), and report accuracy and macro-F1 that
 * agree with an independent computation. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sentiment.h"
#include "core/textmodel.h"
#include "core/themes.h"

/* CXM_TESTABLE in textmodel.c */
uint32_t textmodel_crc32(const uint8_t *p, size_t n);
int textmodel_part(const char *text, size_t len, uint64_t seed);
void textmodel_metrics(const int8_t *truth, const float *compound, size_t n, double *acc,
                       double *macro_f1);

static void fini(void)
{
    themes_thread_release();
}

TestSuite(textmodel, .fini = fini);

/* ---- helpers ------------------------------------------------------------ */

/* splitmix64: a seeded, repeatable stream. */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static size_t rng_below(struct rng *r, size_t n)
{
    return (size_t)(rng_next(r) % n);
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* A company whose own words carry sentiment the lexicon does not know. */
static const char *const co_neg[] = {
    "the parcel went to the depot twice", "escalated to tier 2",
    "the tracking link never updated",    "the driver left it at the wrong address",
    "my ticket was reopened again",       "it was sent back to the warehouse",
    "had to chase the courier three times", "still showing as in transit",
    "the order was split into four boxes", "they moved my delivery slot",
};
static const char *const co_pos[] = {
    "seamless checkout",             "arrived next day",
    "the courier texted a time slot", "reordered in one click",
    "click and collect was ready in an hour", "tracking was spot on",
    "the driver rang ahead",         "done on the first call",
};
static const char *const neutral[] = {
    "ordered a blue jumper", "bought it for my son",     "second order this year",
    "paid by card",          "used the app",             "collected it on saturday",
    "ordered the medium size", "it came in a box",       "my wife ordered it",
};
static const char *const gen_pos[] = {"great service", "love it", "excellent", "very happy",
                                      "brilliant staff"};
static const char *const gen_neg[] = {"terrible", "awful experience", "very disappointed",
                                      "really bad", "hate it"};
static const char *const joins[] = {". ", ", ", " and ", "! ", "; "};

struct corpus {
    struct tm_example *ex;
    char **text;
    size_t n;
};

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->text[i]);
    free(c->text);
    free(c->ex);
}

static const char *pick(struct rng *r, const char *const *a, size_t n)
{
    return a[rng_below(r, n)];
}

/* One clause for a true label. */
static const char *clause(struct rng *r, int label)
{
    double u = rng_unit(r);
    if (label > 0)
        return u < 0.5 ? pick(r, co_pos, COUNT(co_pos))
               : u < 0.8 ? pick(r, gen_pos, COUNT(gen_pos))
                         : pick(r, neutral, COUNT(neutral));
    if (label < 0)
        return u < 0.55 ? pick(r, co_neg, COUNT(co_neg))
               : u < 0.8 ? pick(r, gen_neg, COUNT(gen_neg))
                         : pick(r, neutral, COUNT(neutral));
    return pick(r, neutral, COUNT(neutral));
}

/* n comments: labels -1/0/+1 (30/25/45%), 1 to 3 clauses, 10% of labels
 * replaced at random; random_labels replaces them all. The lexicon's
 * compound is sentiment_score's. */
static void make_corpus(struct corpus *c, size_t n, uint64_t seed, bool random_labels)
{
    struct rng r = {seed};
    c->n = n;
    c->ex = calloc(n, sizeof *c->ex);
    c->text = calloc(n, sizeof *c->text);
    cr_assert(c->ex && c->text);
    for (size_t i = 0; i < n; i++) {
        double u = rng_unit(&r);
        int label = u < 0.30 ? -1 : u < 0.55 ? 0 : 1;
        char buf[512];
        size_t len = 0;
        int clauses = 1 + (int)rng_below(&r, 3);
        for (int k = 0; k < clauses; k++) {
            const char *s = clause(&r, label);
            const char *j = k ? pick(&r, joins, COUNT(joins)) : "";
            int w = snprintf(buf + len, sizeof buf - len, "%s%s", j, s);
            cr_assert(w > 0 && (size_t)w < sizeof buf - len);
            len += (size_t)w;
        }
        if (random_labels || rng_unit(&r) < 0.10)
            label = (int)rng_below(&r, 3) - 1;
        c->text[i] = malloc(len + 1);
        cr_assert(c->text[i]);
        memcpy(c->text[i], buf, len + 1);
        struct sentiment s;
        sentiment_score(buf, len, &s, NULL);
        c->ex[i] = (struct tm_example){c->text[i], len, (int8_t)label, s.compound};
    }
}

static int8_t class_of(float compound)
{
    return compound >= 0.05 ? 1 : compound <= -0.05 ? -1 : 0;
}

/* Independent accuracy and macro-F1 (mean per-class F1 over the classes
 * present in truth or prediction), from per-class counts. */
static void metrics_ref(const int8_t *truth, const int8_t *pred, size_t n, double *acc,
                        double *f1)
{
    size_t right = 0;
    double sum = 0;
    int classes = 0;
    for (size_t i = 0; i < n; i++)
        right += truth[i] == pred[i];
    for (int k = -1; k <= 1; k++) {
        double tp = 0, fp = 0, fn = 0;
        for (size_t i = 0; i < n; i++) {
            tp += truth[i] == k && pred[i] == k;
            fp += truth[i] != k && pred[i] == k;
            fn += truth[i] == k && pred[i] != k;
        }
        if (tp + fp + fn > 0) {
            double prec = tp + fp > 0 ? tp / (tp + fp) : 0;
            double rec = tp + fn > 0 ? tp / (tp + fn) : 0;
            sum += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
            classes++;
        }
    }
    *acc = n ? (double)right / (double)n : 0;
    *f1 = classes ? sum / classes : 0;
}

#define assert_near(got, want)                                                         \
    cr_assert(fabs((double)(got) - (double)(want)) < 1e-12, "%s = %.17g, want %.17g", #got, \
              (double)(got), (double)(want))

static bool same_float(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* ---- learning ------------------------------------------------------------- */

Test(textmodel, learns_company_vocabulary)
{
    struct corpus c;
    make_corpus(&c, 4000, 1, false);
    struct textmodel *m = NULL;
    struct tm_report r;
    cr_assert_eq(textmodel_train(c.ex, c.n, NULL, &m, &r), CXM_OK, "%s", r.reason);
    cr_assert(m);
    cr_log_info("company: lexicon acc %.3f F1 %.3f, model acc %.3f F1 %.3f, blend acc %.3f "
                "F1 %.3f, w %.2f, z %.1f: %s",
                r.acc_lexicon, r.f1_lexicon, r.acc_model, r.f1_model, r.acc_blend, r.f1_blend,
                r.weight, r.z, r.reason);
    cr_assert(r.used, "%s", r.reason);
    cr_assert_eq(r.n_examples, c.n);
    cr_assert_eq(r.n_skipped, 0);
    cr_assert_eq(r.n_train + r.n_test, c.n);
    cr_assert_eq(r.n_fit + r.n_valid, r.n_train);
    cr_assert(r.n_test > 600 && r.n_test < 1000, "n_test %zu", r.n_test);
    cr_assert(r.acc_blend >= r.acc_lexicon + 0.10, "acc %.3f -> %.3f", r.acc_lexicon,
              r.acc_blend);
    cr_assert(r.f1_blend >= r.f1_lexicon + 0.10);
    cr_assert(r.weight > 0 && r.weight <= 1);
    cr_assert(r.features > 0);
    cr_assert(strstr(r.reason, "raises macro-F1"), "%s", r.reason);

    /* The jargon is learnt: a comment the lexicon finds neutral is now
     * negative, and a known one stays on its side. */
    const char *jargon = "escalated to tier 2 and the parcel went to the depot twice";
    struct sentiment s;
    sentiment_score(jargon, strlen(jargon), &s, NULL);
    cr_assert(fabsf(s.compound) < 0.05f, "lexicon %g", s.compound);
    cr_assert(textmodel_blend(m, jargon, strlen(jargon), s.compound) <= -0.05f);
    cr_assert(textmodel_score(m, "seamless checkout", 17) > 0.3f);
    sentiment_score("terrible", 8, &s, NULL);
    cr_assert(textmodel_blend(m, "terrible", 8, s.compound) <= -0.05f);

    struct tm_info info;
    textmodel_info(m, &info);
    cr_assert(info.used);
    cr_assert_eq(info.weight, (float)r.weight);
    cr_assert_eq(info.n_test, r.n_test);
    cr_assert_eq(info.acc_blend, r.acc_blend);
    textmodel_free(m);
    corpus_free(&c);
}

/* The blend beats the lexicon only where the data says so: with labels
 * that are pure noise it is not used, and blend is the lexicon, exactly. */
Test(textmodel, random_labels_not_used)
{
    for (uint64_t seed = 11; seed <= 13; seed++) {
        struct corpus c;
        make_corpus(&c, 3000, seed, true);
        struct textmodel *m = NULL;
        struct tm_report r;
        cr_assert_eq(textmodel_train(c.ex, c.n, NULL, &m, &r), CXM_OK);
        cr_log_info("noise %d: lexicon F1 %.3f, blend F1 %.3f, w %.2f, z %.2f: %s", (int)seed,
                    r.f1_lexicon, r.f1_blend, r.weight, r.z, r.reason);
        cr_assert_not(r.used, "%s", r.reason);
        cr_assert(strstr(r.reason, "lexicon only"), "%s", r.reason);
        cr_assert(r.n_test > 0);
        for (size_t i = 0; i < c.n; i++) {
            float lex = c.ex[i].lexicon;
            cr_assert(same_float(textmodel_blend(m, c.ex[i].text, c.ex[i].len, lex), lex));
        }
        cr_assert(same_float(textmodel_score(m, "escalated to tier 2", 19), 0.0f));
        uint8_t *buf;
        size_t len;
        cr_assert_eq(textmodel_save(m, &buf, &len), CXM_OK);
        cr_assert(len <= 128, "unused model of %zu bytes", len);
        free(buf);
        textmodel_free(m);
        corpus_free(&c);
    }
}

Test(textmodel, too_little_data)
{
    struct corpus c;
    make_corpus(&c, 199, 5, false);
    struct textmodel *m = NULL;
    struct tm_report r;
    cr_assert_eq(textmodel_train(c.ex, c.n, NULL, &m, &r), CXM_OK);
    cr_assert(m);
    cr_assert_not(r.used);
    cr_assert(strstr(r.reason, "too little data: 199"), "%s", r.reason);
    cr_assert_eq(r.n_test, 0);
    cr_assert_eq(r.acc_blend, 0);
    cr_assert(same_float(textmodel_blend(m, "escalated to tier 2", 19, 0.25f), 0.25f));
    textmodel_free(m);

    /* Enough in all, too few of one class: keep 20 neutral ones. */
    corpus_free(&c);
    make_corpus(&c, 1500, 6, false);
    size_t k = 0, neu = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.ex[i].label != 0 || neu++ < 20)
            c.ex[k++] = c.ex[i];
    cr_assert_eq(textmodel_train(c.ex, k, NULL, &m, &r), CXM_OK);
    cr_assert_not(r.used);
    cr_assert(strstr(r.reason, "too few neutral examples: 20, at least 30"), "%s", r.reason);
    cr_assert_eq(r.per_class[1], 20);
    textmodel_free(m);

    /* Labels other than -1, 0, +1 are skipped, not trained on. */
    for (size_t i = 0; i < k; i++)
        if (i % 2)
            c.ex[i].label = 5;
    cr_assert_eq(textmodel_train(c.ex, k, NULL, &m, &r), CXM_OK);
    cr_assert_eq(r.n_skipped, k / 2);
    cr_assert_eq(r.n_examples, k - k / 2);
    textmodel_free(m);

    /* Nothing at all. */
    cr_assert_eq(textmodel_train(NULL, 0, NULL, &m, &r), CXM_OK);
    cr_assert_not(r.used);
    cr_assert(strstr(r.reason, "too little data: 0"), "%s", r.reason);
    textmodel_free(m);
    corpus_free(&c);
}

Test(textmodel, bad_arguments)
{
    struct textmodel *m = (struct textmodel *)&m;
    struct tm_report r;
    struct tm_example e = {"x", 1, 1, 0};
    cr_assert_eq(textmodel_train(NULL, 3, NULL, &m, &r), CXM_EINVAL);
    cr_assert_null(m);
    cr_assert_eq(textmodel_train(&e, 1, NULL, NULL, &r), CXM_EINVAL);
    struct tm_opts o = {.hash_bits = 9};
    cr_assert_eq(textmodel_train(&e, 1, &o, &m, &r), CXM_EINVAL);
    o = (struct tm_opts){.hash_bits = 25};
    cr_assert_eq(textmodel_train(&e, 1, &o, &m, &r), CXM_EINVAL);
    o = (struct tm_opts){.learning_rate = NAN};
    cr_assert_eq(textmodel_train(&e, 1, &o, &m, &r), CXM_EINVAL);
    o = (struct tm_opts){.l2 = -1};
    cr_assert_eq(textmodel_train(&e, 1, &o, &m, &r), CXM_EINVAL);
    o = (struct tm_opts){.epochs = TM_EPOCHS_MAX + 1};
    cr_assert_eq(textmodel_train(&e, 1, &o, &m, &r), CXM_EINVAL);
    cr_assert_eq(textmodel_train(&e, (size_t)TM_MAX_EXAMPLES + 1, NULL, &m, &r), CXM_ETOOBIG);
    cr_assert_null(m);
    /* NULL model: the lexicon, the score 0. */
    cr_assert(same_float(textmodel_blend(NULL, "x", 1, -0.5f), -0.5f));
    cr_assert_eq(textmodel_score(NULL, "x", 1), 0.0f);
    textmodel_free(NULL);
}

/* ---- determinism and the byte format ----------------------------------------- */

static uint8_t *trained_bytes(const struct corpus *c, const struct tm_opts *o, size_t *len,
                              struct textmodel **keep)
{
    struct textmodel *m;
    struct tm_report r;
    cr_assert_eq(textmodel_train(c->ex, c->n, o, &m, &r), CXM_OK);
    cr_assert(r.used, "%s", r.reason);
    uint8_t *buf;
    cr_assert_eq(textmodel_save(m, &buf, len), CXM_OK);
    if (keep)
        *keep = m;
    else
        textmodel_free(m);
    return buf;
}

Test(textmodel, deterministic)
{
    struct corpus c;
    make_corpus(&c, 2000, 2, false);
    struct tm_opts o = {.hash_bits = 14};
    size_t l1, l2, l3;
    uint8_t *b1 = trained_bytes(&c, &o, &l1, NULL);
    uint8_t *b2 = trained_bytes(&c, &o, &l2, NULL);
    cr_assert_eq(l1, l2);
    cr_assert(memcmp(b1, b2, l1) == 0, "same input, different model bytes");
    o.seed = 99;                      /* another seed: another split and order */
    uint8_t *b3 = trained_bytes(&c, &o, &l3, NULL);
    cr_assert(l3 != l1 || memcmp(b1, b3, l1) != 0);
    free(b1);
    free(b2);
    free(b3);
    corpus_free(&c);
}

Test(textmodel, save_load_round_trip)
{
    struct corpus c;
    make_corpus(&c, 2000, 3, false);
    struct textmodel *m, *m2;
    size_t len;
    uint8_t *buf = trained_bytes(&c, NULL, &len, &m);
    struct cxm_err err;
    cr_assert_eq(textmodel_load(buf, len, &m2, &err), CXM_OK, "%s", err.msg);
    struct tm_info a, b;
    textmodel_info(m, &a);
    textmodel_info(m2, &b);
    cr_assert(memcmp(&a, &b, sizeof a) == 0);
    cr_assert_eq(b.features, (len - 100) / 16);
    cr_assert(b.features < ((size_t)1 << TM_HASH_BITS) / 4, "sparse: %zu", b.features);
    for (size_t i = 0; i < c.n; i++) {
        const struct tm_example *e = &c.ex[i];
        float x = textmodel_blend(m, e->text, e->len, e->lexicon);
        cr_assert(same_float(x, textmodel_blend(m2, e->text, e->len, e->lexicon)));
        cr_assert(x >= -1 && x <= 1);
        cr_assert(same_float(textmodel_score(m, e->text, e->len),
                             textmodel_score(m2, e->text, e->len)));
    }
    /* Saving the loaded model gives the same bytes. */
    uint8_t *buf2;
    size_t len2;
    cr_assert_eq(textmodel_save(m2, &buf2, &len2), CXM_OK);
    cr_assert_eq(len2, len);
    cr_assert(memcmp(buf, buf2, len) == 0);
    free(buf2);
    /* An unused model round-trips too. */
    textmodel_free(m2);
    struct tm_report r;
    cr_assert_eq(textmodel_train(c.ex, 100, NULL, &m2, &r), CXM_OK);
    cr_assert_eq(textmodel_save(m2, &buf2, &len2), CXM_OK);
    textmodel_free(m2);
    cr_assert_eq(textmodel_load(buf2, len2, &m2, &err), CXM_OK, "%s", err.msg);
    textmodel_info(m2, &b);
    cr_assert_not(b.used);
    cr_assert(same_float(textmodel_blend(m2, "x", 1, 0.3f), 0.3f));
    free(buf2);
    textmodel_free(m2);
    textmodel_free(m);
    free(buf);
    corpus_free(&c);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void fix_crc(uint8_t *b, size_t len)
{
    if (len >= 4)
        put32(b + len - 4, textmodel_crc32(b, len - 4));
}

/* Loads b (len bytes); on success the model must predict finite values
 * in [-1, 1]. Returns the load's code. */
static int try_load(const uint8_t *b, size_t len)
{
    struct textmodel *m = NULL;
    struct cxm_err err = {0};
    int rc = textmodel_load(b, len, &m, &err);
    if (rc == CXM_OK) {
        cr_assert(m);
        static const char *const t[] = {"escalated to tier 2", "seamless checkout, great",
                                        "not good but not bad either"};
        for (size_t i = 0; i < COUNT(t); i++) {
            float x = textmodel_blend(m, t[i], strlen(t[i]), 0.1f);
            cr_assert(x >= -1 && x <= 1, "blend %g", x);
        }
        textmodel_free(m);
    } else {
        cr_assert_null(m);
        cr_assert_eq(rc, CXM_EINVAL);
        cr_assert(err.msg[0]);
    }
    return rc;
}

Test(textmodel, load_rejects_corrupt)
{
    struct corpus c;
    make_corpus(&c, 1500, 4, false);
    struct tm_opts o = {.hash_bits = 12};
    size_t len;
    uint8_t *good = trained_bytes(&c, &o, &len, NULL);
    corpus_free(&c);
    cr_assert_eq(try_load(good, len), CXM_OK);
    cr_assert(len > 200, "%zu bytes", len);
    uint8_t *b = malloc(len + 16);
    cr_assert(b);

    /* The CRC-32 is the usual one. */
    cr_assert_eq(textmodel_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);

    /* Every truncation, and one byte too many. */
    for (size_t l = 0; l < len; l++)
        cr_assert_eq(try_load(good, l), CXM_EINVAL, "truncated to %zu", l);
    memcpy(b, good, len);
    b[len] = 0;
    cr_assert_eq(try_load(b, len + 1), CXM_EINVAL);
    fix_crc(b, len + 1);
    cr_assert_eq(try_load(b, len + 1), CXM_EINVAL);

    /* Every single-byte change is caught (by the checksum if nothing else). */
    for (size_t i = 0; i < len; i++) {
        memcpy(b, good, len);
        b[i] ^= (uint8_t)(1 + i % 255);
        cr_assert_eq(try_load(b, len), CXM_EINVAL, "byte %zu", i);
    }

    /* Changes with a valid checksum: the fields are checked. */
    static const struct {
        size_t at;
        uint8_t v;
    } field[] = {
        {0, 'X'},  {4, 2},    {7, 1},    {8, 9},    {8, 25},   {8, 200},  {9, 2},   {9, 0},
        {10, 1},   {15, 0x7f}, {15, 0xff}, {19, 0x7f}, {19, 0xff}, {28, 0xff}, {31, 1},
        {55, 0x7f}, {55, 0xbf}, {95, 0xff}, {99, 0xff}, {103, 0x7f}, {107, 0xff},
    };
    for (size_t i = 0; i < COUNT(field); i++) {
        memcpy(b, good, len);
        b[field[i].at] = field[i].v;
        fix_crc(b, len);
        cr_assert_eq(try_load(b, len), CXM_EINVAL, "field at %zu = %u", field[i].at,
                     (unsigned)field[i].v);
    }
    /* Buckets (16 bytes each from byte 96) out of order, or repeated. */
    memcpy(b, good, len);
    memcpy(b + 96, good + 112, 16);
    memcpy(b + 112, good + 96, 16);
    fix_crc(b, len);
    cr_assert_eq(try_load(b, len), CXM_EINVAL);
    memcpy(b, good, len);
    memcpy(b + 112, good + 96, 16);
    fix_crc(b, len);
    cr_assert_eq(try_load(b, len), CXM_EINVAL);
    /* A weight of infinity, of NaN, of 1e5. */
    static const uint32_t badw[] = {0x7f800000u, 0xff800000u, 0x7fc00000u, 0x47c35000u};
    for (size_t i = 0; i < COUNT(badw); i++) {
        memcpy(b, good, len);
        put32(b + 104, badw[i]);
        fix_crc(b, len);
        cr_assert_eq(try_load(b, len), CXM_EINVAL);
    }

    /* Random mutations: 1 to 8 bytes changed, sometimes truncated or
     * extended, half of them with the checksum repaired so the field
     * checks are reached. Never a crash; a load that succeeds predicts
     * values in [-1, 1]. */
    struct rng r = {77};
    int ok = 0, rejected = 0;
    for (int it = 0; it < 4000; it++) {
        memcpy(b, good, len);
        size_t l = len;
        int edits = 1 + (int)rng_below(&r, 8);
        for (int e = 0; e < edits; e++) {
            size_t at = rng_below(&r, rng_unit(&r) < 0.5 ? 100 : l);
            b[at] = (uint8_t)rng_next(&r);
        }
        double u = rng_unit(&r);
        if (u < 0.1)
            l = rng_below(&r, len);
        else if (u < 0.15)
            l = len + rng_below(&r, 16);
        if (it % 2)
            fix_crc(b, l);
        if (try_load(b, l) == CXM_OK)
            ok++;
        else
            rejected++;
    }
    cr_log_info("fuzz: %d loaded, %d rejected", ok, rejected);
    cr_assert(rejected > 3000);
    free(b);
    free(good);
}

/* ---- the numbers of the report ------------------------------------------------ */

/* A hand-worked example of the metric code itself:
 *   truth  + + + + 0 0 0 - - -
 *   pred   + + 0 - 0 + 0 - - 0
 * right: 6 of 10 -> 0.6. positive: TP 2, FP 1, FN 2 -> 4/7; neutral: TP 2,
 * FP 2, FN 1 -> 4/7; negative: TP 2, FP 1, FN 1 -> 4/6. macro-F1 =
 * (4/7 + 4/7 + 2/3) / 3. */
Test(textmodel, metrics_hand_worked)
{
    const int8_t truth[] = {1, 1, 1, 1, 0, 0, 0, -1, -1, -1};
    const float comp[] = {0.9f, 0.05f, 0.049f, -0.3f, 0.0f, 0.5f, -0.0499f, -0.05f, -1.0f,
                          0.01f};
    double acc, f1;
    textmodel_metrics(truth, comp, 10, &acc, &f1);
    assert_near(acc, 0.6);
    assert_near(f1, (4.0 / 7 + 4.0 / 7 + 2.0 / 3) / 3);
    /* A class absent from truth and prediction is left out of the mean. */
    const int8_t t2[] = {1, 1, -1};
    const float c2[] = {0.5f, -0.5f, -0.5f};
    textmodel_metrics(t2, c2, 3, &acc, &f1);
    assert_near(acc, 2.0 / 3);
    assert_near(f1, (2.0 / 3 + 2.0 / 3) / 2);
    textmodel_metrics(t2, c2, 0, &acc, &f1);
    assert_near(acc, 0);
    assert_near(f1, 0);
}

/* The report's numbers against an independent computation over the test
 * part, on a small hand-made set of comments. */
Test(textmodel, report_numbers_independent)
{
    static const char *const pos[] = {
        "seamless checkout",   "arrived next day",   "the driver rang ahead",
        "done on the first call", "reordered in one click", "tracking was spot on",
        "great service",       "love it",
    };
    static const char *const neg[] = {
        "escalated to tier 2", "the parcel went to the depot twice", "still showing as in transit",
        "my ticket was reopened again", "terrible", "really bad",
    };
    static const char *const neu[] = {"ordered a blue jumper", "paid by card", "used the app",
                                      "it came in a box"};
    enum { N = 240 };
    struct tm_example ex[N];
    char text[N][80];
    struct rng r = {5};
    for (int i = 0; i < N; i++) {
        int label = i % 3 - 1;
        const char *a = label > 0 ? pos[rng_below(&r, COUNT(pos))]
                        : label < 0 ? neg[rng_below(&r, COUNT(neg))]
                                    : neu[rng_below(&r, COUNT(neu))];
        const char *b = neu[rng_below(&r, COUNT(neu))];
        int w = snprintf(text[i], sizeof text[i], "%s, %s #%d", a, b, i);
        cr_assert(w > 0 && (size_t)w < sizeof text[i]);
        struct sentiment s;
        sentiment_score(text[i], (size_t)w, &s, NULL);
        ex[i] = (struct tm_example){text[i], (size_t)w, (int8_t)label, s.compound};
    }
    struct tm_opts o = {.hash_bits = 12, .min_examples = 100, .min_per_class = 20};
    struct textmodel *m;
    struct tm_report rep;
    cr_assert_eq(textmodel_train(ex, N, &o, &m, &rep), CXM_OK);
    cr_assert(rep.used, "%s", rep.reason);

    int8_t truth[N], pl[N], pm[N], pb[N];
    size_t nt = 0, nfit = 0, nvalid = 0;
    size_t b_only = 0, l_only = 0;
    for (int i = 0; i < N; i++) {
        int part = textmodel_part(ex[i].text, ex[i].len, 0);
        nfit += part == 0;
        nvalid += part == 1;
        if (part != 2)
            continue;
        float s = textmodel_score(m, ex[i].text, ex[i].len);
        float bl = textmodel_blend(m, ex[i].text, ex[i].len, ex[i].lexicon);
        /* the blend is the documented formula */
        float want = (1.0f - (float)rep.weight) * ex[i].lexicon + (float)rep.weight * s;
        cr_assert(fabsf(bl - want) < 1e-6f, "blend %g want %g", bl, want);
        truth[nt] = ex[i].label;
        pl[nt] = class_of(ex[i].lexicon);
        pm[nt] = class_of(s);
        pb[nt] = class_of(bl);
        b_only += pb[nt] == truth[nt] && pl[nt] != truth[nt];
        l_only += pl[nt] == truth[nt] && pb[nt] != truth[nt];
        nt++;
    }
    cr_assert_eq(rep.n_test, nt);
    cr_assert_eq(rep.n_fit, nfit);
    cr_assert_eq(rep.n_valid, nvalid);
    cr_assert(nt >= 20);
    double acc, f1;
    metrics_ref(truth, pl, nt, &acc, &f1);
    assert_near(rep.acc_lexicon, acc);
    assert_near(rep.f1_lexicon, f1);
    metrics_ref(truth, pm, nt, &acc, &f1);
    assert_near(rep.acc_model, acc);
    assert_near(rep.f1_model, f1);
    metrics_ref(truth, pb, nt, &acc, &f1);
    assert_near(rep.acc_blend, acc);
    assert_near(rep.f1_blend, f1);
    double z = ((double)b_only - (double)l_only - 1) / sqrt((double)(b_only + l_only));
    assert_near(rep.z, z);
    cr_assert(rep.z >= TM_MIN_Z);
    cr_log_info("tiny: n_test %zu, lexicon acc %.3f, blend acc %.3f, w %.2f", nt,
                rep.acc_lexicon, rep.acc_blend, rep.weight);
    textmodel_free(m);
}

/* ---- features ------------------------------------------------------------------- */

/* Negation marks the words after it up to a break or contrast word, so
 * "fast" and "not fast" are learnt apart. */
Test(textmodel, negation_scope)
{
    enum { N = 900 };
    struct tm_example ex[N];
    static const char *const t[] = {
        "the refund was fast",    "the refund was not fast", "the refund wasn't fast at all",
        "never fast. the refund", "no refund, fast reply",   "not cheap but fast refund",
    };
    static const int8_t lab[] = {1, -1, -1, -1, 1, 1};
    char text[N][64];
    for (int i = 0; i < N; i++) {
        int k = i % 6;
        int w = snprintf(text[i], sizeof text[i], "%s %d", t[k], i);
        cr_assert(w > 0);
        ex[i] = (struct tm_example){text[i], (size_t)w, lab[k], 0.0f};
    }
    /* Lexicon neutral, neutral class present by its own comments. */
    static char neut[N / 3][32];
    struct tm_example all[N + N / 3];
    memcpy(all, ex, sizeof ex);
    for (int i = 0; i < N / 3; i++) {
        int w = snprintf(neut[i], sizeof neut[i], "ordered item %d", i);
        all[N + i] = (struct tm_example){neut[i], (size_t)w, 0, 0.0f};
    }
    struct textmodel *m;
    struct tm_report r;
    cr_assert_eq(textmodel_train(all, COUNT(all), NULL, &m, &r), CXM_OK);
    cr_assert(r.used, "%s", r.reason);
    cr_assert(textmodel_score(m, "the refund was fast", 19) > 0.3f);
    cr_assert(textmodel_score(m, "the refund was not fast", 23) < -0.3f);
    /* the scope ends at a contrast word and at a break */
    cr_assert(textmodel_score(m, "not cheap but fast refund", 25) > 0.3f);
    cr_assert(textmodel_score(m, "no refund, fast reply", 21) > 0.3f);
    textmodel_free(m);
}

/* ---- prediction: shared model, odd input ------------------------------------------ */

struct shared {
    const struct textmodel *m;
    const struct corpus *c;
    const float *want;
    size_t bad;
};

static void *predict_all(void *arg)
{
    struct shared *sh = arg;
    for (int rep = 0; rep < 3; rep++)
        for (size_t i = 0; i < sh->c->n; i++) {
            const struct tm_example *e = &sh->c->ex[i];
            if (!same_float(textmodel_blend(sh->m, e->text, e->len, e->lexicon), sh->want[i]))
                sh->bad++;
        }
    themes_thread_release();
    return NULL;
}

Test(textmodel, one_model_many_threads)
{
    struct corpus c;
    make_corpus(&c, 1000, 8, false);
    struct textmodel *m;
    struct tm_report r;
    struct tm_opts o = {.min_examples = 100};
    cr_assert_eq(textmodel_train(c.ex, c.n, &o, &m, &r), CXM_OK);
    cr_assert(r.used, "%s", r.reason);
    float *want = malloc(c.n * sizeof *want);
    cr_assert(want);
    for (size_t i = 0; i < c.n; i++)
        want[i] = textmodel_blend(m, c.ex[i].text, c.ex[i].len, c.ex[i].lexicon);
    struct shared sh[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        sh[t] = (struct shared){m, &c, want, 0};
        cr_assert_eq(pthread_create(&th[t], NULL, predict_all, &sh[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        cr_assert_eq(sh[t].bad, 0, "thread %d: %zu differ", t, sh[t].bad);
    }
    free(want);
    textmodel_free(m);
    corpus_free(&c);
}

Test(textmodel, odd_input)
{
    struct corpus c;
    make_corpus(&c, 1000, 9, false);
    struct textmodel *m;
    struct tm_report r;
    cr_assert_eq(textmodel_train(c.ex, c.n, &(struct tm_opts){.min_examples = 100}, &m, &r),
                 CXM_OK);
    cr_assert(r.used, "%s", r.reason);
    corpus_free(&c);
    /* Empty, NULL, NaN and out-of-range lexicon values. */
    float e = textmodel_blend(m, NULL, 0, 0.0f);
    cr_assert(e >= -1 && e <= 1);
    cr_assert(same_float(textmodel_blend(m, "", 0, NAN), textmodel_blend(m, "", 0, 0.0f)));
    cr_assert(same_float(textmodel_blend(m, "x", 1, 7.0f), textmodel_blend(m, "x", 1, 1.0f)));
    cr_assert(same_float(textmodel_blend(m, "x", 1, -INFINITY),
                         textmodel_blend(m, "x", 1, -1.0f)));
    /* A text far over TM_TOKENS: only the first TM_TOKENS tokens count. */
    size_t n = 0, cap = 40000;
    char *big = malloc(cap);
    cr_assert(big);
    const char *head = "escalated to tier 2. ";
    for (int i = 0; i < TM_TOKENS / 4; i++) {
        memcpy(big + n, head, strlen(head));
        n += strlen(head);
    }
    size_t cut = n;
    while (n + 20 < cap) {
        memcpy(big + n, "seamless checkout. ", 19);
        n += 19;
    }
    cr_assert(same_float(textmodel_score(m, big, n), textmodel_score(m, big, cut)));
    cr_assert(textmodel_score(m, big, n) < 0);
    /* Random bytes, invalid UTF-8 included. */
    struct rng g = {3};
    for (int it = 0; it < 2000; it++) {
        size_t l = rng_below(&g, 300);
        for (size_t i = 0; i < l; i++)
            big[i] = (char)rng_next(&g);
        float x = textmodel_blend(m, big, l, (float)rng_unit(&g) * 2 - 1);
        cr_assert(x >= -1 && x <= 1);
    }
    free(big);
    textmodel_free(m);
}
