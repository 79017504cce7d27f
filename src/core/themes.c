/* themes.c - see themes.h. One lexer serves the taxonomy's terms, theme
 * matching, aspects, tokens and phrases, so a term and the text it is
 * meant to match are always cut, folded and stemmed alike. */
#include "core/themes.h"

#include <jansson.h>
#include <libstemmer.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/arena.h"
#include "core/strmap.h"
#include "core/utf8.h"

/* A folded word holds at most WORD_CAP - 1 bytes; longer is "too long". */
#define WORD_CAP 64
/* Code points of a word before recomposition; the longest single
 * decomposition (U+FDFA, compatibility) is 18 code points. */
#define WORD_CPS 64
#define DECOMP_MAX 24
#define FOLD_OPTS                                                                      \
    (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |     \
     UTF8PROC_IGNORE)
/* A term longer than this (in bytes, as written) is refused: four words
 * of 63 bytes with separators fit. */
#define TERM_BYTES_MAX 300
#define NO_ID UINT32_MAX
#define HIST (THEMES_TERM_WORDS - 1)
/* Pieces of one clause kept apart; more are merged into the last. */
#define PIECES_MAX 32
#define PHRASE_WORDS 3

/* ---- the default taxonomy -------------------------------------------------- */

/* Terms are written in the forms whose stems differ ("delivery" stems to
 * "deliveri", "delivered" to "deliv"); inflections of each come free.
 * Words that mean something else too often are left out or given as a
 * phrase or an exact form: "friendly" stems to "friend" (as in "told a
 * friend"), "return" is also "we will return", "ups" stems to "up". */
static const char DEFAULT_JSON[] =
    "{\"themes\":[\n"
    "{\"id\":\"delivery\",\"name\":\"Delivery & shipping\",\"terms\":["
    "\"delivery\",\"deliver\",\"shipping\",\"shipment\",\"courier\",\"parcel\",\"package\","
    "\"postage\",\"dispatch\",\"tracking\",\"arrive\",\"arrival\",\"doorstep\",\"driver\","
    "\"in transit\",\"next day\",\"wrong address\",\"left outside\",\"royal mail\",\"dhl\","
    "\"fedex\",\"dpd\",\"evri\",\"hermes\"]},\n"
    "{\"id\":\"price\",\"name\":\"Price & value\",\"terms\":["
    "\"price\",\"pricey\",\"overpriced\",\"expensive\",\"cheap\",\"cheaper\",\"value\","
    "\"value for money\",\"cost\",\"costly\",\"afford\",\"affordable\",\"discount\","
    "\"bargain\",\"rip off\",\"ripoff\",\"worth\",\"promotion\",\"promo\",\"coupon\","
    "\"voucher\"]},\n"
    "{\"id\":\"staff\",\"name\":\"Staff & friendliness\",\"terms\":["
    "\"staff\",\"employee\",\"team member\",\"assistant\",\"cashier\",\"waiter\","
    "\"waitress\",\"barista\",\"receptionist\",\"agent\",\"manager\",\"salesperson\","
    "\"clerk\",\"personnel\",\"rude\",\"=friendly\",\"=unfriendly\",\"friendliness\","
    "\"polite\",\"impolite\",\"courteous\",\"courtesy\",\"attitude\",\"manners\","
    "\"welcoming\",\"greeted\",\"smile\",\"arrogant\",\"dismissive\",\"condescending\","
    "\"unhelpful\",\"front desk\"]},\n"
    "{\"id\":\"speed\",\"name\":\"Waiting & speed\",\"terms\":["
    "\"wait\",\"queue\",\"queued\",\"slow\",\"slowly\",\"quick\",\"fast\",\"speed\","
    "\"speedy\",\"delay\",\"prompt\",\"efficient\",\"inefficient\",\"turnaround\","
    "\"took ages\",\"took forever\",\"on hold\",\"hold time\",\"in line\",\"long line\","
    "\"response time\"]},\n"
    "{\"id\":\"quality\",\"name\":\"Product quality\",\"terms\":["
    "\"quality\",\"product\",\"item\",\"broken\",\"broke\",\"faulty\",\"defective\","
    "\"defect\",\"damaged\",\"durable\",\"sturdy\",\"flimsy\",\"cheaply made\",\"well made\","
    "\"fell apart\",\"falls apart\",\"stopped working\",\"material\",\"fabric\",\"taste\","
    "\"tasty\",\"fresh\",\"stale\",\"food\"]},\n"
    "{\"id\":\"website\",\"name\":\"Website & app usability\",\"terms\":["
    "\"website\",\"site\",\"web\",\"webpage\",\"browser\",\"app\",\"online\",\"login\","
    "\"log in\",\"sign in\",\"password\",\"checkout\",\"navigation\",\"user friendly\","
    "\"interface\",\"usability\",\"crashed\",\"glitch\",\"glitchy\",\"buggy\",\"clunky\","
    "\"intuitive\",\"click\",\"button\",\"error message\",\"easy to use\",\"hard to use\","
    "\"difficult to use\"]},\n"
    "{\"id\":\"billing\",\"name\":\"Billing & payment\",\"terms\":["
    "\"bill\",\"billing\",\"invoice\",\"charge\",\"overcharged\",\"payment\",\"pay\","
    "\"paid\",\"fee\",\"transaction\",\"subscription\",\"receipt\",\"paypal\","
    "\"credit card\",\"debit card\",\"card payment\",\"direct debit\",\"auto renew\"]},\n"
    "{\"id\":\"returns\",\"name\":\"Returns & refunds\",\"terms\":["
    "\"refund\",\"reimburse\",\"exchange\",\"=returns\",\"return it\",\"return them\","
    "\"return policy\",\"return label\",\"return process\",\"return window\","
    "\"return request\",\"returned item\",\"send back\",\"send it back\",\"sent back\","
    "\"sent it back\",\"money back\",\"store credit\",\"restocking fee\"]},\n"
    "{\"id\":\"communication\",\"name\":\"Communication\",\"terms\":["
    "\"communication\",\"communicate\",\"email\",\"e mail\",\"call\",\"phone\",\"update\","
    "\"notification\",\"notify\",\"notified\",\"inform\",\"information\",\"response\","
    "\"respond\",\"reply\",\"contact\",\"message\",\"sms\",\"explain\",\"explanation\","
    "\"ignored\",\"heard back\",\"never heard\",\"follow up\",\"get back to me\","
    "\"got back to me\"]},\n"
    "{\"id\":\"store\",\"name\":\"Cleanliness & store\",\"terms\":["
    "\"clean\",\"cleanliness\",\"dirty\",\"filthy\",\"messy\",\"mess\",\"tidy\",\"untidy\","
    "\"hygiene\",\"smell\",\"smelly\",\"toilet\",\"restroom\",\"bathroom\",\"store\","
    "\"in store\",\"branch\",\"premises\",\"parking\",\"car park\",\"aisle\",\"shelf\","
    "\"shelves\",\"fitting room\",\"changing room\",\"layout\",\"atmosphere\",\"decor\","
    "\"caf\\u00e9\",\"restaurant\",\"dusty\",\"stain\",\"sticky\",\"spotless\",\"crowded\","
    "\"noisy\"]},\n"
    "{\"id\":\"support\",\"name\":\"Support resolution\",\"terms\":["
    "\"support\",\"customer service\",\"customer support\",\"customer care\",\"helpdesk\","
    "\"help desk\",\"resolve\",\"resolution\",\"unresolved\",\"solve\",\"solved\",\"fix\","
    "\"complaint\",\"complain\",\"escalate\",\"ticket\",\"case number\",\"sorted out\","
    "\"live chat\",\"chatbot\",\"troubleshoot\",\"technician\",\"call centre\","
    "\"call center\"]}\n"
    "]}\n";

