/* textmodel.c - hashed-feature multinomial logistic regression on stemmed
 * unigrams and bigrams, blended with the lexicon where it measurably helps
 * (see textmodel.h). */
#include "core/textmodel.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/themes.h"

_Static_assert(sizeof(float) == 4 && FLT_MANT_DIG == 24, "IEEE-754 binary32 float expected");
_Static_assert(sizeof(double) == 8 && DBL_MANT_DIG == 53, "IEEE-754 binary64 double expected");

#define NCLASS 3
#define FEATS_MAX (2 * TM_TOKENS)      /* unigrams + bigrams of one text */
#define SIGN_BIT UINT32_C(0x80000000)
#define WEIGHT_GRID 20                 /* w = 0, 1/20, ..., 1 */
#define WEIGHT_ABS_MAX 1e4f            /* load: larger weights are corrupt */
#define DEFAULT_SEED UINT64_C(0x6378d2a1f00d5eed)
#define DEFAULT_LR 0.2
#define DEFAULT_L2 1e-6
#define TEST_SHARE 0.2                 /* of all usable examples */
#define VALID_SHARE 0.2                /* of the training part */

enum part { PART_FIT, PART_VALID, PART_TEST };

struct textmodel {
    unsigned bits;
    float weight;               /* 0 when not used */
    float bias[NCLASS];
    float *w;                   /* [bucket][class], NULL when not used */
    struct tm_info info;
};

/* ---- hashing -------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* splitmix64 stream, for shuffling. */
static uint64_t rng_next(uint64_t *s)
{
    return mix64(*s += UINT64_C(0x9E3779B97F4A7C15));
}

#define SALT_UNI UINT64_C(0x243F6A8885A308D3)
#define SALT_BI UINT64_C(0x13198A2E03707344)
#define SALT_NEG UINT64_C(0xA4093822299F31D0)
#define SALT_SPLIT UINT64_C(0x082EFA98EC4E6C89)
#define SALT_VALID UINT64_C(0x452821E638D01377)

/* A feature: bucket in the low bits, sign in the top bit. */
static uint32_t feature_of(uint64_t g, unsigned bits)
{
    uint32_t b = (uint32_t)(g >> (64 - bits));
    return (g & 1) ? b | SIGN_BIT : b;
}

/* ---- features --------------------------------------------------------------- */

struct word {
    uint8_t len;
    char s[9];
};

static bool in_list(const struct word *list, size_t n, const char *t, size_t tl)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].len == tl && list[i].s[0] == t[0] && memcmp(list[i].s, t, tl) == 0)
            return true;
    return false;
}

#define LIST(...) ((const struct word[]){__VA_ARGS__}), \
                  sizeof((const struct word[]){__VA_ARGS__}) / sizeof(struct word)

/* t is a stem of tl bytes: not, no, never, nor, neither, none, nobody,
 * nothing, nowhere, cannot, without, the n't forms and their spellings
 * without an apostrophe. */
static bool is_negation(const char *t, size_t tl)
{
    if (tl >= 3 && t[tl - 1] == 't' && t[tl - 2] == '\'' && t[tl - 3] == 'n')
        return true;
    if (tl < 2 || tl > 8)
        return false;
    switch (t[0]) {
    case 'n':
        return in_list(LIST({3, "not"}, {2, "no"}, {5, "never"}, {3, "nor"}, {7, "neither"},
                            {4, "none"}, {6, "nobodi"}, {4, "noth"}, {6, "nowher"},
                            {6, "neednt"}), t, tl);
    case 'c':
        return in_list(LIST({6, "cannot"}, {4, "cant"}, {7, "couldnt"}), t, tl);
    case 'w':
        return in_list(LIST({7, "without"}, {5, "wasnt"}, {6, "werent"}, {4, "wont"},
                            {7, "wouldnt"}), t, tl);
    case 'd':
        return in_list(LIST({4, "dont"}, {6, "doesnt"}, {5, "didnt"}), t, tl);
    case 'i':
        return in_list(LIST({4, "isnt"}), t, tl);
    case 'a':
        return in_list(LIST({5, "arent"}, {4, "aint"}), t, tl);
    case 'h':
        return in_list(LIST({6, "havent"}, {5, "hasnt"}, {5, "hadnt"}), t, tl);
    case 's':
        return in_list(LIST({8, "shouldnt"}), t, tl);
    case 'm':
        return in_list(LIST({6, "mustnt"}), t, tl);
    default:
        return false;
    }
}

