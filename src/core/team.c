/* team.c - leaderboard scores, shout-out matching and the eNPS anonymity
 * threshold. See team.h. */
#include "core/team.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_N_DEFAULT 5
#define PRIOR_N_DEFAULT 10.0
#define PRIOR_NONE 0.5          /* no answers at all: no reason to lean either way */
#define POSITIVE 0.05           /* DESIGN section 6: compound >= 0.05 is positive */
#define ENPS_MIN_DEFAULT 5
#define Z95 1.96                /* as the margins of metrics.h */

/* ---- leaderboard ---------------------------------------------------------- */

/* Wilson score interval of k successes in n > 0 trials, as fractions, in
 * the form (2k + z^2 -+ z sqrt(z^2 + 4k(n - k)/n)) / (2(n + z^2)), which
 * never divides by a proportion. Clamped: rounding can leave lo a hair
 * below 0 when k = 0 (and hi above 1 when k = n). */
static void wilson(uint32_t k, uint32_t n, double *lo, double *hi)
{
    double kd = k, nd = n, z2 = Z95 * Z95;
    double centre = 2.0 * kd + z2;
    double half = Z95 * sqrt(z2 + 4.0 * kd * (nd - kd) / nd);
    double den = 2.0 * (nd + z2);
    *lo = fmax(0.0, (centre - half) / den);
    *hi = fmin(1.0, (centre + half) / den);
}

static int row_cmp(const void *pa, const void *pb)
{
    const struct lb_row *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return (a->agent > b->agent) - (a->agent < b->agent);
}

int team_leaderboard(struct lb_row *rows, size_t *nrows, const struct lb_opts *o,
                     struct cxm_err *err)
{
    if (!nrows)
        return cxm_err_set(err, CXM_EINVAL, "no row count");
    size_t count = *nrows;
    if (count && !rows)
        return cxm_err_set(err, CXM_EINVAL, "%zu rows but no array", count);

    uint32_t min_n = o && o->min_n ? o->min_n : MIN_N_DEFAULT;
    double prior_n = o && o->prior_n > 0 ? o->prior_n : PRIOR_N_DEFAULT;
    if (isinf(prior_n))
        return cxm_err_field(err, CXM_EINVAL, -1, "prior_n", "prior_n must be finite");
    double prior = o ? o->prior : NAN;

    /* Check every row before writing any, so a failure leaves them as given. */
    uint64_t top_sum = 0, n_sum = 0;
    for (size_t i = 0; i < count; i++) {
        if (rows[i].top > rows[i].n)
            return cxm_err_field(err, CXM_EINVAL, (long)i, "top",
                                 "agent %u: %u top answers of %u", rows[i].agent,
                                 rows[i].top, rows[i].n);
        top_sum += rows[i].top;
        n_sum += rows[i].n;
    }
    if (isnan(prior))
        prior = n_sum ? (double)top_sum / (double)n_sum : PRIOR_NONE;
    else if (!(prior >= 0.0 && prior <= 1.0))
        return cxm_err_field(err, CXM_EINVAL, -1, "prior", "prior %g is outside [0, 1]",
                             prior);

    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        struct lb_row r = rows[i];
        double top = r.top, n = r.n;
        r.score = 100.0 * (top + prior_n * prior) / (n + prior_n);
        if (r.n) {
            r.csat = 100.0 * top / n;
            wilson(r.top, r.n, &r.lo, &r.hi);
            r.lo *= 100.0;
            r.hi *= 100.0;
        } else {
            r.csat = r.lo = r.hi = NAN;
        }
        if (r.n >= min_n)
            rows[kept++] = r;
    }
    if (kept > 1)
        qsort(rows, kept, sizeof rows[0], row_cmp);
    *nrows = kept;
    return CXM_OK;
}

/* ---- shout-outs ------------------------------------------------------------ */

/* The code point at s (n >= 1 bytes) into *cp; returns its length. A byte
 * that does not start a well-formed sequence (overlong, surrogate, above
 * U+10FFFF, cut short) is U+FFFD of length 1. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07u, min = 0x10000;
    } else {
        goto bad;
    }
    if (len > n)
        goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            goto bad;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        goto bad;
    *cp = v;
    return len;
bad:
    *cp = 0xFFFD;
    return 1;
}

/* Not letters or digits: ASCII other than alphanumerics, the Latin-1
 * controls, punctuation and symbols (with x and the division sign),
 * general punctuation through the symbol blocks (U+2000-U+2BFF: dashes,
 * curly quotes, ZWJ, arrows, dingbats), CJK punctuation, variation
 * selectors, specials (U+FFFD), emoji and tags. Everything else outside
 * ASCII is taken as part of a word: other scripts' letters and combining
 * marks. */
static bool is_word(uint32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c <= 0xBF || c == 0xD7 || c == 0xF7)
        return false;
    if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
        (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xFFF0 && c <= 0xFFFF) ||
        (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0xE0000 && c <= 0xE007F))
        return false;
    return true;
}