const char *taxonomy_default_json(void)
{
    return DEFAULT_JSON;
}

/* ---- per-thread stemmer ------------------------------------------------------- */

/* libstemmer's stemmer keeps its work in the object, so each thread has
 * its own. Stemming costs some 180 ns a word, over the whole budget of a
 * comment, so a direct-mapped cache of recent words sits in front: CX
 * text reuses a small vocabulary. A slot also remembers the word's
 * vocabulary ids in the last taxonomy that looked it up (taxonomies have
 * unique serial numbers, so a freed one's address reused cannot confuse
 * it). The cache only memoises: results never depend on what a thread
 * saw before. */
#define STEM_SLOTS 2048
#define SLOT_WORD 25            /* word and stem bytes kept in a slot */

struct stem_slot {
    uint64_t tx;                /* taxonomy serial of sid/eid; 0: none */
    uint32_t hash, sid, eid;
    uint8_t wlen, slen;         /* wlen 0: empty */
    char word[SLOT_WORD];
    char stem[SLOT_WORD];
};

struct thread_state {
    struct sb_stemmer *st;
    struct stem_slot slot[STEM_SLOTS];
};

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
static bool tls_key_ok;
/* Also a root for LeakSanitizer in threads whose destructor never runs. */
static _Thread_local struct thread_state *tls_state;

static void state_free(void *p)
{
    struct thread_state *s = p;
    if (!s)
        return;
    if (s->st)
        sb_stemmer_delete(s->st);
    free(s);
}

static void key_init(void)
{
    tls_key_ok = pthread_key_create(&tls_key, state_free) == 0;
}

/* The calling thread's stemmer, created on first use; NULL on failure
 * (tried again next time). */
static struct thread_state *thread_state(void)
{
    if (tls_state)
        return tls_state;
    if (pthread_once(&tls_once, key_init) != 0 || !tls_key_ok)
        return NULL;
    struct thread_state *s = cxm_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->st = sb_stemmer_new("english", NULL);
    if (!s->st || pthread_setspecific(tls_key, s) != 0) {
        state_free(s);
        return NULL;
    }
    tls_state = s;
    return s;
}

void themes_thread_release(void)
{
    if (!tls_state)
        return;
    pthread_setspecific(tls_key, NULL);
    state_free(tls_state);
    tls_state = NULL;
}

/* The cache slot holding the folded word w (n bytes, 0 < n < WORD_CAP),
 * stemmed now if it was not there; NULL when it does not fit a slot or
 * there is no stemmer. */
static struct stem_slot *stem_slot(struct thread_state *ts, const char *w, size_t n)
{
    if (!ts || n >= SLOT_WORD)
        return NULL;
    uint32_t h = (uint32_t)strmap_hash(w, n);
    struct stem_slot *sl = &ts->slot[h & (STEM_SLOTS - 1)];
    if (sl->wlen == n && sl->hash == h && memcmp(sl->word, w, n) == 0)
        return sl;
    const sb_symbol *r = sb_stemmer_stem(ts->st, (const sb_symbol *)w, (int)n);
    int rl = r ? sb_stemmer_length(ts->st) : -1;
    if (rl < 0 || rl >= SLOT_WORD)
        return NULL;
    *sl = (struct stem_slot){.hash = h, .wlen = (uint8_t)n, .slen = (uint8_t)rl};
    memcpy(sl->word, w, n);
    memcpy(sl->stem, r, (size_t)rl);
    return sl;
}

/* Stem of the folded word w (n bytes, 0 < n < WORD_CAP) into out
 * (WORD_CAP bytes, terminated); its length. Without a stemmer (ts NULL or
 * out of memory in the stemmer) the word itself. */
static size_t stem_word(struct thread_state *ts, const char *w, size_t n, char *out)
{
    const struct stem_slot *sl = stem_slot(ts, w, n);
    if (sl) {
        memcpy(out, sl->stem, sl->slen);
        out[sl->slen] = '\0';
        return sl->slen;
    }
    const sb_symbol *r = ts ? sb_stemmer_stem(ts->st, (const sb_symbol *)w, (int)n) : NULL;
    int rl = r ? sb_stemmer_length(ts->st) : -1;
    size_t m = n;
    if (rl >= 0) {
        m = (size_t)rl < WORD_CAP - 1 ? (size_t)rl : WORD_CAP - 1;
        memcpy(out, r, m);
    } else {
        memcpy(out, w, n);
    }
    out[m] = '\0';
    return m;
}

/* ---- lexer ----------------------------------------------------------------- */

enum lx_kind { LX_END, LX_WORD, LX_SOFT, LX_HARD };

/* Character classes; DOT, COMMA and HYPHEN depend on their neighbours. */
enum cls { C_SEP, C_WORD, C_IGNORE, C_APOS, C_SOFT, C_HARD, C_DOT, C_COMMA, C_HYPHEN };

struct lexer {
    const char *s;
    size_t len, pos;
};

struct word {
    size_t start, end;          /* raw bytes of the text */
    size_t flen;                /* 0 when too long */
    bool toolong;
    char fold[WORD_CAP];
};

/* Code point at s[i] (i < len) and its length in *n; -1 for a byte that
 * does not start a well-formed sequence (length 1). */
static int32_t decode(const char *s, size_t len, size_t i, size_t *n)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    utf8proc_int32_t cp;
    size_t avail = len - i < 4 ? len - i : 4;
    utf8proc_ssize_t r =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)avail, &cp);
    if (r < 1) {
        *n = 1;
        return -1;
    }
    *n = (size_t)r;
    return cp;
}

static bool ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static enum cls classify(int32_t cp)
{
    if (cp < 0)
        return C_SEP;
    if (cp < 0x80) {
        if (ascii_alnum((unsigned char)cp))
            return C_WORD;
        switch (cp) {
        case '\'': return C_APOS;
        case '.': return C_DOT;
        case ',': return C_COMMA;
        case '-': return C_HYPHEN;
        case '!': case '?': case ';': case '\n': case '\r': return C_HARD;
        case ':': case '(': case ')': case '[': case ']': return C_SOFT;
        default: return C_SEP;
        }
    }
    switch (cp) {
    case 0x2018: case 0x2019:                       /* quotes used as apostrophes */
        return C_APOS;
    case 0x0085: case 0x2026: case 0x2028: case 0x2029: case 0x203C: case 0x2047:
    case 0x2048: case 0x2049: case 0x3002: case 0xFF01: case 0xFF1B: case 0xFF1F:
    case 0xFF61:
        return C_HARD;
    case 0x2013: case 0x2014: case 0x3001: case 0xFF0C: case 0xFF1A:
        return C_SOFT;
    case 0x200B:                                    /* zero-width space: a space */
        return C_SEP;
    default:
        break;
    }
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return C_WORD;
    default:
        return utf8proc_get_property(cp)->ignorable ? C_IGNORE : C_SEP;
    }
}