/* Stems of the contrast words, which end a negation's scope. */
static bool is_contrast(const char *t, size_t tl)
{
    switch (t[0]) {
    case 'b':
        return tl == 3 && memcmp(t, "but", 3) == 0;
    case 'h':
        return tl == 5 && memcmp(t, "howev", 5) == 0;
    case 'a':
        return tl == 8 && memcmp(t, "although", 8) == 0;
    case 't':
        return tl == 6 && memcmp(t, "though", 6) == 0;
    case 'w':
        return tl == 6 && memcmp(t, "wherea", 6) == 0;
    default:
        return false;
    }
}

/* Drops repeated features from f[0..k-1], keeping the first of each in
 * place. set: scratch of 2 * FEATS_MAX entries. */
static size_t unique(uint32_t *f, size_t k, uint32_t *set)
{
    unsigned lg = 6;
    while (((size_t)1 << lg) < 2 * k)
        lg++;
    size_t mask = ((size_t)1 << lg) - 1;
    memset(set, 0, (mask + 1) * sizeof *set);
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t v = f[i] + 1;                  /* 0 marks an empty slot */
        size_t h = (size_t)((v * UINT32_C(0x9E3779B1)) >> (32 - lg));
        while (set[h] && set[h] != v)
            h = (h + 1) & mask;
        if (!set[h]) {
            set[h] = v;
            f[u++] = f[i];
        }
    }
    return u;
}

/* The distinct features of a text into f (FEATS_MAX), in the order they
 * first occur, using tok (TM_TOKENS tokens) as scratch. Returns their
 * number. */
static size_t doc_features(const char *text, size_t len, unsigned bits,
                           char (*tok)[THEMES_TOKEN_LEN], uint32_t *f)
{
    size_t nt = text_tokens(text, len, tok, TM_TOKENS);
    size_t k = 0;
    bool neg = false, have_prev = false;
    uint64_t prev = 0;
    for (size_t i = 0; i < nt; i++) {
        if (tok[i][0] == '\0') {                /* a break */
            neg = false;
            have_prev = false;
            continue;
        }
        size_t tl = strlen(tok[i]);
        if (is_contrast(tok[i], tl))
            neg = false;
        uint64_t h = fnv1a(tok[i], tl);
        uint64_t ns = neg ? SALT_NEG : 0;
        f[k++] = feature_of(mix64(h ^ SALT_UNI ^ ns), bits);
        if (have_prev)
            f[k++] = feature_of(mix64((prev * UINT64_C(0x9E3779B97F4A7C15) +
                                       ((h << 31) | (h >> 33))) ^ SALT_BI ^ ns), bits);
        if (is_negation(tok[i], tl))
            neg = true;
        prev = h;
        have_prev = true;
    }
    uint32_t set[2 * FEATS_MAX];
    return unique(f, k, set);
}

/* ---- the model's arithmetic -------------------------------------------------- */

static void linear(const float *w, const float *bias, const uint32_t *f, size_t k, float z[NCLASS])
{
    float s[NCLASS] = {0, 0, 0};
    for (size_t j = 0; j < k; j++) {
        const float *wj = w + (size_t)(f[j] & ~SIGN_BIT) * NCLASS;
        if (f[j] & SIGN_BIT) {
            s[0] -= wj[0];
            s[1] -= wj[1];
            s[2] -= wj[2];
        } else {
            s[0] += wj[0];
            s[1] += wj[1];
            s[2] += wj[2];
        }
    }
    float x = k ? 1.0f / sqrtf((float)k) : 0.0f;
    for (int c = 0; c < NCLASS; c++)
        z[c] = bias[c] + x * s[c];
}

static void softmax(const float z[NCLASS], double p[NCLASS])
{
    double m = z[0];
    for (int c = 1; c < NCLASS; c++)
        if (z[c] > m)
            m = z[c];
    double sum = 0;
    for (int c = 0; c < NCLASS; c++)
        sum += p[c] = exp((double)z[c] - m);
    for (int c = 0; c < NCLASS; c++)
        p[c] /= sum;
}

static float clamp1(float x)
{
    return x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x;
}

/* P(positive) - P(negative); classes are 0 negative, 1 neutral, 2 positive. */
static float score_of(const float *w, const float *bias, const uint32_t *f, size_t k)
{
    float z[NCLASS];
    double p[NCLASS];
    linear(w, bias, f, k, z);
    softmax(z, p);
    float s = (float)(p[2] - p[0]);
    return isfinite(s) ? clamp1(s) : 0.0f;
}

static float clean_lexicon(float lex)
{
    return isnan(lex) ? 0.0f : clamp1(lex);
}

static float blend_of(float w, float lex, float s)
{
    return clamp1((1.0f - w) * lex + w * s);
}

