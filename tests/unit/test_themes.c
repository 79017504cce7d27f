/* test_themes.c - the default taxonomy on realistic CX comments (each
 * theme, inflections, accents and case, words that must not match),
 * multi-word and exact terms, taxonomy errors, aspect sentiment with a
 * toy scorer, tokens, the G2 statistic against an independent formula,
 * emerging phrases on a synthetic stream, pain points, threads, and
 * random bytes and random UTF-8 through every entry point. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/themes.h"

extern const char *const STOP_WORDS[];
extern const size_t STOP_WORDS_N;

/* ---- helpers ------------------------------------------------------------ */

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

static struct taxonomy *tx_default(void)
{
    struct taxonomy *t = NULL;
    struct cxm_err err = {0};
    int rc = taxonomy_default(&t, &err);
    cr_assert_eq(rc, CXM_OK, "default taxonomy: %s", err.msg);
    return t;
}

static struct taxonomy *tx_of(const char *json)
{
    struct taxonomy *t = NULL;
    struct cxm_err err = {0};
    int rc = taxonomy_parse(json, strlen(json), &t, &err);
    cr_assert_eq(rc, CXM_OK, "parse: %s (field %s)", err.msg, err.field);
    return t;
}

static uint32_t bit(const struct taxonomy *t, const char *id)
{
    int i = taxonomy_find(t, id);
    cr_assert_geq(i, 0, "no theme %s", id);
    return UINT32_C(1) << i;
}

static uint32_t match(const struct taxonomy *t, const char *s)
{
    return themes_match(t, s, strlen(s));
}

static void assert_theme(const struct taxonomy *t, const char *id, const char *s)
{
    cr_assert(match(t, s) & bit(t, id), "\"%s\" should be %s (mask %#x)", s, id, match(t, s));
}

static void assert_not_theme(const struct taxonomy *t, const char *id, const char *s)
{
    cr_assert_not(match(t, s) & bit(t, id), "\"%s\" should not be %s (mask %#x)", s, id,
                  match(t, s));
}

/* ---- the default taxonomy ------------------------------------------------- */

Test(themes, default_has_the_eleven_cx_themes)
{
    struct taxonomy *t = tx_default();
    static const char *ids[] = {"delivery", "price",   "staff",         "speed",
                                "quality",  "website", "billing",       "returns",
                                "communication", "store", "support"};
    cr_assert_eq(taxonomy_count(t), 11);
    for (size_t i = 0; i < 11; i++) {
        cr_assert_str_eq(taxonomy_id(t, i), ids[i]);
        cr_assert_eq(taxonomy_find(t, ids[i]), (int)i);
    }
    cr_assert_str_eq(taxonomy_name(t, 0), "Delivery & shipping");
    cr_assert_null(taxonomy_id(t, 11));
    cr_assert_eq(taxonomy_find(t, "nope"), -1);
    /* the canonical JSON compiles to the same taxonomy */
    struct taxonomy *t2 = tx_of(taxonomy_json(t));
    cr_assert_eq(taxonomy_count(t2), 11);
    cr_assert_str_eq(taxonomy_json(t2), taxonomy_json(t));
    cr_assert_eq(match(t2, "the courier was rude"), match(t, "the courier was rude"));
    taxonomy_free(t2);
    taxonomy_free(t);
}

struct example {
    const char *theme, *text;
};

static const struct example POSITIVE[] = {
    {"delivery", "My parcel was delivered two days late."},
    {"delivery", "Deliveries are always on time, great job"},
    {"delivery", "Free shipping and it arrived the next day"},
    {"delivery", "The courier left it in the rain"},
    {"delivery", "Package was shipped to the wrong address"},
    {"delivery", "Delivery driver threw the box over the fence"},
    {"delivery", "Still waiting for my order to arrive, tracking hasn't updated"},
    {"price", "Way too expensive for what you get"},
    {"price", "Great value for money!"},
    {"price", "Prices have gone up again"},
    {"price", "Cheaper than the competition and the discount code worked"},
    {"price", "Overpriced coffee, total rip-off"},
    {"price", "Not worth the cost"},
    {"staff", "The staff were so rude to my mother"},
    {"staff", "Very friendly cashier"},
    {"staff", "The waitress was lovely and polite"},
    {"staff", "Employees ignored us, appalling attitude"},
    {"staff", "The agent I spoke to was unhelpful"},
    {"staff", "Unfriendly and dismissive manager"},
    {"speed", "We waited 40 minutes for a table"},
    {"speed", "Queues were huge and the tills were slow"},
    {"speed", "Quick and painless"},
    {"speed", "I was on hold for an hour"},
    {"speed", "Service was really slow, it took forever"},
    {"speed", "Delayed again, no apology"},
    {"quality", "The product broke after two days"},
    {"quality", "Poor quality material, the seams fell apart"},
    {"quality", "Arrived damaged and faulty"},
    {"quality", "Food was cold and tasted stale"},
    {"quality", "Feels cheaply made, very flimsy"},
    {"quality", "It stopped working within a week"},
    {"website", "The website keeps crashing at checkout"},
    {"website", "Your app is so clunky"},
    {"website", "Couldn't log in, password reset never came"},
    {"website", "Easy to use site, very intuitive"},
    {"website", "Error message every time I click the button"},
    {"billing", "I was charged twice for the same order"},
    {"billing", "Billing is a mess, the invoice was wrong"},
    {"billing", "Overcharged on my credit card"},
    {"billing", "The payment failed but money left my account"},
    {"billing", "I paid for express and got standard"},
    {"returns", "Still waiting for my refund"},
    {"returns", "They refunded me within a day"},
    {"returns", "Returns were easy, I sent it back for free"},
    {"returns", "The return label wasn't in the box"},
    {"returns", "Wanted to return it but the return policy is 14 days"},
    {"returns", "I want my money back"},
    {"communication", "Nobody called me back"},
    {"communication", "No email, no update, nothing"},
    {"communication", "They never replied to my messages"},
    {"communication", "I was not informed about the delay"},
    {"communication", "Poor communication from start to finish"},
    {"store", "The toilets were filthy"},
    {"store", "Really clean and tidy store"},
    {"store", "Dirty tables and sticky floors"},
    {"store", "Cleanliness of the shop floor was poor, aisles blocked"},
    {"store", "Lovely atmosphere in the restaurant"},
    {"store", "The caf\xc3\xa9 smelled of bleach"},
    {"support", "Customer service resolved it in one call"},
    {"support", "The issue is still unresolved after 3 weeks"},
    {"support", "Support team fixed my problem quickly"},
    {"support", "Raised a ticket and a complaint, nothing"},
    {"support", "Live chat sorted out my problem"},
    {"support", "Escalated twice and still no resolution"},
};