static enum cls class_at(const struct lexer *lx, size_t i, size_t *n)
{
    return classify(decode(lx->s, lx->len, i, n));
}

/* Folds the rest of a word that is not plain ASCII letters and digits;
 * done ASCII bytes are read already, the first WORD_CAP - 1 of them in
 * w->fold. */
static void read_word_slow(struct lexer *lx, struct word *w, size_t done)
{
    utf8proc_int32_t cps[WORD_CPS];
    size_t ncp = 0;
    bool wide = false, over = done > WORD_CAP - 1;
    for (; ncp < done && ncp < WORD_CAP - 1; ncp++)
        cps[ncp] = (unsigned char)w->fold[ncp];
    while (lx->pos < lx->len) {
        size_t n;
        int32_t cp = decode(lx->s, lx->len, lx->pos, &n);
        enum cls c = classify(cp);
        if (c == C_APOS) {
            /* inside a word only: after something, before a word character */
            size_t n2;
            if (ncp == 0 || lx->pos + n >= lx->len || class_at(lx, lx->pos + n, &n2) != C_WORD)
                break;
            cp = '\'';
        } else if (c != C_WORD && c != C_IGNORE) {
            break;
        }
        lx->pos += n;
        if (cp < 0x80) {
            if (ncp < WORD_CPS)
                cps[ncp++] = (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
            else
                over = true;
            continue;
        }
        utf8proc_int32_t d[DECOMP_MAX];
        int bound = 0;
        utf8proc_ssize_t r = utf8proc_decompose_char(cp, d, DECOMP_MAX, FOLD_OPTS, &bound);
        if (r < 0 || r > DECOMP_MAX || ncp + (size_t)r > WORD_CPS) {
            over = true;
            continue;
        }
        for (utf8proc_ssize_t i = 0; i < r; i++) {
            if (d[i] == ' ')
                continue;       /* compatibility forms such as U+FE70 hold one */
            wide |= d[i] >= 0x80;
            cps[ncp++] = d[i];
        }
    }
    w->end = lx->pos;
    w->toolong = over;
    w->flen = 0;
    if (over)
        return;
    if (wide) {
        utf8proc_ssize_t r = utf8proc_normalize_utf32(cps, (utf8proc_ssize_t)ncp, FOLD_OPTS);
        ncp = r < 0 ? 0 : (size_t)r;
    }
    size_t o = 0;
    for (size_t i = 0; i < ncp; i++) {
        if (cps[i] < 0x80) {
            if (o + 1 >= WORD_CAP)
                goto toolong;
            w->fold[o++] = (char)cps[i];
        } else {
            utf8proc_uint8_t b[4];
            utf8proc_ssize_t k = utf8proc_encode_char(cps[i], b);
            if (o + (size_t)k >= WORD_CAP)
                goto toolong;
            memcpy(w->fold + o, b, (size_t)k);
            o += (size_t)k;
        }
    }
    w->fold[o] = '\0';
    w->flen = o;
    return;
toolong:
    w->toolong = true;
    w->flen = 0;
}

/* Reads the word starting at lx->pos into w and folds it. Most words are
 * ASCII letters and digits: lowered here, byte by byte; anything else
 * (accents, apostrophes, ignorables) goes the way of utf8proc. */
static void read_word(struct lexer *lx, struct word *w)
{
    const unsigned char *s = (const unsigned char *)lx->s;
    size_t p = lx->pos, o = 0;
    w->start = p;
    while (p < lx->len) {
        unsigned c = s[p];
        if (c - 'A' < 26u)
            c += 'a' - 'A';
        else if (!(c - 'a' < 26u || c - '0' < 10u))
            break;
        if (o < WORD_CAP - 1)
            w->fold[o] = (char)c;
        o++;
        p++;
    }
    lx->pos = p;
    if (p < lx->len && (s[p] >= 0x80 || s[p] == '\'')) {
        read_word_slow(lx, w, o);
        return;
    }
    w->end = p;
    w->toolong = o >= WORD_CAP;
    w->flen = w->toolong ? 0 : o;
    w->fold[w->flen] = '\0';
}

/* Next word, or the strongest break (hard over soft) between the previous
 * word and the next. A break at the end of the text is not reported. A
 * word that folds to nothing (marks or ignorables alone) is skipped. */
static enum lx_kind lex_next(struct lexer *lx, struct word *w)
{
    enum lx_kind pend = LX_END;
    while (lx->pos < lx->len) {
        if (lx->s[lx->pos] == ' ') {
            lx->pos++;
            continue;
        }
        size_t n;
        enum cls c = class_at(lx, lx->pos, &n);
        const unsigned char *s = (const unsigned char *)lx->s;
        size_t p = lx->pos;
        bool before = p > 0, after = p + 1 < lx->len;
        switch (c) {
        case C_WORD:
        case C_IGNORE:
            if (pend != LX_END)
                return pend;
            read_word(lx, w);
            if (w->flen || w->toolong)
                return LX_WORD;
            continue;
        case C_DOT:
            /* "3.50", "amazon.co.uk": not the end of a sentence */
            if (!(after && ascii_alnum(s[p + 1])))
                pend = LX_HARD;
            break;
        case C_COMMA:
            if (!(before && after && s[p - 1] >= '0' && s[p - 1] <= '9' && s[p + 1] >= '0' &&
                  s[p + 1] <= '9') &&
                pend != LX_HARD)
                pend = LX_SOFT;
            break;
        case C_HYPHEN:
            if (before && after && s[p - 1] == ' ' && s[p + 1] == ' ' && pend != LX_HARD)
                pend = LX_SOFT;
            break;
        case C_HARD:
            pend = LX_HARD;
            break;
        case C_SOFT:
            if (pend != LX_HARD)
                pend = LX_SOFT;
            break;
        case C_SEP:
        case C_APOS:
            break;
        }
        lx->pos += n;
    }
    return LX_END;
}

static bool word_is(const struct word *w, const char *s)
{
    size_t n = strlen(s);
    return w->flen == n && memcmp(w->fold, s, n) == 0;
}

/* 1: a contrast word that always splits; 2: "yet", which splits only
 * first in a piece ("not yet arrived" keeps its negation). */
static int contrast_word(const struct word *w)
{
    if (w->flen < 3 || w->flen > 8)
        return 0;
    if (word_is(w, "but") || word_is(w, "although") || word_is(w, "however") ||
        word_is(w, "though") || word_is(w, "whereas"))
        return 1;
    return word_is(w, "yet") ? 2 : 0;
}

/* ---- compiled taxonomy ------------------------------------------------------- */

static _Atomic uint64_t tx_serial;

struct tx_word {
    uint32_t single;            /* themes with this word as a whole term */
    uint32_t multi_first, multi_n;   /* terms of several words ending here */
};

struct tx_multi {
    uint32_t mask;
    uint32_t n;                 /* words, 2..THEMES_TERM_WORDS */
    uint32_t ids[THEMES_TERM_WORDS];
};

struct taxonomy {
    uint64_t serial;            /* unique in the process, never 0 */
    size_t n;
    char *id[THEMES_MAX];
    char *name[THEMES_MAX];
    char *json;
    struct strmap *stems;       /* stem -> words[] index */
    struct strmap *exact;       /* folded word ("=" terms) -> words[] index */
    struct arena keys;
    struct tx_word *words;
    size_t nwords, capwords;
    struct tx_multi *multi;
    size_t nmulti, capmulti;
};

void taxonomy_free(struct taxonomy *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < THEMES_MAX; i++) {
        free(t->id[i]);
        free(t->name[i]);
    }
    free(t->json);
    strmap_free(t->stems);
    strmap_free(t->exact);
    arena_free(&t->keys);
    free(t->words);
    free(t->multi);
    free(t);
}