/* Class of a compound by sentiment_label's thresholds. */
static int class_of(float compound)
{
    double c = compound;
    return c >= 0.05 ? 2 : c <= -0.05 ? 0 : 1;
}

/* ---- evaluation ------------------------------------------------------------ */

struct conf {
    uint64_t m[NCLASS][NCLASS];     /* [truth][prediction] */
};

static double conf_acc(const struct conf *c)
{
    uint64_t right = 0, all = 0;
    for (int t = 0; t < NCLASS; t++)
        for (int p = 0; p < NCLASS; p++) {
            all += c->m[t][p];
            if (t == p)
                right += c->m[t][p];
        }
    return all ? (double)right / (double)all : 0.0;
}

static double conf_f1(const struct conf *c)
{
    double sum = 0;
    int classes = 0;
    for (int k = 0; k < NCLASS; k++) {
        uint64_t tp = c->m[k][k], fp = 0, fn = 0;
        for (int o = 0; o < NCLASS; o++)
            if (o != k) {
                fp += c->m[o][k];
                fn += c->m[k][o];
            }
        uint64_t d = 2 * tp + fp + fn;
        if (d) {
            sum += 2.0 * (double)tp / (double)d;
            classes++;
        }
    }
    return classes ? sum / classes : 0.0;
}

/* ---- training ------------------------------------------------------------- */

struct corpus {
    size_t n;
    uint32_t *feat;             /* every example's features, one after another */
    size_t nfeat, capfeat;
    size_t *off;                /* n + 1 */
    uint8_t *cls;               /* 0, 1, 2 */
    uint8_t *part;              /* enum part */
    float *lex;                 /* cleaned lexicon compound */
};

static void corpus_free(struct corpus *c)
{
    free(c->feat);
    free(c->off);
    free(c->cls);
    free(c->part);
    free(c->lex);
}

struct params {
    unsigned bits, epochs;
    float lr, l2;
    uint64_t seed;
};

static double unit_of(uint64_t h)
{
    return (double)(h >> 11) * 0x1.0p-53;
}

static enum part part_of(const char *text, size_t len, uint64_t seed)
{
    uint64_t h = mix64(fnv1a(text, len) ^ seed ^ SALT_SPLIT);
    return unit_of(h) < TEST_SHARE                        ? PART_TEST
           : unit_of(mix64(h ^ SALT_VALID)) < VALID_SHARE ? PART_VALID
                                                          : PART_FIT;
}

/* For tests: the part (0 fitting, 1 validation, 2 test) a text falls in
 * with this seed (0: the default). */
CXM_TESTABLE int textmodel_part(const char *text, size_t len, uint64_t seed)
{
    return (int)part_of(text, len, seed ? seed : DEFAULT_SEED);
}

/* For tests: accuracy and macro-F1 of compounds against labels (-1, 0, +1),
 * by the same code the report uses. */
CXM_TESTABLE void textmodel_metrics(const int8_t *truth, const float *compound, size_t n,
                                    double *acc, double *macro_f1)
{
    struct conf cf = {0};
    for (size_t i = 0; i < n; i++)
        cf.m[truth[i] + 1][class_of(compound[i])]++;
    *acc = conf_acc(&cf);
    *macro_f1 = conf_f1(&cf);
}

static int corpus_build(struct corpus *c, const struct tm_example *ex, size_t n,
                        const struct params *p, struct tm_report *r)
{
    size_t cap;
    if (!(c->off = cxm_calloc(n + 1, sizeof *c->off)) || !(c->cls = cxm_malloc(n)) ||
        !(c->part = cxm_malloc(n)) || !(c->lex = cxm_calloc(n, sizeof *c->lex)))
        return CXM_ENOMEM;
    if (!cxm_mul_size(n, 16, &cap) || cxm_grow((void **)&c->feat, &c->capfeat, cap ? cap : 1,
                                               sizeof *c->feat))
        return CXM_ENOMEM;
    char(*tok)[THEMES_TOKEN_LEN] = cxm_malloc(sizeof(char[TM_TOKENS][THEMES_TOKEN_LEN]));
    uint32_t *f = cxm_malloc(sizeof(uint32_t[FEATS_MAX]));
    int rc = CXM_OK;
    if (!tok || !f) {
        rc = CXM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct tm_example *e = &ex[i];
        if (e->label < -1 || e->label > 1) {
            r->n_skipped++;
            continue;
        }
        size_t len = e->text ? e->len : 0;
        size_t k = doc_features(e->text, len, p->bits, tok, f);
        if (c->nfeat + k > c->capfeat &&
            (rc = cxm_grow((void **)&c->feat, &c->capfeat, c->nfeat + k, sizeof *c->feat)))
            goto out;
        memcpy(c->feat + c->nfeat, f, k * sizeof *f);
        c->nfeat += k;
        size_t j = c->n++;
        c->off[c->n] = c->nfeat;
        c->cls[j] = (uint8_t)(e->label + 1);
        c->lex[j] = clean_lexicon(e->lexicon);
        c->part[j] = (uint8_t)part_of(e->text, len, p->seed);
        r->per_class[c->cls[j]]++;
    }
    r->n_examples = c->n;
out:
    free(tok);
    free(f);
    return rc;
}