Test(themes, each_default_theme_matches_realistic_comments)
{
    struct taxonomy *t = tx_default();
    for (size_t i = 0; i < sizeof POSITIVE / sizeof POSITIVE[0]; i++)
        assert_theme(t, POSITIVE[i].theme, POSITIVE[i].text);
    taxonomy_free(t);
}

Test(themes, inflections_meet_their_terms)
{
    struct taxonomy *t = tx_default();
    static const struct example forms[] = {
        {"delivery", "delivered"}, {"delivery", "deliveries"}, {"delivery", "delivering"},
        {"delivery", "shipping"},  {"delivery", "shipped"},    {"delivery", "couriers"},
        {"returns", "refunded"},   {"returns", "refunds"},     {"returns", "refunding"},
        {"staff", "rude"},         {"staff", "rudeness"},      {"staff", "rudely"},
        {"speed", "waited"},       {"speed", "waiting"},       {"speed", "waits"},
        {"speed", "queued"},       {"speed", "queuing"},       {"speed", "quickly"},
        {"price", "pricing"},      {"price", "prices"},        {"billing", "charged"},
        {"billing", "charges"},    {"billing", "payments"},    {"store", "cleaning"},
        {"support", "resolved"},   {"support", "complaints"},  {"quality", "defects"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        assert_theme(t, forms[i].theme, forms[i].text);
    taxonomy_free(t);
}

Test(themes, case_accents_and_width_are_folded)
{
    struct taxonomy *t = tx_default();
    uint32_t store = bit(t, "store");
    cr_assert_eq(match(t, "CAF\xc3\x89"), store);              /* CAFÉ */
    cr_assert_eq(match(t, "Caf\xc3\xa9"), store);              /* Café */
    cr_assert_eq(match(t, "cafe"), store);
    cr_assert_eq(match(t, "CAFE\xcc\x81"), store);             /* E + combining acute */
    cr_assert_eq(match(t, "\xef\xbc\xa4\xef\xbc\xa5\xef\xbc\xac\xef\xbc\xa9\xef\xbc\xb6"
                          "\xef\xbc\xa5\xef\xbc\xb2\xef\xbc\xb9"),  /* fullwidth DELIVERY */
                 bit(t, "delivery"));
    cr_assert_eq(match(t, "DELIVERED"), bit(t, "delivery"));
    cr_assert_eq(match(t, "deli\xc2\xadvery"), bit(t, "delivery"));   /* soft hyphen */
    cr_assert_eq(match(t, "R\xc3\xbc" "de"), bit(t, "staff"));         /* Rüde */
    cr_assert_eq(match(t, "the staff\xe2\x80\x99s attitude"), bit(t, "staff"));
    taxonomy_free(t);
}

Test(themes, words_that_must_not_match)
{
    struct taxonomy *t = tx_default();
    assert_not_theme(t, "staff", "I told a friend about it");       /* friendly -> friend */
    assert_not_theme(t, "staff", "Bought some stuff for my friends");
    assert_not_theme(t, "website", "Apple pie was nice");            /* app */
    assert_not_theme(t, "website", "A sight to behold");
    assert_not_theme(t, "delivery", "Things are looking up");        /* ups -> up */
    assert_not_theme(t, "returns", "We will definitely return");
    assert_not_theme(t, "returns", "Returning customer, love it");
    assert_not_theme(t, "price", "A prized possession");
    assert_not_theme(t, "price", "The experience was priceless");
    assert_not_theme(t, "staff", "I am helping my friend");
    assert_not_theme(t, "speed", "Lastly, the weight was fine");     /* no "last"/"wait" */
    assert_not_theme(t, "billing", "Billy and I had fun");
    cr_assert_eq(match(t, "Thank you so much!"), 0);
    cr_assert_eq(match(t, "Would recommend to family and friends"), 0);
    cr_assert_eq(match(t, ""), 0);
    cr_assert_eq(themes_match(t, NULL, 0), 0);
    taxonomy_free(t);
}

Test(themes, multi_word_terms_need_their_words_in_order_and_unbroken)
{
    struct taxonomy *t = tx_of("{\"themes\":[{\"id\":\"late\",\"terms\":[\"late parcel\"]},"
                               "{\"id\":\"parcel\",\"terms\":[\"parcel\"]},"
                               "{\"id\":\"ux\",\"terms\":[\"user friendly\", \"easy to use\"]},"
                               "{\"id\":\"nice\",\"terms\":[\"friendly\"]}]}");
    uint32_t late = 1, parcel = 2, ux = 4, nice = 8;
    cr_assert_eq(match(t, "another late parcel"), late);        /* the phrase hides "parcel" */
    cr_assert_eq(match(t, "Late parcels, again"), late);
    cr_assert_eq(match(t, "the parcel was late"), parcel);
    cr_assert_eq(match(t, "it was late. Parcel fine"), parcel);   /* no phrase across "." */
    cr_assert_eq(match(t, "late, parcel"), parcel);
    cr_assert_eq(match(t, "late but parcel"), parcel);
    cr_assert_eq(match(t, "The app is user-friendly"), ux);
    cr_assert_eq(match(t, "user friendly and friendly staff"), ux | nice);
    cr_assert_eq(match(t, "so easy to use"), ux);
    cr_assert_eq(match(t, "easy, to use"), 0);
    cr_assert_eq(match(t, "a late late parcel"), late);
    taxonomy_free(t);

    struct taxonomy *d = tx_default();
    cr_assert_eq(match(d, "value for money"), bit(d, "price"));
    cr_assert_eq(match(d, "the app is user friendly"), bit(d, "website"));
    cr_assert_eq(match(d, "I was on hold"), bit(d, "speed"));
    cr_assert_eq(match(d, "called the call centre"),
                 bit(d, "communication") | bit(d, "support"));
    taxonomy_free(d);
}

Test(themes, exact_terms_skip_the_stemmer)
{
    struct taxonomy *t = tx_of("{\"themes\":[{\"id\":\"a\",\"terms\":[\"=friendly\"]},"
                               "{\"id\":\"b\",\"terms\":[\"friendly\"]},"
                               "{\"id\":\"c\",\"terms\":[\"=free returns\"]}]}");
    cr_assert_eq(match(t, "FRIENDLY people"), 3);
    cr_assert_eq(match(t, "my friend"), 2);
    cr_assert_eq(match(t, "free returns"), 4);
    cr_assert_eq(match(t, "free return"), 0);
    taxonomy_free(t);
}

/* ---- taxonomy errors -------------------------------------------------------- */

static void assert_parse_error(const char *json, int code, long index, const char *field)
{
    struct taxonomy *t = (struct taxonomy *)1;
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = taxonomy_parse(json, strlen(json), &t, &err);
    cr_assert_eq(rc, code, "%s: rc %d (%s)", json, rc, err.msg);
    cr_assert_null(t);
    cr_assert_eq(err.code, code);
    cr_assert_eq(err.index, index, "%s: index %ld (%s)", json, err.index, err.msg);
    cr_assert_str_eq(err.field, field, "%s: field %s (%s)", json, err.field, err.msg);
    cr_assert_neq(err.msg[0], '\0');
}

Test(themes, taxonomy_errors_name_the_theme_and_field)
{
    assert_parse_error("{\"themes\":[", CXM_EINVAL, -1, "");
    assert_parse_error("[]", CXM_EINVAL, -1, "themes");
    assert_parse_error("{\"themes\":[]}", CXM_EINVAL, -1, "themes");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"x\"]},{\"terms\":[\"y\"]}]}",
                       CXM_EINVAL, 1, "id");
    assert_parse_error("{\"themes\":[{\"id\":\"Bad Id\",\"terms\":[\"x\"]}]}", CXM_EINVAL, 0,
                       "id");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"x\"]},"
                       "{\"id\":\"a\",\"terms\":[\"y\"]}]}",
                       CXM_EINVAL, 1, "id");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"name\":\"\",\"terms\":[\"x\"]}]}",
                       CXM_EINVAL, 0, "name");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[]}]}", CXM_EINVAL, 0, "terms");
    assert_parse_error("{\"themes\":[{\"id\":\"a\"}]}", CXM_EINVAL, 0, "terms");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"ok\",\"!!!\"]}]}", CXM_EINVAL, 0,
                       "terms[1]");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"ok\",7]}]}", CXM_EINVAL, 0,
                       "terms[1]");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"one two three four five\"]}]}",
                       CXM_EINVAL, 0, "terms[0]");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"late, parcel\"]}]}", CXM_EINVAL,
                       0, "terms[0]");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"=\"]}]}", CXM_EINVAL, 0,
                       "terms[0]");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"but\"]}]}", CXM_EINVAL, 0,
                       "terms[0]");
    assert_parse_error("{\"themes\":[\"a\"]}", CXM_EINVAL, 0, "themes");
    assert_parse_error("{\"themes\":[{\"id\":\"a\",\"terms\":[\"x\"],\"id\":\"b\"}]}", CXM_EINVAL,
                       -1, "");                 /* duplicate key */

    /* 33 themes: the 33rd does not fit in the mask */
    char buf[4096];
    size_t o = 0;
    o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"themes\":[");
    for (int i = 0; i < 33; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s{\"id\":\"t%d\",\"terms\":[\"w%d\"]}",
                              i ? "," : "", i, i);
    snprintf(buf + o, sizeof buf - o, "]}");
    assert_parse_error(buf, CXM_ETOOBIG, THEMES_MAX, "themes");

    /* 32 fit, and theme 31 is bit 31 */
    o = (size_t)snprintf(buf, sizeof buf, "{\"themes\":[");
    for (int i = 0; i < 32; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s{\"id\":\"t%d\",\"terms\":[\"w%d\"]}",
                              i ? "," : "", i, i);
    snprintf(buf + o, sizeof buf - o, "]}");
    struct taxonomy *t = tx_of(buf);
    cr_assert_eq(taxonomy_count(t), 32);
    cr_assert_eq(match(t, "w31 w0"), UINT32_C(0x80000001));
    taxonomy_free(t);
}

Test(themes, unknown_keys_are_ignored_and_names_default_to_ids)
{
    struct taxonomy *t = tx_of("{\"version\":2,\"themes\":[{\"id\":\"x-1\",\"colour\":\"red\","
                               "\"terms\":[\"zebra\"]}]}");
    cr_assert_str_eq(taxonomy_name(t, 0), "x-1");
    cr_assert_str_eq(taxonomy_json(t), "{\"themes\":[{\"id\":\"x-1\",\"name\":\"x-1\","
                                       "\"terms\":[\"zebra\"]}]}");
    cr_assert_eq(match(t, "Zebras!"), 1);
    taxonomy_free(t);
}

/* ---- aspects ---------------------------------------------------------------- */

/* A toy scorer: (positive words - negative words) / words counted. */
static float toy_score(const char *s, size_t n, void *ctx)
{
    static const char *pos[] = {"fast", "quick", "great", "friendly", "lovely", "good",
                                "excellent", "helpful", "polite", "easy", "clean"};
    static const char *neg[] = {"rude", "slow", "late", "terrible", "awful", "broken",
                                "dirty", "bad", "poor", "unhelpful", "cold"};
    int *calls = ctx;
    if (calls)
        (*calls)++;
    int p = 0, q = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && !((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
            i++;
        char w[32];
        size_t k = 0;
        while (i < n && (s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') {
            if (k < sizeof w - 1)
                w[k++] = (char)(s[i] | 0x20);
            i++;
        }
        w[k] = '\0';
        for (size_t j = 0; j < sizeof pos / sizeof pos[0]; j++)
            p += strcmp(w, pos[j]) == 0;
        for (size_t j = 0; j < sizeof neg / sizeof neg[0]; j++)
            q += strcmp(w, neg[j]) == 0;
    }
    return p + q ? (float)(p - q) / (float)(p + q) : 0.0f;
}

static float aspect_of(const struct taxonomy *t, const char *text, const char *id, bool *found)
{
    struct aspect a[THEMES_MAX];
    size_t n = themes_aspects(t, text, strlen(text), toy_score, NULL, a, THEMES_MAX);
    int want = taxonomy_find(t, id);
    for (size_t i = 0; i < n; i++)
        if (a[i].theme == want) {
            *found = true;
            return a[i].sentiment;
        }
    *found = false;
    return 0;
}

#define assert_aspect(t, text, id, cmp)                                                  \
    do {                                                                                 \
        bool found_;                                                                     \
        float s_ = aspect_of((t), (text), (id), &found_);                                \
        cr_assert(found_, "\"%s\": no %s aspect", (text), (id));                         \
        cr_assert(s_ cmp 0, "\"%s\": %s sentiment %g, want " #cmp " 0", (text), (id), s_); \
    } while (0)

Test(themes, aspects_split_at_contrast_words)
{
    struct taxonomy *t = tx_default();
    const char *s = "fast delivery but rude staff";
    struct aspect a[THEMES_MAX];
    size_t n = themes_aspects(t, s, strlen(s), toy_score, NULL, a, THEMES_MAX);
    /* delivery, staff and speed ("fast") */
    cr_assert_eq(n, 3);
    assert_aspect(t, s, "delivery", >);
    assert_aspect(t, s, "staff", <);
    cr_assert_float_eq(aspect_of(t, s, "delivery", &(bool){0}), 1.0f, 1e-6);
    cr_assert_float_eq(aspect_of(t, s, "staff", &(bool){0}), -1.0f, 1e-6);

    assert_aspect(t, "Delivery was quick, the staff were rude.", "delivery", >);
    assert_aspect(t, "Delivery was quick, the staff were rude.", "staff", <);
    assert_aspect(t, "Although the courier was late, the staff were lovely", "delivery", <);
    assert_aspect(t, "Although the courier was late, the staff were lovely", "staff", >);
    assert_aspect(t, "Great prices. However the website is awful!", "price", >);
    assert_aspect(t, "Great prices. However the website is awful!", "website", <);
    assert_aspect(t, "The food was cold; the staff friendly whereas the toilets were dirty",
                  "store", <);
    assert_aspect(t, "Cheap, yet the quality is poor", "quality", <);
    assert_aspect(t, "Cheap, yet the quality is poor", "price", ==);
    taxonomy_free(t);
}

Test(themes, a_neutral_piece_takes_its_clause_score)
{
    struct taxonomy *t = tx_default();
    assert_aspect(t, "The staff, who were lovely, helped me", "staff", >);
    assert_aspect(t, "Delivery, price and packaging were all excellent", "delivery", >);
    /* but not across a contrast word or a sentence */
    assert_aspect(t, "The staff. Lovely day.", "staff", ==);
    assert_aspect(t, "The staff but lovely", "staff", ==);
    /* a theme in two clauses: the mean */
    cr_assert_float_eq(aspect_of(t, "rude staff. friendly staff!", "staff", &(bool){0}), 0.0f,
                       1e-6);
    cr_assert_float_eq(aspect_of(t, "rude staff. friendly staff, good staff", "staff",
                                 &(bool){0}),
                       1.0f / 3.0f, 1e-6);
    taxonomy_free(t);
}

static float nan_score(const char *s, size_t n, void *ctx)
{
    (void)s;
    (void)n;
    (void)ctx;
    return NAN;
}

Test(themes, aspects_edge_cases)
{
    struct taxonomy *t = tx_default();
    struct aspect a[THEMES_MAX];
    const char *s = "rude staff, late parcel";
    cr_assert_eq(themes_aspects(t, s, strlen(s), nan_score, NULL, a, THEMES_MAX), 2);
    cr_assert_eq(a[0].sentiment, 0.0f);
    cr_assert_eq(themes_aspects(t, s, strlen(s), NULL, NULL, a, THEMES_MAX), 2);
    cr_assert_eq(a[0].theme, taxonomy_find(t, "delivery"));
    cr_assert_eq(a[1].theme, taxonomy_find(t, "staff"));
    cr_assert_eq(themes_aspects(t, s, strlen(s), toy_score, NULL, a, 1), 1);
    cr_assert_eq(a[0].theme, taxonomy_find(t, "delivery"));
    cr_assert_eq(themes_aspects(t, "hello there", 11, toy_score, NULL, a, THEMES_MAX), 0);
    cr_assert_eq(themes_aspects(t, NULL, 0, toy_score, NULL, a, THEMES_MAX), 0);
    /* the scorer sees only the pieces that matter, once each when not 0 */
    int calls = 0;
    s = "The staff were rude. Nice weather. Good value for money, lovely.";
    cr_assert_eq(themes_aspects(t, s, strlen(s), toy_score, &calls, a, THEMES_MAX), 2);
    cr_assert_eq(calls, 2);
    /* many pieces in one clause: merged past the limit, no overflow */
    char buf[8192];
    size_t o = 0;
    for (int i = 0; i < 200; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s, ", i % 2 ? "rude staff" : "hm");
    cr_assert_eq(themes_aspects(t, buf, o, toy_score, NULL, a, THEMES_MAX), 1);
    cr_assert_lt(a[0].sentiment, 0.0f);
    taxonomy_free(t);
}

/* ---- tokens ----------------------------------------------------------------- */

Test(themes, tokens_are_folded_stems_with_breaks)
{
    char tok[16][THEMES_TOKEN_LEN];
    const char *s = "  Deliveries were LATE, again!! Caf\xc3\xa9 staff\xe2\x80\x99s... ";
    size_t n = text_tokens(s, strlen(s), tok, 16);
    static const char *want[] = {"deliveri", "were", "late", "", "again", "", "cafe", "staff"};
    cr_assert_eq(n, 8);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(tok[i], want[i], "token %zu: %s", i, tok[i]);
    /* a break is never last, even when the buffer ends there */
    cr_assert_eq(text_tokens(s, strlen(s), tok, 4), 3);
    cr_assert_eq(text_tokens(s, strlen(s), tok, 5), 5);
    cr_assert_str_eq(tok[4], "again");
    /* "3.50" and "1,000" do not break; a 40-letter word does */
    s = "paid 3.50 for 1,000 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa items";
    n = text_tokens(s, strlen(s), tok, 16);
    static const char *want2[] = {"paid", "3", "50", "for", "1", "000", "", "item"};
    cr_assert_eq(n, 8);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(tok[i], want2[i], "token %zu: %s", i, tok[i]);
    cr_assert_eq(text_tokens("", 0, tok, 16), 0);
    cr_assert_eq(text_tokens("...", 3, tok, 16), 0);
}

Test(themes, stop_words_are_sorted_and_unique)
{
    for (size_t i = 1; i < STOP_WORDS_N; i++)
        cr_assert_lt(strcmp(STOP_WORDS[i - 1], STOP_WORDS[i]), 0, "%s before %s",
                     STOP_WORDS[i - 1], STOP_WORDS[i]);
}

/* ---- G2 ------------------------------------------------------------------- */

/* G2 by the entropy form 2 (sum O ln O - sum R ln R - sum C ln C + T ln T),
 * an algebraically different route from sum O ln(O/E). */
static double xlx(double x)
{
    return x > 0 ? x * log(x) : 0;
}

static double g2_entropy(double a, double N, double b, double M)
{
    double T = N + M;
    double g = 2 * (xlx(a) + xlx(N - a) + xlx(b) + xlx(M - b) - xlx(N) - xlx(M) -
                    xlx(a + b) - xlx(T - a - b) + xlx(T));
    return a / N >= b / M ? g : -g;
}

Test(themes, g2_matches_an_independent_formula)
{
    /* by hand: a=30 N=1000 b=10 M=1000: E = 20 for both phrase cells,
     * 980 for both others: 2 (30 ln 1.5 + 10 ln 0.5 + 970 ln(970/980) +
     * 990 ln(990/980)) = 10.669... */
    double want = 2 * (30 * log(1.5) + 10 * log(0.5) + 970 * log(970.0 / 980) +
                       990 * log(990.0 / 980));
    cr_assert_float_eq(emerging_g2(30, 1000, 10, 1000), want, 1e-9);
    cr_assert_float_eq(want, 10.6690, 1e-3);
    cr_assert_float_eq(emerging_g2(10, 1000, 30, 1000), -want, 1e-9);
    struct rng r = {7};
    for (int i = 0; i < 2000; i++) {
        double N = 1 + (double)(rng_next(&r) % 100000), M = 1 + (double)(rng_next(&r) % 100000);
        double a = (double)(rng_next(&r) % ((uint64_t)N + 1));
        double b = (double)(rng_next(&r) % ((uint64_t)M + 1));
        double got = emerging_g2(a, N, b, M), exp = g2_entropy(a, N, b, M);
        cr_assert(fabs(got - exp) <= 1e-6 * fmax(1, fabs(exp)), "a %g N %g b %g M %g: %g vs %g",
                  a, N, b, M, got, exp);
    }
    cr_assert_eq(emerging_g2(5, 100, 5, 100), 0.0);
    cr_assert_eq(emerging_g2(0, 100, 0, 100), 0.0);
    cr_assert_eq(emerging_g2(5, 0, 1, 100), 0.0);
    cr_assert_eq(emerging_g2(5, 100, 1, 0), 0.0);
    cr_assert_eq(emerging_g2(101, 100, 1, 100), 0.0);
    cr_assert_eq(emerging_g2(-1, 100, 1, 100), 0.0);
    cr_assert_eq(emerging_g2(NAN, 100, 1, 100), 0.0);
    cr_assert_eq(emerging_g2(1, INFINITY, 1, 100), 0.0);
    /* 5 of 100 against 0 of 100: 2 (5 ln 2 + 95 ln(95/97.5) + 100 ln(100/97.5)) */
    cr_assert_float_eq(emerging_g2(5, 100, 0, 100), 7.0597, 1e-3);
}

/* ---- emerging phrases --------------------------------------------------------- */

static const char *STABLE[] = {
    "Friendly staff and great prices",
    "The delivery was on time as usual",
    "Good value, will shop again",
    "Checkout was quick and the friendly staff helped",
    "Nothing special, fine overall",
    "Loved the new range of coffee",
    "Parking was easy and the store was clean",
    "Great prices but a long queue at the tills",
};
#define NSTABLE (sizeof STABLE / sizeof STABLE[0])

Test(themes, a_new_phrase_rises_and_a_stable_one_does_not)
{
    struct phrases *p = phrases_new(0);
    cr_assert_not_null(p);
    /* current period: the usual mix, the same shares as the baseline, with
     * a broken tracking link in 25 comments and a crashing app in 10 */
    for (uint64_t i = 0; i < 400; i++) {
        char buf[160];
        snprintf(buf, sizeof buf, "%s%s%s", STABLE[i % NSTABLE],
                 i % 16 == 3 ? ". Tracking link?" : "", i % 40 == 7 ? ". App crashed!" : "");
        cr_assert_eq(phrases_add(p, PHRASES_CURRENT, buf, strlen(buf), 1000 + i), CXM_OK);
    }
    cr_assert_eq(phrases_comments(p, PHRASES_CURRENT), 400);
    for (uint64_t i = 0; i < 600; i++) {
        const char *s = STABLE[(i * 5) % NSTABLE];
        cr_assert_eq(phrases_add(p, PHRASES_BASELINE, s, strlen(s), i), CXM_OK);
    }
    cr_assert_eq(phrases_comments(p, PHRASES_BASELINE), 600);
    /* the order is enforced */
    cr_assert_eq(phrases_add(p, PHRASES_CURRENT, "x", 1, 1), CXM_ECONFLICT);
    cr_assert_eq(phrases_add(p, (enum phrases_period)7, "x", 1, 1), CXM_EINVAL);

    struct emerging top[10];
    size_t n;
    cr_assert_eq(phrases_top(p, NULL, top, 10, &n), CXM_OK);
    /* "tracking link" holds "tracking" and "link"; "friendly staff" and
     * the other stable phrases do not rise */
    cr_assert_eq(n, 2, "%zu rising, first %s", n, n ? top[0].phrase : "-");
    cr_assert_str_eq(top[0].phrase, "tracking link");
    cr_assert_str_eq(top[0].key, "track link");
    cr_assert_eq(top[0].count, 25);
    cr_assert_eq(top[0].base_count, 0);
    cr_assert_float_eq(top[0].rate, 25.0 / 400, 1e-12);
    cr_assert_float_eq(top[0].base_rate, 0.0, 1e-12);
    cr_assert_float_eq(top[0].g2, emerging_g2(25, 400, 0, 600), 1e-9);
    cr_assert_eq(top[0].n_examples, EMERGING_EXAMPLES);
    cr_assert_eq(top[0].examples[0], 1003);
    cr_assert_eq(top[0].examples[1], 1019);
    cr_assert_eq(top[0].examples[2], 1035);
    cr_assert_str_eq(top[1].phrase, "app crashed");
    cr_assert_eq(top[1].count, 10);
    cr_assert_gt(top[0].g2, top[1].g2);
    cr_assert_geq(top[1].g2, EMERGING_G2_MIN);
    /* the stable phrase is counted alike in both periods */
    struct emerging_opts all = {.min_g2 = 1e-300, .min_count = 1};
    struct emerging every[200];
    cr_assert_eq(phrases_top(p, &all, every, 200, &n), CXM_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_neq(strcmp(every[i].phrase, "friendly staff"), 0);
    /* a stricter minimum count leaves the tracking link alone */
    struct emerging_opts o = {.min_count = 11};
    cr_assert_eq(phrases_top(p, &o, top, 10, &n), CXM_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(top[0].phrase, "tracking link");
    o.min_count = 26;
    cr_assert_eq(phrases_top(p, &o, top, 10, &n), CXM_OK);
    cr_assert_eq(n, 0);
    phrases_free(p);
}

Test(themes, phrases_count_comments_stems_and_edges)
{
    struct phrases *p = phrases_new(0);
    /* counted once per comment, by stem, shown as first seen */
    const char *c1 = "Late deliveries, late deliveries, late deliveries";
    const char *c2 = "late delivery";
    cr_assert_eq(phrases_add(p, PHRASES_CURRENT, c1, strlen(c1), 1), CXM_OK);
    cr_assert_eq(phrases_add(p, PHRASES_CURRENT, c2, strlen(c2), 2), CXM_OK);
    for (uint64_t i = 0; i < 5; i++)
        cr_assert_eq(phrases_add(p, PHRASES_CURRENT, "waste of money", 14, 10 + i), CXM_OK);
    cr_assert_eq(phrases_add(p, PHRASES_CURRENT, NULL, 0, 99), CXM_OK);
    for (uint64_t i = 0; i < 50; i++)
        cr_assert_eq(phrases_add(p, PHRASES_BASELINE, "all fine, the new thing", 23, i), CXM_OK);
    struct emerging top[8];
    size_t n;
    struct emerging_opts o = {.min_count = 2, .min_g2 = 1};
    cr_assert_eq(phrases_top(p, &o, top, 8, &n), CXM_OK);
    /* "waste of money" holds "waste" and "money"; "of money" is no phrase */
    cr_assert_eq(n, 2);
    cr_assert_str_eq(top[0].phrase, "waste of money");
    cr_assert_str_eq(top[0].key, "wast of money");
    cr_assert_eq(top[0].count, 5);
    cr_assert_str_eq(top[1].phrase, "late deliveries");
    cr_assert_str_eq(top[1].key, "late deliveri");
    cr_assert_eq(top[1].count, 2);
    cr_assert_eq(top[1].n_examples, 2);
    cr_assert_eq(phrases_comments(p, PHRASES_CURRENT), 8);
    /* baseline-only phrases are not stored */
    struct phrases *q = phrases_new(3);
    cr_assert_eq(phrases_add(q, PHRASES_CURRENT, "alpha beta gamma", 16, 1), CXM_OK);
    cr_assert_eq(phrases_count(q), 3);
    cr_assert_eq(phrases_dropped(q), 3);
    cr_assert_eq(phrases_add(q, PHRASES_BASELINE, "delta epsilon", 13, 2), CXM_OK);
    cr_assert_eq(phrases_count(q), 3);
    phrases_free(q);
    phrases_free(p);
}

/* ---- pain points ---------------------------------------------------------- */

Test(themes, pain_is_negative_mass_ranked_with_trend)
{
    struct pain_acc acc[4] = {{0}};
    for (int i = 0; i < 10; i++)
        pain_add(&acc[0], -0.5);        /* 10 complaints: pain 5 */
    for (int i = 0; i < 100; i++)
        pain_add(&acc[1], 0.8);         /* praised a lot: pain 0 */
    for (int i = 0; i < 4; i++)
        pain_add(&acc[2], -1.0);        /* pain 4 */
    pain_add(&acc[2], 1.0);             /* praise does not cancel */
    pain_add(&acc[3], -0.01);           /* not negative, small pain */
    pain_add(&acc[3], NAN);
    cr_assert_float_eq(pain_score(&acc[0]), 5.0, 1e-12);
    cr_assert_float_eq(pain_score(&acc[2]), 4.0, 1e-12);
    cr_assert_eq(acc[2].negative, 4);
    cr_assert_eq(acc[3].negative, 0);
    cr_assert_eq(acc[3].mentions, 2);
    uint8_t order[4];
    cr_assert_eq(pain_rank(acc, 4, order), 3);
    cr_assert_eq(order[0], 0);
    cr_assert_eq(order[1], 2);
    cr_assert_eq(order[2], 3);
    cr_assert_eq(order[3], 1);
    struct pain_acc m = acc[0];
    pain_merge(&m, &acc[2]);
    cr_assert_eq(m.mentions, 15);
    cr_assert_float_eq(pain_score(&m), 9.0, 1e-12);
    /* 14 of 100 comments negative before, 40 of 100 now: significant rise */
    struct pain_acc prev = {.mentions = 20, .negative = 14}, cur = {.mentions = 50, .negative = 40};
    struct metric_change c = pain_trend(&prev, 100, &cur, 100);
    cr_assert(c.has_value);
    cr_assert_float_eq(c.change, 26.0, 1e-9);
    cr_assert(c.significant);
    c = pain_trend(&prev, 0, &cur, 100);
    cr_assert_not(c.has_value);
}

/* ---- threads ---------------------------------------------------------------- */

struct thread_job {
    const struct taxonomy *t;
    uint32_t got[sizeof POSITIVE / sizeof POSITIVE[0]];
};

static void *thread_main(void *arg)
{
    struct thread_job *j = arg;
    for (int rep = 0; rep < 50; rep++)
        for (size_t i = 0; i < sizeof POSITIVE / sizeof POSITIVE[0]; i++)
            j->got[i] = match(j->t, POSITIVE[i].text);
    return NULL;
}

Test(themes, one_taxonomy_many_threads)
{
    struct taxonomy *t = tx_default();
    struct thread_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].t = t;
        cr_assert_eq(pthread_create(&th[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_join(th[i], NULL), 0);
    for (size_t k = 0; k < sizeof POSITIVE / sizeof POSITIVE[0]; k++)
        for (int i = 0; i < 4; i++)
            cr_assert_eq(jobs[i].got[k], match(t, POSITIVE[k].text));
    /* released and re-created in this thread: same answers */
    themes_thread_release();
    themes_thread_release();
    cr_assert(match(t, "delivered") & bit(t, "delivery"));
    taxonomy_free(t);
}

/* The per-thread cache remembers lookups per taxonomy: two taxonomies in
 * turn, and one freed and replaced (perhaps at the same address), must
 * each get their own answers. */
Test(themes, taxonomies_in_turn_share_the_thread_cache)
{
    struct taxonomy *a = tx_of("{\"themes\":[{\"id\":\"a\",\"terms\":[\"parcel\"]}]}");
    struct taxonomy *b = tx_of("{\"themes\":[{\"id\":\"x\",\"terms\":[\"zzz\"]},"
                               "{\"id\":\"b\",\"terms\":[\"parcels\"]}]}");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(match(a, "parcels"), 1);
        cr_assert_eq(match(b, "parcels"), 2);
    }
    for (int i = 0; i < 50; i++) {
        taxonomy_free(a);
        a = tx_of(i % 2 ? "{\"themes\":[{\"id\":\"a\",\"terms\":[\"parcel\"]}]}"
                        : "{\"themes\":[{\"id\":\"a\",\"terms\":[\"box\"]}]}");
        cr_assert_eq(match(a, "parcel"), i % 2 ? 1u : 0u);
    }
    taxonomy_free(a);
    taxonomy_free(b);
}

/* ---- fuzz -------------------------------------------------------------------- */

static uint32_t mask_of(const struct aspect *a, size_t n)
{
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++)
        m |= UINT32_C(1) << a[i].theme;
    return m;
}

/* Random text from CX words, punctuation, accents and junk bytes. */
static size_t random_text(struct rng *r, char *buf, size_t cap)
{
    static const char *parts[] = {
        "delivery", "late", "parcel", "staff", "rude", "but", "yet", "however", ",", ".",
        ";", " - ", "\xe2\x80\x94", "caf\xc3\xa9", "CAFE\xcc\x81", "\xcc\x81", "\xc2\xad",
        "user", "friendly", "value for money", "on", "hold", "'", "\xe2\x80\x99", "3.50",
        "\xff", "\xc3", "\xed\xa0\x80", "\xf0\x9f\x98\xa1", "\xef\xb9\xb0", " ", "  ", "\n",
        "refunded", "the", "and", "took", "forever", "=",
    };
    size_t o = 0;
    while (o + 32 < cap && rng_next(r) % 40) {
        const char *p = parts[rng_next(r) % (sizeof parts / sizeof parts[0])];
        size_t n = strlen(p);
        memcpy(buf + o, p, n);
        o += n;
        if (rng_next(r) % 2)
            buf[o++] = ' ';
    }
    return o;
}

Test(themes, fuzz_random_bytes_and_utf8)
{
    struct taxonomy *t = tx_default();
    struct phrases *p = phrases_new(5000);
    struct rng r = {42};
    enum { CAP = 600 };
    for (int iter = 0; iter < 6000; iter++) {
        /* an exact-size heap buffer so ASan sees any read past the end */
        char tmp[CAP];
        size_t n;
        switch (iter % 3) {
        case 0:         /* random bytes */
            n = rng_next(&r) % CAP;
            for (size_t i = 0; i < n; i++)
                tmp[i] = (char)rng_next(&r);
            break;
        case 1: {       /* random code points, some invalid encodings */
            n = 0;
            while (n + 4 < CAP && rng_next(&r) % 64) {
                uint32_t cp = (uint32_t)(rng_next(&r) % 0x110000);
                if (rng_next(&r) % 3 == 0)
                    cp %= 0x80;
                if (cp < 0x80) {
                    tmp[n++] = (char)cp;
                } else if (cp < 0x800) {
                    tmp[n++] = (char)(0xC0 | (cp >> 6));
                    tmp[n++] = (char)(0x80 | (cp & 0x3F));
                } else if (cp < 0x10000) {
                    tmp[n++] = (char)(0xE0 | (cp >> 12));
                    tmp[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    tmp[n++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    tmp[n++] = (char)(0xF0 | (cp >> 18));
                    tmp[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    tmp[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    tmp[n++] = (char)(0x80 | (cp & 0x3F));
                }
            }
            break;
        }
        default:
            n = random_text(&r, tmp, CAP);
            break;
        }
        char *s = malloc(n ? n : 1);
        cr_assert_not_null(s);
        memcpy(s, tmp, n);
        uint32_t m = themes_match(t, s, n);
        struct aspect a[THEMES_MAX];
        size_t na = themes_aspects(t, s, n, toy_score, NULL, a, THEMES_MAX);
        cr_assert_eq(mask_of(a, na), m, "aspects %#x, match %#x", mask_of(a, na), m);
        for (size_t i = 0; i < na; i++)
            cr_assert(a[i].sentiment >= -1 && a[i].sentiment <= 1);
        char tok[64][THEMES_TOKEN_LEN];
        size_t nt = text_tokens(s, n, tok, 64);
        for (size_t i = 0; i < nt; i++)
            cr_assert_lt(strlen(tok[i]), THEMES_TOKEN_LEN);
        cr_assert_eq(phrases_add(p, iter < 3000 ? PHRASES_CURRENT : PHRASES_BASELINE, s, n,
                                 (uint64_t)iter),
                     CXM_OK);
        free(s);
    }
    struct emerging top[20];
    size_t n;
    cr_assert_eq(phrases_top(p, NULL, top, 20, &n), CXM_OK);
    phrases_free(p);

    /* a long text: constant stack, no overflow */
    size_t big = 1u << 20;
    char *s = malloc(big);
    cr_assert_not_null(s);
    for (size_t i = 0; i < big; i++)
        s[i] = "rude staff, late parcel. "[i % 25];
    cr_assert_eq(themes_match(t, s, big), bit(t, "staff") | bit(t, "delivery"));
    struct aspect a[THEMES_MAX];
    cr_assert_eq(themes_aspects(t, s, big, toy_score, NULL, a, THEMES_MAX), 2);
    memset(s, 'a', big);        /* one enormous word */
    cr_assert_eq(themes_match(t, s, big), 0);
    free(s);
    taxonomy_free(t);
}

/* Random taxonomies: parse never crashes and never leaks. */
Test(themes, fuzz_taxonomy_json)
{
    struct rng r = {9};
    static const char *parts[] = {"{", "}", "[", "]", ",", ":", "\"themes\"", "\"id\"",
                                  "\"terms\"", "\"name\"", "\"a\"", "\"late parcel\"",
                                  "\"=x\"", "\"\"", "1", "null", "\"caf\\u00e9\""};
    for (int iter = 0; iter < 3000; iter++) {
        char buf[512];
        size_t o = 0;
        while (o + 16 < sizeof buf && rng_next(&r) % 30) {
            const char *p = parts[rng_next(&r) % (sizeof parts / sizeof parts[0])];
            size_t n = strlen(p);
            memcpy(buf + o, p, n);
            o += n;
        }
        struct taxonomy *t = NULL;
        struct cxm_err err;
        cxm_err_clear(&err);
        if (taxonomy_parse(buf, o, &t, &err) == CXM_OK) {
            cr_assert_not_null(t);
            cr_assert_geq(taxonomy_count(t), 1);
            match(t, "a late parcel x");
            taxonomy_free(t);
        } else {
            cr_assert_null(t);
            cr_assert_neq(err.msg[0], '\0');
        }
    }
}