size_t taxonomy_count(const struct taxonomy *t)
{
    return t->n;
}

const char *taxonomy_id(const struct taxonomy *t, size_t i)
{
    return i < t->n ? t->id[i] : NULL;
}

const char *taxonomy_name(const struct taxonomy *t, size_t i)
{
    return i < t->n ? t->name[i] : NULL;
}

int taxonomy_find(const struct taxonomy *t, const char *id)
{
    for (size_t i = 0; id && i < t->n; i++)
        if (strcmp(t->id[i], id) == 0)
            return (int)i;
    return -1;
}

const char *taxonomy_json(const struct taxonomy *t)
{
    return t->json;
}

/* Index of key in map, added (with a fresh words[] entry) when absent. */
static int vocab_id(struct taxonomy *t, struct strmap *map, const char *key, size_t n,
                    uint32_t *id)
{
    if (strmap_get(map, key, n, id))
        return CXM_OK;
    if (t->nwords >= UINT32_MAX - 1)
        return CXM_ETOOBIG;
    char *k = arena_strndup(&t->keys, key, n);
    if (!k || cxm_grow((void **)&t->words, &t->capwords, t->nwords + 1, sizeof *t->words) ||
        strmap_put(map, k, n, (uint32_t)t->nwords))
        return CXM_ENOMEM;
    t->words[t->nwords] = (struct tx_word){0};
    *id = (uint32_t)t->nwords++;
    return CXM_OK;
}

/* Compiles one term of theme ti. */
static int add_term(struct taxonomy *t, struct thread_state *ts, size_t ti, size_t k,
                    const char *term, struct cxm_err *err)
{
    char field[32];
    snprintf(field, sizeof field, "terms[%zu]", k);
    size_t len = strlen(term);
    bool exact = len > 0 && term[0] == '=';
    if (len > TERM_BYTES_MAX)
        return cxm_err_field(err, CXM_EINVAL, (long)ti, field, "term is over %d bytes",
                             TERM_BYTES_MAX);
    struct lexer lx = {term + exact, len - exact, 0};
    struct word w;
    uint32_t ids[THEMES_TERM_WORDS];
    size_t n = 0;
    enum lx_kind kind;
    while ((kind = lex_next(&lx, &w)) != LX_END) {
        if (kind != LX_WORD || contrast_word(&w))
            return cxm_err_field(err, CXM_EINVAL, (long)ti, field,
                                 "term \"%s\" has punctuation or a contrast word that "
                                 "splits it, so it could never match", term);
        if (w.toolong)
            return cxm_err_field(err, CXM_EINVAL, (long)ti, field,
                                 "term \"%s\" has a word over %d bytes", term, WORD_CAP - 1);
        if (n == THEMES_TERM_WORDS)
            return cxm_err_field(err, CXM_EINVAL, (long)ti, field,
                                 "term \"%s\" has over %d words", term, THEMES_TERM_WORDS);
        int rc;
        if (exact) {
            if (!t->exact && !(t->exact = strmap_new()))
                return cxm_err_set(err, CXM_ENOMEM, "out of memory");
            rc = vocab_id(t, t->exact, w.fold, w.flen, &ids[n]);
        } else {
            char stem[WORD_CAP];
            size_t sl = stem_word(ts, w.fold, w.flen, stem);
            rc = vocab_id(t, t->stems, stem, sl, &ids[n]);
        }
        if (rc)
            return cxm_err_set(err, rc, "out of memory");
        n++;
    }
    if (n == 0)
        return cxm_err_field(err, CXM_EINVAL, (long)ti, field, "term \"%s\" has no words", term);
    uint32_t bit = UINT32_C(1) << ti;
    if (n == 1) {
        t->words[ids[0]].single |= bit;
        return CXM_OK;
    }
    if (cxm_grow((void **)&t->multi, &t->capmulti, t->nmulti + 1, sizeof *t->multi))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    struct tx_multi *m = &t->multi[t->nmulti++];
    *m = (struct tx_multi){.mask = bit, .n = (uint32_t)n};
    memcpy(m->ids, ids, n * sizeof *ids);
    return CXM_OK;
}

/* Terms of several words by last word, then the others, so the terms
 * ending in one word are one run and equal terms are neighbours. */
static int multi_cmp(const void *pa, const void *pb)
{
    const struct tx_multi *a = pa, *b = pb;
    uint32_t la = a->ids[a->n - 1], lb = b->ids[b->n - 1];
    if (la != lb)
        return la < lb ? -1 : 1;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->ids[i] != b->ids[i])
            return a->ids[i] < b->ids[i] ? -1 : 1;
    return 0;
}