/* Training keeps a bucket's weights and AdaGrad sums together, so one
 * cache line serves the prediction and the update. */
struct slot {
    float w[NCLASS], pad0;
    float g[NCLASS], pad1;
};

static void prefetch_example(const struct corpus *c, uint32_t e, const struct slot *s)
{
    for (size_t j = c->off[e]; j < c->off[e + 1]; j++)
        __builtin_prefetch(&s[c->feat[j] & ~SIGN_BIT], 1);
}

/* Fits weights w (3 << bits, set here) and bias on the examples
 * idx[0..m-1]. */
static int fit(const struct corpus *c, const uint32_t *idx, size_t m, const struct params *p,
               float *w, float bias[NCLASS])
{
    size_t nb = (size_t)1 << p->bits;
    struct slot *sl = cxm_calloc(nb, sizeof *sl);
    uint32_t *ord = cxm_malloc((m ? m : 1) * sizeof *ord);
    if (!sl || !ord) {
        free(sl);
        free(ord);
        return CXM_ENOMEM;
    }
    if (m)
        memcpy(ord, idx, m * sizeof *ord);
    float gb[NCLASS] = {0, 0, 0};
    for (int k = 0; k < NCLASS; k++)
        bias[k] = 0;
    const float lr = p->lr, l2 = p->l2, eps = 1e-8f;
    uint64_t rs = p->seed;
    for (unsigned ep = 0; ep < p->epochs; ep++) {
        for (size_t i = m; i > 1; i--) {            /* Fisher-Yates */
            size_t j = (size_t)(rng_next(&rs) % i);
            uint32_t t = ord[i - 1];
            ord[i - 1] = ord[j];
            ord[j] = t;
        }
        for (size_t i = 0; i < m; i++) {
            uint32_t e = ord[i];
            if (i + 1 < m)
                prefetch_example(c, ord[i + 1], sl);
            const uint32_t *f = c->feat + c->off[e];
            size_t k = c->off[e + 1] - c->off[e];
            float x = k ? 1.0f / sqrtf((float)k) : 0.0f;
            float s[NCLASS] = {0, 0, 0}, z[NCLASS], d[NCLASS];
            for (size_t j = 0; j < k; j++) {        /* as linear(), same order */
                const float *wj = sl[f[j] & ~SIGN_BIT].w;
                if (f[j] & SIGN_BIT) {
                    s[0] -= wj[0];
                    s[1] -= wj[1];
                    s[2] -= wj[2];
                } else {
                    s[0] += wj[0];
                    s[1] += wj[1];
                    s[2] += wj[2];
                }
            }
            for (int cl = 0; cl < NCLASS; cl++)
                z[cl] = bias[cl] + x * s[cl];
            double pr[NCLASS];
            softmax(z, pr);
            for (int cl = 0; cl < NCLASS; cl++)
                d[cl] = (float)pr[cl] - (cl == c->cls[e] ? 1.0f : 0.0f);
            for (int cl = 0; cl < NCLASS; cl++) {
                gb[cl] += d[cl] * d[cl];
                bias[cl] -= lr * d[cl] / sqrtf(gb[cl] + eps);
            }
            for (size_t j = 0; j < k; j++) {
                struct slot *q = &sl[f[j] & ~SIGN_BIT];
                float sx = (f[j] & SIGN_BIT) ? -x : x;
                for (int cl = 0; cl < NCLASS; cl++) {
                    float gr = d[cl] * sx + l2 * q->w[cl];
                    q->g[cl] += gr * gr;
                    q->w[cl] -= lr * gr / sqrtf(q->g[cl] + eps);
                }
            }
        }
    }
    for (size_t b = 0; b < nb; b++)
        memcpy(w + b * NCLASS, sl[b].w, sizeof sl[b].w);
    free(sl);
    free(ord);
    return CXM_OK;
}