static bool is_space(uint32_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Latin-1 and Latin Extended-A letters to their base letters, both cases
 * (the table is in code point order). */
static const struct {
    uint16_t lo, hi;
    char to[3];
} latin_fold[] = {
    {0xC0, 0xC5, "a"},   {0xC6, 0xC6, "ae"},  {0xC7, 0xC7, "c"},   {0xC8, 0xCB, "e"},
    {0xCC, 0xCF, "i"},   {0xD0, 0xD0, "d"},   {0xD1, 0xD1, "n"},   {0xD2, 0xD6, "o"},
    {0xD8, 0xD8, "o"},   {0xD9, 0xDC, "u"},   {0xDD, 0xDD, "y"},   {0xDE, 0xDE, "th"},
    {0xDF, 0xDF, "ss"},  {0xE0, 0xE5, "a"},   {0xE6, 0xE6, "ae"},  {0xE7, 0xE7, "c"},
    {0xE8, 0xEB, "e"},   {0xEC, 0xEF, "i"},   {0xF0, 0xF0, "d"},   {0xF1, 0xF1, "n"},
    {0xF2, 0xF6, "o"},   {0xF8, 0xF8, "o"},   {0xF9, 0xFC, "u"},   {0xFD, 0xFD, "y"},
    {0xFE, 0xFE, "th"},  {0xFF, 0xFF, "y"},   {0x100, 0x105, "a"}, {0x106, 0x10D, "c"},
    {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"}, {0x11C, 0x123, "g"}, {0x124, 0x127, "h"},
    {0x128, 0x131, "i"}, {0x132, 0x133, "ij"}, {0x134, 0x135, "j"}, {0x136, 0x138, "k"},
    {0x139, 0x142, "l"}, {0x143, 0x14B, "n"}, {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"},
    {0x154, 0x159, "r"}, {0x15A, 0x161, "s"}, {0x162, 0x167, "t"}, {0x168, 0x173, "u"},
    {0x174, 0x175, "w"}, {0x176, 0x178, "y"}, {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
};

/* c folded into out: 0 code points (a combining accent), 1 or 2. */
static int fold(uint32_t c, uint32_t out[2])
{
    if (c >= 'A' && c <= 'Z')
        c += 'a' - 'A';
    else if (c >= 0x300 && c <= 0x36F)
        return 0;
    else if (c >= 0xC0 && c <= 0x17F) {
        for (size_t i = 0; i < sizeof latin_fold / sizeof latin_fold[0]; i++) {
            if (c < latin_fold[i].lo)
                break;
            if (c <= latin_fold[i].hi) {
                out[0] = (unsigned char)latin_fold[i].to[0];
                if (!latin_fold[i].to[1])
                    return 1;
                out[1] = (unsigned char)latin_fold[i].to[1];
                return 2;
            }
        }
    } else if (c == 0x2018 || c == 0x2019)
        c = '\'';
    else if ((c >= 0x391 && c <= 0x3A9 && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
        c += 0x20;
    else if (c == 0x3C2)
        c = 0x3C3;                /* final sigma */
    else if (c >= 0x400 && c <= 0x40F)
        c += 0x50;
    out[0] = c;
    return 1;
}

/* Folded code points of s[i, n), one at a time. */
struct fold_it {
    const unsigned char *s;
    size_t n, i;
    uint32_t pend;
    bool has_pend;
};

static bool fold_next(struct fold_it *it, uint32_t *c)
{
    if (it->has_pend) {
        it->has_pend = false;
        *c = it->pend;
        return true;
    }
    while (it->i < it->n) {
        uint32_t raw, out[2];
        it->i += utf8_decode(it->s + it->i, it->n - it->i, &raw);
        int k = fold(raw, out);
        if (k == 0)
            continue;
        if (k == 2) {
            it->pend = out[1];
            it->has_pend = true;
        }
        *c = out[0];
        return true;
    }
    return false;
}

/* Whether the word name[ws, we) starts at text[i] and ends at a word end. */
static bool match_at(const unsigned char *text, size_t len, size_t i,
                     const unsigned char *name, size_t ws, size_t we)
{
    struct fold_it t = {text, len, i, 0, false}, m = {name, we, ws, 0, false};
    uint32_t a, b;
    while (fold_next(&m, &a))
        if (!fold_next(&t, &b) || a != b)
            return false;
    return !fold_next(&t, &b) || !is_word(b);
}

bool team_praises(const char *comment, size_t len, const char *name, double sentiment,
                  size_t *at)
{
    if (!(sentiment >= POSITIVE) || !name || !comment || !len)
        return false;

    /* The name's first word: up to white space, trimmed of what is not a
     * letter or digit at either end ("(Anna)" is "Anna"), its characters
     * counted without combining accents. */
    const unsigned char *nm = (const unsigned char *)name;
    size_t nlen = strlen(name), i = 0, ws = 0, we = 0, chars = 0;
    bool found = false;
    while (i < nlen) {
        uint32_t c;
        size_t k = utf8_decode(nm + i, nlen - i, &c);
        if (is_space(c)) {
            if (found)
                break;
        } else if (is_word(c)) {
            if (!found)
                ws = i, found = true;
            we = i + k;
        }
        i += k;
    }
    for (i = ws; i < we;) {
        uint32_t c;
        i += utf8_decode(nm + i, we - i, &c);
        if (!(c >= 0x300 && c <= 0x36F))
            chars++;
    }
    if (chars < 2)
        return false;

    const unsigned char *tx = (const unsigned char *)comment;
    bool prev_word = false;
    for (i = 0; i < len;) {
        uint32_t c;
        size_t k = utf8_decode(tx + i, len - i, &c);
        bool w = is_word(c);
        if (w && !prev_word && match_at(tx, len, i, nm, ws, we)) {
            if (at)
                *at = i;
            return true;
        }
        prev_word = w;
        i += k;
    }
    return false;
}

/* ---- anonymity ------------------------------------------------------------- */

bool team_enps_visible(uint32_t n, int min)
{
    uint32_t need = min > 0 ? (uint32_t)min : ENPS_MIN_DEFAULT;
    return n >= need;
}