static void index_multi(struct taxonomy *t)
{
    if (t->nmulti == 0)
        return;
    qsort(t->multi, t->nmulti, sizeof *t->multi, multi_cmp);
    size_t o = 0;
    for (size_t i = 0; i < t->nmulti; i++) {
        if (o > 0 && multi_cmp(&t->multi[o - 1], &t->multi[i]) == 0)
            t->multi[o - 1].mask |= t->multi[i].mask;
        else
            t->multi[o++] = t->multi[i];
    }
    t->nmulti = o;
    for (size_t i = 0; i < t->nmulti; i++) {
        struct tx_word *w = &t->words[t->multi[i].ids[t->multi[i].n - 1]];
        if (w->multi_n == 0)
            w->multi_first = (uint32_t)i;
        w->multi_n++;
    }
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > THEMES_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Checks and compiles theme ti; adds its canonical form to out. */
static int parse_theme(struct taxonomy *t, struct thread_state *ts, size_t ti, json_t *th,
                       json_t *out, size_t *nterms, struct cxm_err *err)
{
    long li = (long)ti;
    if (!json_is_object(th))
        return cxm_err_field(err, CXM_EINVAL, li, "themes", "theme %zu is not an object", ti);
    json_t *id = json_object_get(th, "id");
    if (!id)
        return cxm_err_field(err, CXM_EINVAL, li, "id", "theme %zu has no id", ti);
    if (!json_is_string(id) || !valid_id(json_string_value(id)))
        return cxm_err_field(err, CXM_EINVAL, li, "id",
                             "theme %zu: id must be 1 to %d of a-z, 0-9, _ and -", ti,
                             THEMES_ID_MAX);
    const char *ids = json_string_value(id);
    for (size_t j = 0; j < ti; j++)
        if (strcmp(t->id[j], ids) == 0)
            return cxm_err_field(err, CXM_EINVAL, li, "id", "theme %zu: id \"%s\" is taken",
                                 ti, ids);
    json_t *name = json_object_get(th, "name");
    const char *names = ids;
    if (name) {
        size_t nl = json_string_length(name);
        if (!json_is_string(name) || nl == 0 || nl > THEMES_NAME_MAX ||
            strlen(json_string_value(name)) != nl ||
            utf8_has_control(json_string_value(name), nl))
            return cxm_err_field(err, CXM_EINVAL, li, "name",
                                 "theme %zu: name must be a string of 1 to %d bytes with no "
                                 "control characters", ti, THEMES_NAME_MAX);
        names = json_string_value(name);
    }
    json_t *terms = json_object_get(th, "terms");
    if (!json_is_array(terms) || json_array_size(terms) == 0)
        return cxm_err_field(err, CXM_EINVAL, li, "terms",
                             "theme %zu: terms must be a non-empty array of strings", ti);
    if (!(t->id[ti] = cxm_strdup(ids)) || !(t->name[ti] = cxm_strdup(names)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_t *o = json_pack("{s:s, s:s, s:[]}", "id", ids, "name", names, "terms");
    if (!o || json_array_append_new(out, o))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_t *oterms = json_object_get(o, "terms");
    size_t k;
    json_t *term;
    json_array_foreach(terms, k, term) {
        char field[32];
        snprintf(field, sizeof field, "terms[%zu]", k);
        if (!json_is_string(term) || strlen(json_string_value(term)) != json_string_length(term))
            return cxm_err_field(err, CXM_EINVAL, li, field, "theme %zu: term %zu is not a string",
                                 ti, k);
        if (++*nterms > THEMES_TERMS_MAX)
            return cxm_err_field(err, CXM_ETOOBIG, li, "terms", "over %d terms in all",
                                 THEMES_TERMS_MAX);
        int rc = add_term(t, ts, ti, k, json_string_value(term), err);
        if (rc)
            return rc;
        if (json_array_append(oterms, term))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    return CXM_OK;
}

static int parse_doc(struct taxonomy *t, json_t *doc, struct cxm_err *err)
{
    struct thread_state *ts = thread_state();
    if (!ts)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory (stemmer)");
    json_t *themes = json_is_object(doc) ? json_object_get(doc, "themes") : NULL;
    if (!json_is_array(themes) || json_array_size(themes) == 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "themes",
                             "the taxonomy must be an object with a non-empty array \"themes\"");
    if (json_array_size(themes) > THEMES_MAX)
        return cxm_err_field(err, CXM_ETOOBIG, THEMES_MAX, "themes",
                             "%zu themes: at most %d fit", json_array_size(themes), THEMES_MAX);
    if (!(t->stems = strmap_new()))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_t *out = json_pack("{s:[]}", "themes");
    if (!out)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_t *oth = json_object_get(out, "themes");
    size_t nterms = 0, i;
    json_t *th;
    int rc = CXM_OK;
    json_array_foreach(themes, i, th) {
        if ((rc = parse_theme(t, ts, i, th, oth, &nterms, err)))
            break;
        t->n = i + 1;
    }
    if (!rc && !(t->json = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_decref(out);
    if (!rc)
        index_multi(t);
    return rc;
}

int taxonomy_parse(const char *json, size_t len, struct taxonomy **out, struct cxm_err *err)
{
    *out = NULL;
    if (len > THEMES_JSON_MAX)
        return cxm_err_field(err, CXM_ETOOBIG, -1, "", "taxonomy JSON is over %u bytes",
                             THEMES_JSON_MAX);
    json_error_t je;
    json_t *doc = json_loadb(json ? json : "", json ? len : 0, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return cxm_err_field(err, CXM_EINVAL, -1, "", "taxonomy JSON, line %d column %d: %s",
                             je.line, je.column, je.text);
    struct taxonomy *t = cxm_calloc(1, sizeof *t);
    if (!t) {
        json_decref(doc);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    t->serial = atomic_fetch_add(&tx_serial, 1) + 1;
    int rc = parse_doc(t, doc, err);
    json_decref(doc);
    if (rc) {
        taxonomy_free(t);
        return rc;
    }
    *out = t;
    return CXM_OK;
}

int taxonomy_default(struct taxonomy **out, struct cxm_err *err)
{
    return taxonomy_parse(DEFAULT_JSON, sizeof DEFAULT_JSON - 1, out, err);
}

/* ---- matching ------------------------------------------------------------- */

/* A sliding window of the last HIST words, for terms of several words.
 * Each word's single-word themes wait in pend until the word leaves the
 * window, so a longer term that covers the word can cancel them. */
struct matcher {
    const struct taxonomy *t;
    struct thread_state *ts;
    uint32_t sid[HIST], eid[HIST], pend[HIST];
    size_t nh;
};

/* Vocabulary ids of a word: by stem and by exact form; NO_ID if none. */
static void lookup(const struct matcher *m, const struct word *w, uint32_t *sid, uint32_t *eid)
{
    *sid = *eid = NO_ID;
    if (w->toolong)
        return;
    struct stem_slot *slot = stem_slot(m->ts, w->fold, w->flen);
    if (slot && slot->tx == m->t->serial) {
        *sid = slot->sid;
        *eid = slot->eid;
        return;
    }
    char buf[WORD_CAP];
    const char *stem = buf;
    size_t sl;
    if (slot) {
        stem = slot->stem;
        sl = slot->slen;
    } else {
        sl = stem_word(m->ts, w->fold, w->flen, buf);
    }
    uint32_t v;
    if (strmap_get(m->t->stems, stem, sl, &v))
        *sid = v;
    if (m->t->exact && strmap_get(m->t->exact, w->fold, w->flen, &v))
        *eid = v;
    if (slot) {
        slot->tx = m->t->serial;
        slot->sid = *sid;
        slot->eid = *eid;
    }
}

static bool hist_is(const struct matcher *m, size_t i, uint32_t id)
{
    return m->sid[i] == id || m->eid[i] == id;
}

/* Themes of the multi-word terms ending in word id whose other words are
 * the last ones in the window; *cover gets how many window words the
 * longest of them covers. */
static uint32_t match_multi(const struct matcher *m, uint32_t id, size_t *cover)
{
    if (id == NO_ID)
        return 0;
    const struct tx_word *w = &m->t->words[id];
    uint32_t mask = 0;
    for (uint32_t i = 0; i < w->multi_n; i++) {
        const struct tx_multi *mu = &m->t->multi[w->multi_first + i];
        size_t k = mu->n - 1;
        if (k > m->nh)
            continue;
        size_t base = m->nh - k, j = 0;
        while (j < k && hist_is(m, base + j, mu->ids[j]))
            j++;
        if (j == k) {
            mask |= mu->mask;
            if (k > *cover)
                *cover = k;
        }
    }
    return mask;
}

/* Adds a word; returns the themes that became final. */
static uint32_t matcher_push(struct matcher *m, const struct word *w)
{
    uint32_t sid, eid, out = 0, single = 0;
    lookup(m, w, &sid, &eid);
    if (sid != NO_ID)
        single |= m->t->words[sid].single;
    if (eid != NO_ID)
        single |= m->t->words[eid].single;
    size_t cover = 0;
    uint32_t multi = match_multi(m, sid, &cover) | match_multi(m, eid, &cover);
    if (multi) {
        for (size_t i = m->nh - cover; i < m->nh; i++)
            m->pend[i] = 0;
        single = 0;
        out |= multi;
    }
    if (m->nh == HIST) {
        out |= m->pend[0];
        memmove(m->sid, m->sid + 1, (HIST - 1) * sizeof *m->sid);
        memmove(m->eid, m->eid + 1, (HIST - 1) * sizeof *m->eid);
        memmove(m->pend, m->pend + 1, (HIST - 1) * sizeof *m->pend);
        m->nh--;
    }
    m->sid[m->nh] = sid;
    m->eid[m->nh] = eid;
    m->pend[m->nh] = single;
    m->nh++;
    return out;
}

/* Ends the window (a break); returns the waiting themes. */
static uint32_t matcher_flush(struct matcher *m)
{
    uint32_t out = 0;
    for (size_t i = 0; i < m->nh; i++)
        out |= m->pend[i];
    m->nh = 0;
    return out;
}

/* Walks a text for themes_match and themes_aspects alike, so both find the
 * same themes: words with their final themes, the ends of pieces (soft
 * breaks) and of clauses (hard breaks, contrast words). */
enum wk_event { WK_END, WK_WORD, WK_PIECE, WK_CLAUSE };

struct walker {
    struct lexer lx;
    struct matcher m;
    struct word w;
    bool piece_start;
};

static void walker_init(struct walker *wk, const struct taxonomy *t, const char *text,
                        size_t len)
{
    wk->lx = (struct lexer){text, len, 0};
    wk->m = (struct matcher){.t = t, .ts = thread_state()};
    wk->piece_start = true;
}

/* Next event; *mask gets the themes that became final with it (at a
 * break or the end they belong to the piece just ended). */
static enum wk_event walk(struct walker *wk, uint32_t *mask)
{
    enum lx_kind k = lex_next(&wk->lx, &wk->w);
    switch (k) {
    case LX_END:
        *mask = matcher_flush(&wk->m);
        return WK_END;
    case LX_SOFT:
    case LX_HARD:
        *mask = matcher_flush(&wk->m);
        wk->piece_start = true;
        return k == LX_SOFT ? WK_PIECE : WK_CLAUSE;
    case LX_WORD:
        break;
    }
    int c = contrast_word(&wk->w);
    if (c == 1 || (c == 2 && wk->piece_start)) {
        *mask = matcher_flush(&wk->m);
        wk->piece_start = true;
        return WK_CLAUSE;
    }
    wk->piece_start = false;
    *mask = matcher_push(&wk->m, &wk->w);
    return WK_WORD;
}

uint32_t themes_match(const struct taxonomy *t, const char *text, size_t len)
{
    if (!t || !text)
        return 0;
    struct walker wk;
    walker_init(&wk, t, text, len);
    uint32_t all = 0, mask;
    while (walk(&wk, &mask) != WK_END)
        all |= mask;
    return all | mask;
}

/* ---- aspects ---------------------------------------------------------------- */

struct piece {
    size_t start, end;
    uint32_t mask;
};

struct aspect_state {
    const char *text;
    clause_scorer score;
    void *ctx;
    struct piece p[PIECES_MAX];
    size_t np;
    struct piece cur;           /* cur.start == SIZE_MAX: no word yet */
    float sum[THEMES_MAX];
    uint32_t cnt[THEMES_MAX];
};

static float score_of(const struct aspect_state *st, size_t start, size_t end)
{
    if (!st->score)
        return 0;
    float s = st->score(st->text + start, end - start, st->ctx);
    return isfinite(s) ? s : 0;
}

static void end_piece(struct aspect_state *st)
{
    if (st->cur.start == SIZE_MAX)
        return;
    if (st->np < PIECES_MAX) {
        st->p[st->np++] = st->cur;
    } else {
        st->p[st->np - 1].end = st->cur.end;
        st->p[st->np - 1].mask |= st->cur.mask;
    }
    st->cur = (struct piece){.start = SIZE_MAX};
}

static void end_clause(struct aspect_state *st)
{
    end_piece(st);
    bool have_clause = false;
    float clause = 0;
    for (size_t i = 0; i < st->np; i++) {
        const struct piece *pc = &st->p[i];
        if (!pc->mask)
            continue;
        float s = score_of(st, pc->start, pc->end);
        if (s == 0 && st->np > 1) {
            if (!have_clause) {
                clause = score_of(st, st->p[0].start, st->p[st->np - 1].end);
                have_clause = true;
            }
            s = clause;
        }
        for (unsigned b = 0; b < THEMES_MAX; b++)
            if (pc->mask & (UINT32_C(1) << b)) {
                st->sum[b] += s;
                st->cnt[b]++;
            }
    }
    st->np = 0;
}

size_t themes_aspects(const struct taxonomy *t, const char *text, size_t len,
                      clause_scorer score, void *ctx, struct aspect *out, size_t max)
{
    if (!t || !text)
        return 0;
    struct aspect_state st = {.text = text, .score = score, .ctx = ctx,
                              .cur = {.start = SIZE_MAX}};
    struct walker wk;
    walker_init(&wk, t, text, len);
    enum wk_event ev;
    do {
        uint32_t mask;
        ev = walk(&wk, &mask);
        if (ev == WK_WORD) {
            if (st.cur.start == SIZE_MAX)
                st.cur.start = wk.w.start;
            st.cur.end = wk.w.end;
        }
        st.cur.mask |= mask;    /* a break's themes belong to the piece it ends */
        if (ev == WK_PIECE)
            end_piece(&st);
        else if (ev == WK_CLAUSE || ev == WK_END)
            end_clause(&st);
    } while (ev != WK_END);
    size_t n = 0;
    for (unsigned b = 0; b < THEMES_MAX && n < max; b++)
        if (st.cnt[b])
            out[n++] = (struct aspect){.theme = (uint8_t)b,
                                       .sentiment = st.sum[b] / (float)st.cnt[b]};
    return n;
}

/* ---- tokens ----------------------------------------------------------------- */

size_t text_tokens(const char *text, size_t len, char (*tok)[THEMES_TOKEN_LEN], size_t max)
{
    if (!text || max == 0)
        return 0;
    struct thread_state *ts = thread_state();
    struct lexer lx = {text, len, 0};
    struct word w;
    size_t n = 0;
    bool brk = false;           /* a break waits to be written */
    enum lx_kind k;
    while ((k = lex_next(&lx, &w)) != LX_END) {
        char stem[WORD_CAP];
        size_t sl = 0;
        if (k == LX_WORD && !w.toolong)
            sl = stem_word(ts, w.fold, w.flen, stem);
        if (k != LX_WORD || sl == 0 || sl >= THEMES_TOKEN_LEN) {
            brk = n > 0;
            continue;
        }
        if (brk) {
            if (n + 1 >= max)
                break;          /* a break needs a word after it */
            tok[n++][0] = '\0';
            brk = false;
        }
        memcpy(tok[n], stem, sl + 1);
        if (++n == max)
            break;
    }
    return n;
}

/* ---- emerging phrases --------------------------------------------------------- */

static double o_ln_o_e(double o, double e)
{
    return o > 0 ? o * log(o / e) : 0;
}

double emerging_g2(double a, double N, double b, double M)
{
    if (!isfinite(a) || !isfinite(N) || !isfinite(b) || !isfinite(M) || N <= 0 || M <= 0 ||
        a < 0 || b < 0 || a > N || b > M)
        return 0;
    double T = N + M, c1 = a + b, c2 = T - c1;
    double g = 0;
    if (c1 > 0)
        g += o_ln_o_e(a, N * c1 / T) + o_ln_o_e(b, M * c1 / T);
    if (c2 > 0)
        g += o_ln_o_e(N - a, N * c2 / T) + o_ln_o_e(M - b, M * c2 / T);
    g = g > 0 ? 2 * g : 0;      /* rounding can leave a hair below 0 */
    return a * M >= b * N ? g : -g;
}

/* Sorted (C locale) for bsearch; a test checks the order. Folded forms,
 * apostrophes as '. */
CXM_TESTABLE const char *const STOP_WORDS[] = {
    "a", "about", "above", "after", "again", "against", "all", "almost",
    "along", "already", "also", "although", "always", "am", "among", "an",
    "and", "another", "any", "anyone", "anything", "are", "aren't", "around",
    "as", "at", "away", "be", "became", "because", "been", "before",
    "being", "below", "between", "both", "but", "by", "can", "can't",
    "cannot", "could", "couldn't", "did", "didn't", "do", "does", "doesn't",
    "doing", "don't", "done", "down", "during", "each", "either", "else",
    "enough", "etc", "even", "ever", "every", "everything", "few", "for",
    "from", "further", "get", "gets", "getting", "got", "gotten", "had",
    "hadn't", "has", "hasn't", "have", "haven't", "having", "he", "he'd",
    "he'll", "he's", "her", "here", "here's", "hers", "herself", "him",
    "himself", "his", "how", "how's", "however", "i", "i'd", "i'll",
    "i'm", "i've", "if", "in", "into", "is", "isn't", "it",
    "it'd", "it'll", "it's", "its", "itself", "just", "least", "less",
    "let", "let's", "like", "lot", "lots", "made", "make", "many",
    "may", "me", "might", "more", "most", "much", "must", "mustn't",
    "my", "myself", "neither", "no", "nor", "not", "now", "of",
    "off", "often", "on", "once", "one", "only", "onto", "or",
    "other", "others", "ought", "our", "ours", "ourselves", "out", "over",
    "own", "per", "quite", "rather", "really", "said", "same", "say",
    "says", "shall", "shan't", "she", "she'd", "she'll", "she's", "should",
    "shouldn't", "since", "so", "some", "something", "still", "such", "than",
    "that", "that's", "the", "their", "theirs", "them", "themselves", "then",
    "there", "there's", "these", "they", "they'd", "they'll", "they're", "they've",
    "thing", "things", "this", "those", "though", "through", "thus", "to",
    "too", "toward", "towards", "under", "until", "up", "upon", "us",
    "very", "via", "was", "wasn't", "we", "we'd", "we'll", "we're",
    "we've", "well", "were", "weren't", "what", "what's", "whatever", "when",
    "when's", "where", "where's", "whereas", "whether", "which", "while", "who",
    "who's", "whom", "whose", "why", "why's", "will", "with", "within",
    "without", "won't", "would", "wouldn't", "yet", "you", "you'd", "you'll",
    "you're", "you've", "your", "yours", "yourself", "yourselves",
};
CXM_TESTABLE const size_t STOP_WORDS_N = sizeof STOP_WORDS / sizeof STOP_WORDS[0];

static int stop_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

/* May a phrase begin or end with this word? Not a stop word, a number or
 * a single character. */
static bool edge_word(const struct word *w)
{
    if (w->flen < 2)
        return false;
    size_t digits = 0;
    while (digits < w->flen && w->fold[digits] >= '0' && w->fold[digits] <= '9')
        digits++;
    if (digits == w->flen)
        return false;
    return !bsearch(w->fold, STOP_WORDS, STOP_WORDS_N, sizeof *STOP_WORDS, stop_cmp);
}

struct phrase {
    const char *key, *disp;
    uint32_t klen;
    uint8_t nwords, nex;
    uint32_t count[2];          /* by enum phrases_period */
    uint64_t serial;            /* last comment that counted it */
    uint64_t ex[EMERGING_EXAMPLES];
};

struct phrases {
    struct strmap *map;         /* key -> e[] index */
    struct arena mem;           /* keys and display forms */
    struct phrase *e;
    size_t n, cap, max;
    uint64_t comments[2], serial, dropped;
    bool baseline_started;
};

struct phrases *phrases_new(size_t max_phrases)
{
    struct phrases *p = cxm_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (!(p->map = strmap_new())) {
        free(p);
        return NULL;
    }
    p->max = max_phrases ? max_phrases : EMERGING_PHRASES_DEFAULT;
    if (p->max > UINT32_MAX - 1)
        p->max = UINT32_MAX - 1;
    return p;
}

void phrases_free(struct phrases *p)
{
    if (!p)
        return;
    strmap_free(p->map);
    arena_free(&p->mem);
    free(p->e);
    free(p);
}

uint64_t phrases_comments(const struct phrases *p, enum phrases_period period)
{
    return period == PHRASES_BASELINE ? p->comments[1] : p->comments[0];
}

size_t phrases_count(const struct phrases *p)
{
    return p->n;
}

uint64_t phrases_dropped(const struct phrases *p)
{
    return p->dropped;
}

/* A word of the phrase window. */
struct pword {
    char stem[WORD_CAP], fold[WORD_CAP];
    size_t slen, flen;
    bool edge;
};

/* Counts the phrase of the n window words ending at the last one. */
static int count_phrase(struct phrases *p, int per, const struct pword *win, size_t n,
                        uint64_t comment_id)
{
    char key[PHRASE_WORDS * WORD_CAP], disp[PHRASE_WORDS * WORD_CAP];
    size_t kl = 0, dl = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            key[kl++] = ' ';
            disp[dl++] = ' ';
        }
        memcpy(key + kl, win[i].stem, win[i].slen);
        kl += win[i].slen;
        memcpy(disp + dl, win[i].fold, win[i].flen);
        dl += win[i].flen;
    }
    uint32_t idx;
    if (!strmap_get(p->map, key, kl, &idx)) {
        if (per == 1)
            return CXM_OK;      /* not in the current period: cannot be rising */
        if (p->n >= p->max) {
            p->dropped++;
            return CXM_OK;
        }
        char *k = arena_strndup(&p->mem, key, kl), *d = arena_strndup(&p->mem, disp, dl);
        if (!k || !d || cxm_grow((void **)&p->e, &p->cap, p->n + 1, sizeof *p->e) ||
            strmap_put(p->map, k, kl, (uint32_t)p->n))
            return CXM_ENOMEM;
        p->e[p->n] = (struct phrase){.key = k, .disp = d, .klen = (uint32_t)kl,
                                     .nwords = (uint8_t)n, .serial = UINT64_MAX};
        idx = (uint32_t)p->n++;
    }
    struct phrase *ph = &p->e[idx];
    if (ph->serial == p->serial)
        return CXM_OK;          /* once per comment */
    ph->serial = p->serial;
    ph->count[per]++;
    if (per == 0 && ph->nex < EMERGING_EXAMPLES)
        ph->ex[ph->nex++] = comment_id;
    return CXM_OK;
}

int phrases_add(struct phrases *p, enum phrases_period period, const char *text, size_t len,
                uint64_t comment_id)
{
    if (period != PHRASES_CURRENT && period != PHRASES_BASELINE)
        return CXM_EINVAL;
    int per = period == PHRASES_BASELINE;
    if (per == 0 && p->baseline_started)
        return CXM_ECONFLICT;
    if (per == 1)
        p->baseline_started = true;
    struct thread_state *ts = thread_state();
    if (!ts)
        return CXM_ENOMEM;      /* unstemmed keys would not meet stemmed ones */
    p->serial++;
    p->comments[per]++;
    if (!text)
        return CXM_OK;
    struct lexer lx = {text, len, 0};
    struct word w;
    struct pword win[PHRASE_WORDS];
    size_t nw = 0;
    enum lx_kind k;
    while ((k = lex_next(&lx, &w)) != LX_END) {
        if (k != LX_WORD || w.toolong) {
            nw = 0;
            continue;
        }
        if (nw == PHRASE_WORDS) {
            memmove(win, win + 1, (PHRASE_WORDS - 1) * sizeof *win);
            nw--;
        }
        struct pword *pw = &win[nw++];
        memcpy(pw->fold, w.fold, w.flen + 1);
        pw->flen = w.flen;
        pw->slen = stem_word(ts, w.fold, w.flen, pw->stem);
        pw->edge = edge_word(&w);
        if (!pw->edge)
            continue;
        for (size_t n = 1; n <= nw; n++) {
            if (!win[nw - n].edge)
                continue;
            int rc = count_phrase(p, per, win + nw - n, n, comment_id);
            if (rc)
                return rc;
        }
    }
    return CXM_OK;
}

struct cand {
    double g2;
    uint32_t count, idx;
    const char *key;
};

static int cand_cmp(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    if (a->g2 != b->g2)
        return a->g2 > b->g2 ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->key, b->key);
}

/* Marks the candidates held in candidate c that it accounts for (3/4 of
 * their comments or more). pos[i]: 1 + candidate index of phrase i, or 0. */
static void mark_held(const struct phrases *p, const struct cand *c, const uint32_t *pos,
                      bool *held)
{
    const struct phrase *ph = &p->e[c->idx];
    size_t start[PHRASE_WORDS + 1], nw = 0;
    start[nw++] = 0;
    for (size_t i = 0; i < ph->klen && nw < PHRASE_WORDS; i++)
        if (ph->key[i] == ' ')
            start[nw++] = i + 1;
    start[nw] = ph->klen + 1;   /* as if a space followed the last word */
    for (size_t len = 1; len < nw; len++)
        for (size_t from = 0; from + len <= nw; from++) {
            size_t b = start[from], e = start[from + len] - 1;
            uint32_t sub;
            if (!strmap_get(p->map, ph->key + b, e - b, &sub) || !pos[sub])
                continue;
            if ((uint64_t)ph->count[0] * 4 >= (uint64_t)p->e[sub].count[0] * 3)
                held[pos[sub] - 1] = true;
        }
}

int phrases_top(const struct phrases *p, const struct emerging_opts *opts, struct emerging *out,
                size_t k, size_t *n)
{
    *n = 0;
    double min_g2 = opts && opts->min_g2 > 0 ? opts->min_g2 : EMERGING_G2_MIN;
    uint32_t min_count = opts && opts->min_count ? opts->min_count : EMERGING_COUNT_MIN;
    double N = (double)p->comments[0], M = (double)p->comments[1];
    if (p->n == 0 || k == 0 || N == 0 || M == 0)
        return CXM_OK;
    struct cand *c = cxm_malloc(p->n * sizeof *c);
    uint32_t *pos = cxm_calloc(p->n, sizeof *pos);
    bool *held = cxm_calloc(p->n, sizeof *held);
    if (!c || !pos || !held) {
        free(c);
        free(pos);
        free(held);
        return CXM_ENOMEM;
    }
    size_t nc = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct phrase *ph = &p->e[i];
        double a = ph->count[0], b = ph->count[1];
        if (ph->count[0] < min_count || a * M <= b * N)
            continue;
        double g = emerging_g2(a, N, b, M);
        if (g < min_g2)
            continue;
        c[nc] = (struct cand){.g2 = g, .count = ph->count[0], .idx = (uint32_t)i,
                              .key = ph->key};
        pos[i] = (uint32_t)++nc;
    }
    for (size_t i = 0; i < nc; i++)
        if (p->e[c[i].idx].nwords > 1)
            mark_held(p, &c[i], pos, held);
    size_t o = 0;
    for (size_t i = 0; i < nc; i++)
        if (!held[i])
            c[o++] = c[i];
    qsort(c, o, sizeof *c, cand_cmp);
    for (size_t i = 0; i < o && i < k; i++) {
        const struct phrase *ph = &p->e[c[i].idx];
        struct emerging *em = &out[i];
        *em = (struct emerging){.phrase = ph->disp, .key = ph->key, .count = ph->count[0],
                                .base_count = ph->count[1], .rate = ph->count[0] / N,
                                .base_rate = ph->count[1] / M, .g2 = c[i].g2,
                                .n_examples = ph->nex};
        memcpy(em->examples, ph->ex, sizeof em->examples);
        *n = i + 1;
    }
    free(c);
    free(pos);
    free(held);
    return CXM_OK;
}

/* ---- pain points ------------------------------------------------------------ */

void pain_add(struct pain_acc *a, double sentiment)
{
    double s = isfinite(sentiment) ? sentiment : 0;
    a->mentions++;
    if (s < PAIN_NEGATIVE)
        a->negative++;
    if (s < 0)
        a->neg_mass -= s;
    a->sent_sum += s;
}

void pain_merge(struct pain_acc *into, const struct pain_acc *a)
{
    into->mentions += a->mentions;
    into->negative += a->negative;
    into->neg_mass += a->neg_mass;
    into->sent_sum += a->sent_sum;
}

double pain_score(const struct pain_acc *a)
{
    return a->neg_mass;
}

/* Does theme i rank before theme j? */
static bool pain_before(const struct pain_acc *acc, size_t i, size_t j)
{
    double pi = pain_score(&acc[i]), pj = pain_score(&acc[j]);
    if (pi != pj)
        return pi > pj;
    if (acc[i].negative != acc[j].negative)
        return acc[i].negative > acc[j].negative;
    return i < j;
}

size_t pain_rank(const struct pain_acc *acc, size_t n, uint8_t *order)
{
    if (n > THEMES_MAX)
        n = THEMES_MAX;
    size_t hurt = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && pain_before(acc, i, order[j - 1])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint8_t)i;
        hurt += pain_score(&acc[i]) > 0;
    }
    return hurt;
}

struct metric_change pain_trend(const struct pain_acc *prev, uint64_t comments_prev,
                                const struct pain_acc *cur, uint64_t comments_cur)
{
    return pct_change(prev->negative, comments_prev, cur->negative, comments_cur);
}