static float score_ex(const struct corpus *c, uint32_t e, const float *w, const float *bias)
{
    return score_of(w, bias, c->feat + c->off[e], c->off[e + 1] - c->off[e]);
}

/* Chooses w on the validation examples: best blend macro-F1, ties to the
 * smaller w. */
static float choose_weight(const struct corpus *c, const uint32_t *idx, size_t m,
                           const float *w, const float *bias, float *scratch)
{
    for (size_t i = 0; i < m; i++)
        scratch[i] = score_ex(c, idx[i], w, bias);
    double best = -1;
    float best_w = 0;
    for (int k = 0; k <= WEIGHT_GRID; k++) {
        float wt = (float)k / WEIGHT_GRID;
        struct conf cf = {0};
        for (size_t i = 0; i < m; i++)
            cf.m[c->cls[idx[i]]][class_of(blend_of(wt, c->lex[idx[i]], scratch[i]))]++;
        double f1 = conf_f1(&cf);
        if (f1 > best) {
            best = f1;
            best_w = wt;
        }
    }
    return best_w;
}

static int check_opts(const struct tm_opts *o, struct params *p, uint32_t *min_ex,
                      uint32_t *min_cls, double *min_gain, double *min_z)
{
    struct tm_opts d = {0};
    if (!o)
        o = &d;
    p->bits = o->hash_bits ? o->hash_bits : TM_HASH_BITS;
    p->epochs = o->epochs ? o->epochs : TM_EPOCHS;
    double lr = o->learning_rate != 0 ? o->learning_rate : DEFAULT_LR;
    double l2 = o->l2 != 0 ? o->l2 : DEFAULT_L2;
    *min_gain = o->min_gain != 0 ? o->min_gain : TM_MIN_GAIN;
    *min_z = o->min_z != 0 ? o->min_z : TM_MIN_Z;
    if (p->bits < TM_HASH_BITS_MIN || p->bits > TM_HASH_BITS_MAX || p->epochs > TM_EPOCHS_MAX ||
        !(lr > 0 && lr <= 100) || !(l2 > 0 && l2 <= 1) || !(*min_gain > 0 && *min_gain <= 1) ||
        !(*min_z > 0 && *min_z <= 100))
        return CXM_EINVAL;
    p->lr = (float)lr;
    p->l2 = (float)l2;
    p->seed = o->seed ? o->seed : DEFAULT_SEED;
    *min_ex = o->min_examples ? o->min_examples : TM_MIN_EXAMPLES;
    *min_cls = o->min_per_class ? o->min_per_class : TM_MIN_PER_CLASS;
    return CXM_OK;
}

static const char *const class_name[NCLASS] = {"negative", "neutral", "positive"};

static int train_eval(struct corpus *c, const struct params *p, double min_gain, double min_z,
                      struct textmodel *m, struct tm_report *r)
{
    size_t nw = (size_t)NCLASS << p->bits;
    uint32_t *idx = cxm_malloc(c->n * sizeof *idx);
    float *scratch = cxm_malloc(c->n * sizeof *scratch);
    float *w = cxm_calloc(nw, sizeof *w);
    int rc = CXM_ENOMEM;
    if (!idx || !scratch || !w)
        goto out;
    /* idx: fitting part, then validation part, then test part. */
    size_t k = 0;
    for (int pt = PART_FIT; pt <= PART_TEST; pt++)
        for (size_t i = 0; i < c->n; i++)
            if (c->part[i] == pt)
                idx[k++] = (uint32_t)i;
    for (size_t i = 0; i < c->n; i++) {
        if (c->part[i] == PART_FIT)
            r->n_fit++;
        else if (c->part[i] == PART_VALID)
            r->n_valid++;
    }
    r->n_train = r->n_fit + r->n_valid;
    r->n_test = c->n - r->n_train;
    if (!r->n_fit || !r->n_valid || !r->n_test) {
        snprintf(r->reason, sizeof r->reason,
                 "the split left a part empty (too many copies of the same text): "
                 "lexicon only");
        rc = CXM_OK;
        goto out;
    }
    /* 1. fit on the fitting part, choose w on the validation part */
    float bias[NCLASS];
    if ((rc = fit(c, idx, r->n_fit, p, w, bias)))
        goto out;
    float wt = choose_weight(c, idx + r->n_fit, r->n_valid, w, bias, scratch);
    /* 2. refit on the whole training part, score the test part */
    if ((rc = fit(c, idx, r->n_train, p, w, bias)))
        goto out;
    struct conf cl = {0}, cm = {0}, cb = {0};
    uint64_t b_only = 0, l_only = 0;
    for (size_t i = r->n_train; i < c->n; i++) {
        uint32_t e = idx[i];
        int t = c->cls[e];
        float s = score_ex(c, e, w, bias);
        int pl = class_of(c->lex[e]), pm = class_of(s), pb = class_of(blend_of(wt, c->lex[e], s));
        cl.m[t][pl]++;
        cm.m[t][pm]++;
        cb.m[t][pb]++;
        b_only += pb == t && pl != t;
        l_only += pl == t && pb != t;
    }
    r->acc_lexicon = conf_acc(&cl);
    r->acc_model = conf_acc(&cm);
    r->acc_blend = conf_acc(&cb);
    r->f1_lexicon = conf_f1(&cl);
    r->f1_model = conf_f1(&cm);
    r->f1_blend = conf_f1(&cb);
    r->weight = wt;
    r->z = b_only + l_only
               ? ((double)b_only - (double)l_only - (b_only > l_only ? 1.0 : 0.0)) /
                     sqrt((double)(b_only + l_only))
               : 0.0;
    double gain = r->f1_blend - r->f1_lexicon;
    if (wt <= 0)
        snprintf(r->reason, sizeof r->reason,
                 "the model did not help on the validation part (best weight 0): lexicon only");
    else if (gain < min_gain)
        snprintf(r->reason, sizeof r->reason,
                 "the blend changes macro-F1 by %+.3f on %zu held-back comments, "
                 "less than the %.3f needed: lexicon only",
                 gain, r->n_test, min_gain);
    else if (!(r->z >= min_z))
        snprintf(r->reason, sizeof r->reason,
                 "the blend's gain on %zu held-back comments is not significant "
                 "(McNemar z = %.2f < %.2f): lexicon only",
                 r->n_test, r->z, min_z);
    else {
        r->used = true;
        snprintf(r->reason, sizeof r->reason,
                 "the blend (w = %.2f) raises macro-F1 from %.3f to %.3f and accuracy from "
                 "%.1f%% to %.1f%% on %zu held-back comments",
                 wt, r->f1_lexicon, r->f1_blend, 100 * r->acc_lexicon, 100 * r->acc_blend,
                 r->n_test);
        m->weight = wt;
        memcpy(m->bias, bias, sizeof bias);
        m->w = w;
        w = NULL;
        size_t nz = 0;
        for (size_t b = 0; b < ((size_t)1 << p->bits); b++)
            nz += m->w[b * NCLASS] != 0 || m->w[b * NCLASS + 1] != 0 ||
                  m->w[b * NCLASS + 2] != 0;
        r->features = nz;
    }
    rc = CXM_OK;
out:
    free(idx);
    free(scratch);
    free(w);
    return rc;
}

int textmodel_train(const struct tm_example *ex, size_t n, const struct tm_opts *o,
                    struct textmodel **out, struct tm_report *rep)
{
    struct tm_report local;
    struct tm_report *r = rep ? rep : &local;
    memset(r, 0, sizeof *r);
    if (out)
        *out = NULL;
    struct params p;
    uint32_t min_ex, min_cls;
    double min_gain, min_z;
    if (!out || (!ex && n) || check_opts(o, &p, &min_ex, &min_cls, &min_gain, &min_z)) {
        snprintf(r->reason, sizeof r->reason, "invalid argument or option");
        return CXM_EINVAL;
    }
    if (n > TM_MAX_EXAMPLES) {
        snprintf(r->reason, sizeof r->reason, "more than %u examples", TM_MAX_EXAMPLES);
        return CXM_ETOOBIG;
    }
    struct textmodel *m = cxm_calloc(1, sizeof *m);
    struct corpus c = {0};
    int rc = CXM_ENOMEM;
    if (!m)
        goto fail;
    m->bits = p.bits;
    if ((rc = corpus_build(&c, ex, n, &p, r)))
        goto fail;
    int few = -1;
    for (int k = 0; k < NCLASS; k++)
        if (r->per_class[k] < min_cls && (few < 0 || r->per_class[k] < r->per_class[few]))
            few = k;
    if (c.n < min_ex)
        snprintf(r->reason, sizeof r->reason,
                 "too little data: %zu usable examples, at least %u needed: lexicon only", c.n,
                 min_ex);
    else if (few >= 0)
        snprintf(r->reason, sizeof r->reason,
                 "too few %s examples: %zu, at least %u needed: lexicon only", class_name[few],
                 r->per_class[few], min_cls);
    else if ((rc = train_eval(&c, &p, min_gain, min_z, m, r)))
        goto fail;
    corpus_free(&c);
    m->info = (struct tm_info){
        .used = r->used, .weight = m->weight, .hash_bits = m->bits,
        .features = r->features, .n_train = r->n_train, .n_test = r->n_test,
        .acc_lexicon = r->acc_lexicon, .acc_model = r->acc_model, .acc_blend = r->acc_blend,
        .f1_lexicon = r->f1_lexicon, .f1_model = r->f1_model, .f1_blend = r->f1_blend,
    };
    *out = m;
    return CXM_OK;
fail:
    corpus_free(&c);
    textmodel_free(m);
    memset(r, 0, sizeof *r);
    snprintf(r->reason, sizeof r->reason, "out of memory");
    return rc;
}

/* ---- prediction -------------------------------------------------------------- */

float textmodel_score(const struct textmodel *m, const char *text, size_t len)
{
    if (!m || !m->w)
        return 0.0f;
    char tok[TM_TOKENS][THEMES_TOKEN_LEN];
    uint32_t f[FEATS_MAX];
    size_t k = doc_features(text, len, m->bits, tok, f);
    return score_of(m->w, m->bias, f, k);
}

float textmodel_blend(const struct textmodel *m, const char *text, size_t len, float lexicon)
{
    if (!m || !m->w)
        return lexicon;
    return blend_of(m->weight, clean_lexicon(lexicon), textmodel_score(m, text, len));
}

void textmodel_info(const struct textmodel *m, struct tm_info *info)
{
    if (m)
        *info = m->info;
    else
        *info = (struct tm_info){0};
}

void textmodel_free(struct textmodel *m)
{
    if (!m)
        return;
    free(m->w);
    free(m);
}

/* ---- byte format ------------------------------------------------------------
 *   0  4   magic "CXTM"
 *   4  4   version (1)
 *   8  1   hash bits
 *   9  1   flags: bit 0 used
 *  10  2   reserved, 0
 *  12  4   weight (f32)
 *  16  12  bias[3] (f32)
 *  28  4   number of buckets that follow (u32)
 *  32  8   n_train (u64)
 *  40  8   n_test (u64)
 *  48  48  acc_lexicon, acc_model, acc_blend, f1_lexicon, f1_model, f1_blend (f64)
 *  96  16 each: bucket (u32, strictly increasing), weights[3] (f32)
 *  end 4   CRC-32 (IEEE) of all the bytes before it
 * All little-endian. */

#define FMT_MAGIC "CXTM"
#define FMT_VERSION 1u
#define FMT_HEADER 96u
#define FMT_ENTRY 16u
#define FMT_CRC 4u
#define FLAG_USED 1u

CXM_TESTABLE uint32_t textmodel_crc32(const uint8_t *p, size_t n)
{
    static const uint32_t nib[16] = {
        0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
        0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
        0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
    };
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ nib[c & 15];
        c = (c >> 4) ^ nib[c & 15];
    }
    return c ^ 0xFFFFFFFFu;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void putf(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put32(p, v);
}

static void putd(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put64(p, v);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static float getf(const uint8_t *p)
{
    uint32_t v = get32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static double getd(const uint8_t *p)
{
    uint64_t v = get64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static bool nonzero3(const float *w)
{
    return w[0] != 0 || w[1] != 0 || w[2] != 0;
}

int textmodel_save(const struct textmodel *m, uint8_t **buf, size_t *len)
{
    if (!m || !buf || !len)
        return CXM_EINVAL;
    *buf = NULL;
    *len = 0;
    size_t nb = (size_t)1 << m->bits, nz = 0;
    if (m->w)
        for (size_t b = 0; b < nb; b++)
            nz += nonzero3(m->w + b * NCLASS);
    size_t total = FMT_HEADER + nz * FMT_ENTRY + FMT_CRC;   /* nz <= 2^24: no overflow */
    uint8_t *p = cxm_calloc(total, 1);
    if (!p)
        return CXM_ENOMEM;
    memcpy(p, FMT_MAGIC, 4);
    put32(p + 4, FMT_VERSION);
    p[8] = (uint8_t)m->bits;
    p[9] = m->w ? FLAG_USED : 0;
    putf(p + 12, m->weight);
    for (int k = 0; k < NCLASS; k++)
        putf(p + 16 + 4 * k, m->w ? m->bias[k] : 0.0f);
    put32(p + 28, (uint32_t)nz);
    put64(p + 32, m->info.n_train);
    put64(p + 40, m->info.n_test);
    const double acc[6] = {m->info.acc_lexicon, m->info.acc_model, m->info.acc_blend,
                           m->info.f1_lexicon, m->info.f1_model, m->info.f1_blend};
    for (int k = 0; k < 6; k++)
        putd(p + 48 + 8 * k, acc[k]);
    uint8_t *q = p + FMT_HEADER;
    if (m->w)
        for (size_t b = 0; b < nb; b++) {
            const float *wb = m->w + b * NCLASS;
            if (!nonzero3(wb))
                continue;
            put32(q, (uint32_t)b);
            for (int k = 0; k < NCLASS; k++)
                putf(q + 4 + 4 * k, wb[k]);
            q += FMT_ENTRY;
        }
    put32(q, textmodel_crc32(p, total - FMT_CRC));
    *buf = p;
    *len = total;
    return CXM_OK;
}

static bool finite_weight(float f)
{
    return isfinite(f) && fabsf(f) <= WEIGHT_ABS_MAX;
}

static int bad(struct cxm_err *err, const char *what)
{
    return cxm_err_set(err, CXM_EINVAL, "text model: %s", what);
}

int textmodel_load(const uint8_t *buf, size_t len, struct textmodel **out, struct cxm_err *err)
{
    if (out)
        *out = NULL;
    if (!out || (!buf && len))
        return bad(err, "invalid argument");
    if (len < FMT_HEADER + FMT_CRC)
        return bad(err, "truncated");
    if (memcmp(buf, FMT_MAGIC, 4) != 0)
        return bad(err, "not a text model (bad magic)");
    if (get32(buf + 4) != FMT_VERSION)
        return cxm_err_set(err, CXM_EINVAL, "text model: unsupported version %u",
                           (unsigned)get32(buf + 4));
    uint32_t nz = get32(buf + 28);
    unsigned bits = buf[8];
    if (bits < TM_HASH_BITS_MIN || bits > TM_HASH_BITS_MAX)
        return bad(err, "hash bits out of range");
    if (nz > ((uint32_t)1 << bits))
        return bad(err, "bucket count out of range");
    if (len != FMT_HEADER + (size_t)nz * FMT_ENTRY + FMT_CRC)
        return bad(err, "size does not match the bucket count");
    if (get32(buf + len - FMT_CRC) != textmodel_crc32(buf, len - FMT_CRC))
        return bad(err, "checksum mismatch");
    unsigned flags = buf[9];
    bool used = flags & FLAG_USED;
    float weight = getf(buf + 12);
    if ((flags & ~FLAG_USED) || buf[10] || buf[11])
        return bad(err, "unknown flags");
    if (!(weight >= 0 && weight <= 1) || used != (weight > 0) || (!used && nz))
        return bad(err, "weight out of range");
    struct tm_info info = {.used = used, .weight = weight, .hash_bits = bits, .features = nz,
                           .n_train = get64(buf + 32), .n_test = get64(buf + 40)};
    double *acc[6] = {&info.acc_lexicon, &info.acc_model, &info.acc_blend,
                      &info.f1_lexicon, &info.f1_model, &info.f1_blend};
    for (int k = 0; k < 6; k++) {
        *acc[k] = getd(buf + 48 + 8 * k);
        if (!(*acc[k] >= 0 && *acc[k] <= 1))
            return bad(err, "accuracy out of range");
    }
    float bias[NCLASS];
    for (int k = 0; k < NCLASS; k++)
        if (!finite_weight(bias[k] = getf(buf + 16 + 4 * k)) || (!used && bias[k] != 0))
            return bad(err, "bias out of range");
    struct textmodel *m = cxm_calloc(1, sizeof *m);
    if (!m)
        return cxm_err_set(err, CXM_ENOMEM, "text model: out of memory");
    m->bits = bits;
    m->weight = weight;
    memcpy(m->bias, bias, sizeof bias);
    m->info = info;
    if (used) {
        if (!(m->w = cxm_calloc((size_t)NCLASS << bits, sizeof *m->w))) {
            free(m);
            return cxm_err_set(err, CXM_ENOMEM, "text model: out of memory");
        }
        const uint8_t *q = buf + FMT_HEADER;
        uint32_t prev = 0;
        for (uint32_t i = 0; i < nz; i++, q += FMT_ENTRY) {
            uint32_t b = get32(q);
            if (b >> bits || (i && b <= prev)) {
                textmodel_free(m);
                return bad(err, "bucket out of order or range");
            }
            prev = b;
            float *wb = m->w + (size_t)b * NCLASS;
            for (int k = 0; k < NCLASS; k++)
                if (!finite_weight(wb[k] = getf(q + 4 + 4 * k))) {
                    textmodel_free(m);
                    return bad(err, "weight not finite or too large");
                }
        }
    }
    *out = m;
    return CXM_OK;
}
