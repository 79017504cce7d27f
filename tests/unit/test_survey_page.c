/* test_survey_page.c - the public survey side's pure parts: the hosted
 * page's HTML (every survey and respondent text escaped, the scale's
 * radios and their labels, values kept and the error linked after a
 * refused answer, the fixed texts by language, the end pages), the form
 * decoder ('+', %XX, malformed escapes, NUL, limits) and the rate
 * limiter's buckets (burst, refill, Retry-After, bounded table). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"
#include "http/ratelimit.h"
#include "http/survey_page.h"

/* ---- a survey built by hand --------------------------------------------- */

static char *en[] = {"en"};

static struct ltext one(const char *text)
{
    struct ltext t = {.n = 1};
    t.lang[0] = en[0];
    t.text[0] = (char *)text;
    return t;
}

static struct survey_choice choices[3];
static struct survey_question qs[3];
static struct survey sv;

static void make_survey(void)
{
    memset(&sv, 0, sizeof sv);
    memset(qs, 0, sizeof qs);
    qs[0] = (struct survey_question){.id = "nps", .type = Q_NPS, .required = true,
                                     .min = 0, .max = 10};
    qs[0].text = one("How likely <script>alert(1)</script> & \"so\"?");
    qs[0].min_label = one("Not at all likely");
    qs[0].max_label = one("Extremely likely");
    qs[1] = (struct survey_question){.id = "why", .type = Q_TEXT, .required = false};
    qs[1].text = one("Why?");
    qs[1].help = one("Tell us in your own words.");
    choices[0] = (struct survey_choice){.id = "price", .label = one("Price")};
    choices[1] = (struct survey_choice){.id = "service", .label = one("Service <3")};
    choices[2] = (struct survey_choice){.id = "other", .label = one("Other")};
    qs[2] = (struct survey_question){.id = "topic", .type = Q_MULTI, .choices = choices,
                                     .nchoices = 3};
    qs[2].text = one("What matters?");
    sv.id = "s1";
    sv.name = "S1";
    sv.lang = "en";
    sv.title = one("Our <survey>");
    sv.thanks = one("Thanks & bye");
    sv.q = qs;
    sv.nq = 3;
    sv.enabled = true;
}

static char *render(const struct survey_page *p, int *rc)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    *rc = survey_page_render(p, &b);
    size_t len;
    return buf_take(&b, &len);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static const char token[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

Test(survey_page, nps_question_is_a_labelled_radio_group)
{
    make_survey();
    struct survey_page p = {.kind = SP_QUESTION, .s = &sv, .lang = "en", .token = token,
                            .q = 0, .step = 1, .steps = 3};
    int rc;
    char *html = render(&p, &rc);
    cr_assert_eq(rc, CXM_OK);
    cr_assert(strstr(html, "<html lang=\"en\">"));
    cr_assert(strstr(html, "<meta name=\"viewport\""));
    cr_assert_eq(count(html, "<main>"), 1);
    cr_assert_eq(count(html, "<h1>"), 1);
    cr_assert_eq(count(html, "type=\"radio\""), 11);
    cr_assert(strstr(html, "<legend>How likely &lt;script&gt;alert(1)&lt;/script&gt; &amp; "
                           "&quot;so&quot;?</legend>"));
    cr_assert_null(strstr(html, "<script"), "no script, and survey text escaped");
    cr_assert(strstr(html, "<h1>Our &lt;survey&gt;</h1>"));
    cr_assert(strstr(html, "Question 1 of about 3"));
    cr_assert(strstr(html, "value=\"0\" aria-describedby=\"q-min\""));
    cr_assert(strstr(html, "value=\"10\" aria-describedby=\"q-max\""));
    cr_assert(strstr(html, "<span id=\"q-min\">0 = Not at all likely</span> "
                           "<span id=\"q-max\">10 = Extremely likely</span>"));
    cr_assert(strstr(html, "action=\"/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""));
    cr_assert(strstr(html, "name=\"q\" value=\"nps\""));
    cr_assert(strstr(html, ">Next</button>"));
    cr_assert_null(strstr(html, "name=\"skip\""), "a required question has no Skip");
    cr_assert(strstr(html, "?large=1\">Larger text</a>"));
    cr_assert_null(strstr(html, "role=\"alert\""));
    free(html);
}

Test(survey_page, refused_answer_keeps_values_and_links_the_error)
{
    make_survey();
    const char *vals[] = {"service", "other"};
    struct survey_page p = {.kind = SP_QUESTION, .s = &sv, .lang = "en", .token = token,
                            .q = 2, .step = 3, .steps = 3, .large = true,
                            .error = "Pick <one>", .values = vals, .nvalues = 2};
    int rc;
    char *html = render(&p, &rc);
    cr_assert_eq(rc, CXM_OK);
    cr_assert(strstr(html, "<fieldset aria-describedby=\"q-err\">"));
    cr_assert(strstr(html, "id=\"q-err\" role=\"alert\">Pick &lt;one&gt;</p>"));
    cr_assert_eq(count(html, "type=\"checkbox\""), 3);
    cr_assert_eq(count(html, " checked"), 2);
    cr_assert_eq(count(html, " autofocus"), 1);
    cr_assert(strstr(html, "value=\"service\" checked aria-invalid=\"true\" autofocus"));
    cr_assert(strstr(html, "Service &lt;3"));
    cr_assert(strstr(html, ">Send</button>"), "the last question sends");
    cr_assert(strstr(html, "name=\"skip\" value=\"1\""), "an optional one has Skip");
    cr_assert(strstr(html, "<html lang=\"en\" class=\"large\">"));
    cr_assert(strstr(html, "action=\"/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA?large=1\""));
    cr_assert(strstr(html, "\">Normal text</a>"));
    free(html);
}

Test(survey_page, text_question_refills_the_answer_escaped)
{
    make_survey();
    const char *vals[] = {"\nline <b>&'"};
    struct survey_page p = {.kind = SP_QUESTION, .s = &sv, .lang = "fr", .token = token,
                            .lang_arg = "fr", .q = 1, .step = 2, .steps = 3,
                            .error = "Trop long", .values = vals, .nvalues = 1};
    int rc;
    char *html = render(&p, &rc);
    cr_assert_eq(rc, CXM_OK);
    cr_assert(strstr(html, "<label class=\"qtext\" for=\"a-0\">Why? <span class=\"optional\">"
                           "(facultatif)</span></label>"));
    cr_assert(strstr(html, "maxlength=\"5000\" aria-describedby=\"q-help q-err\" "
                           "aria-invalid=\"true\" autofocus>\n\nline &lt;b&gt;&amp;&#39;"
                           "</textarea>"));
    cr_assert(strstr(html, "<html lang=\"fr\">"));
    cr_assert(strstr(html, "Question 2 sur environ 3"));
    cr_assert(strstr(html, ">Suivant</button>"));
    cr_assert(strstr(html, ">Passer</button>"));
    cr_assert(strstr(html, "?lang=fr\""));
    free(html);
}

Test(survey_page, end_pages_in_the_respondents_language)
{
    make_survey();
    static const struct {
        enum survey_page_kind kind;
        const char *lang, *html_lang, *text;
    } cases[] = {
        {SP_THANKS, "en", "en", "<p>Thanks &amp; bye</p>"},
        {SP_ALREADY, "en-GB", "en", "You have already answered this survey. Thank you!"},
        {SP_ALREADY, "fr", "fr", "Vous avez déjà répondu"},
        {SP_EXPIRED, "de-AT", "de", "Dieser Umfragelink ist abgelaufen."},
        {SP_INVALID, "xx", "en", "This survey link is not valid."},
        {SP_INVALID, NULL, "en", "This survey link is not valid."},
        {SP_CLOSED, "es", "es", "Esta encuesta está cerrada."},
        {SP_BUSY, "nl", "nl", "Te veel pogingen."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct survey_page p = {.kind = cases[i].kind, .s = &sv, .lang = cases[i].lang};
        int rc;
        char *html = render(&p, &rc);
        char want[64];
        snprintf(want, sizeof want, "<html lang=\"%s\">", cases[i].html_lang);
        cr_assert_eq(rc, CXM_OK);
        cr_assert(strstr(html, want), "case %zu: %s", i, want);
        cr_assert(strstr(html, cases[i].text), "case %zu", i);
        cr_assert_eq(count(html, "<h1>"), 1);
        cr_assert_null(strstr(html, "class=\"tools\""), "no token, no links");
        free(html);
    }
}

Test(survey_page, refuses_what_it_cannot_write)
{
    make_survey();
    struct survey_page bad_q = {.kind = SP_QUESTION, .s = &sv, .token = token, .q = 3};
    struct survey_page no_s = {.kind = SP_THANKS};
    struct survey_page bad_tok = {.kind = SP_INVALID, .token = "a\"b"};
    struct survey_page bad_lang = {.kind = SP_INVALID, .lang_arg = "fr\"><x"};
    const struct survey_page *all[] = {&bad_q, &no_s, &bad_tok, &bad_lang};
    for (size_t i = 0; i < 4; i++) {
        int rc;
        free(render(all[i], &rc));
        cr_assert_eq(rc, CXM_EINVAL, "case %zu", i);
    }
    struct buf b;
    buf_init(&b, 100);
    struct survey_page ok = {.kind = SP_INVALID};
    cr_assert_eq(survey_page_render(&ok, &b), CXM_ETOOBIG);
    buf_free(&b);
}

Test(survey_page, tokens_tags_and_the_widget)
{
    cr_assert(survey_page_token_ok(token));
    cr_assert(survey_page_token_ok("a-_9"));
    cr_assert_not(survey_page_token_ok(""));
    cr_assert_not(survey_page_token_ok("a.b"));
    cr_assert_not(survey_page_token_ok("a/b"));
    char longtok[SURVEY_TOKEN_LEN + 1];
    memset(longtok, 'a', SURVEY_TOKEN_LEN);
    longtok[SURVEY_TOKEN_LEN] = '\0';
    cr_assert_not(survey_page_token_ok(longtok));
    cr_assert(survey_page_tag_ok("pt-BR"));
    cr_assert_not(survey_page_tag_ok("*"));
    cr_assert_not(survey_page_tag_ok("1en"));
    cr_assert_not(survey_page_tag_ok("en_GB"));
    size_t len;
    const char *js = survey_page_widget_js(&len);
    cr_assert_eq(strlen(js), len);
    cr_assert_lt(len, 6144, "the widget stays under 6 KB");
    cr_assert(strstr(js, "/v1/public/surveys/"));
}

/* ---- form bodies ------------------------------------------------------------ */

Test(form, decodes_plus_and_percent)
{
    struct arena a = {0};
    struct form_field f[8];
    size_t n = 99;
    const char body[] = "q=why&answer=caf%C3%A9+au+lait%21&&answer=a%2Bb%3D&skip&x=";
    cr_assert_eq(form_decode(body, strlen(body), &a, f, 8, &n), CXM_OK);
    cr_assert_eq(n, 5);
    cr_assert_str_eq(f[0].name, "q");
    cr_assert_str_eq(f[0].value, "why");
    cr_assert_str_eq(f[1].value, "café au lait!");
    cr_assert_str_eq(f[2].value, "a+b=");
    cr_assert_str_eq(f[3].name, "skip");
    cr_assert_str_eq(f[3].value, "");
    cr_assert_str_eq(f[4].value, "");
    cr_assert_str_eq(form_get(f, n, "answer"), "café au lait!");
    cr_assert_null(form_get(f, n, "large"));
    cr_assert_eq(form_decode(NULL, 0, &a, f, 8, &n), CXM_OK);
    cr_assert_eq(n, 0);
    arena_free(&a);
}

Test(form, refuses_malformed_escapes_nul_and_too_many)
{
    struct arena a = {0};
    struct form_field f[2];
    size_t n = 7;
    const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%00", "%4g=1", "a=1%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(form_decode(bad[i], strlen(bad[i]), &a, f, 2, &n), CXM_EINVAL, "%s",
                     bad[i]);
    cr_assert_eq(form_decode("a=1&b=2&c=3", 11, &a, f, 2, &n), CXM_ETOOBIG);
    cr_assert_eq(n, 7, "untouched on failure");
    /* the length counts, not a NUL: "a=%4" cut after "a=%" */
    cr_assert_eq(form_decode("a=%41", 4, &a, f, 2, &n), CXM_EINVAL);
    arena_free(&a);
}

/* ---- rate limits ---------------------------------------------------------- */

Test(ratelimit, burst_then_refill)
{
    struct ratelimit *rl = ratelimit_new(10, 5);   /* one token every 6 s */
    cr_assert_not_null(rl);
    unsigned char ip[4] = {10, 0, 0, 1}, other[4] = {10, 0, 0, 2};
    unsigned retry = 0;
    for (int i = 0; i < 5; i++)
        cr_assert(ratelimit_take(rl, ip, 4, 100.0, &retry), "burst %d", i);
    cr_assert_not(ratelimit_take(rl, ip, 4, 100.0, &retry));
    cr_assert_eq(retry, 6);
    cr_assert(ratelimit_take(rl, other, 4, 100.0, &retry), "buckets are per key");
    cr_assert_not(ratelimit_take(rl, ip, 4, 103.0, &retry));
    cr_assert_eq(retry, 3);
    cr_assert(ratelimit_take(rl, ip, 4, 106.0, &retry), "one token back after 6 s");
    cr_assert_not(ratelimit_take(rl, ip, 4, 106.0, NULL));
    cr_assert(ratelimit_take(rl, ip, 4, 1000.0, NULL), "full again");
    ratelimit_free(rl);
    ratelimit_free(NULL);
    cr_assert_null(ratelimit_new(0, 5));
    cr_assert_null(ratelimit_new(10, 0.5));
}

Test(ratelimit, many_clients_stay_bounded)
{
    struct ratelimit *rl = ratelimit_new(60, 1);
    cr_assert_not_null(rl);
    unsigned char ip[8] = {0};
    /* far more addresses than slots: each new one starts full, old ones are
     * forgotten; the last few are still remembered. */
    for (uint32_t i = 0; i < 100000; i++) {
        memcpy(ip, &i, sizeof i);
        cr_assert(ratelimit_take(rl, ip, 8, (double)i * 1e-3, NULL));
    }
    cr_assert_not(ratelimit_take(rl, ip, 8, 100.0, NULL), "the latest is remembered");
    cr_assert(ratelimit_take(rl, ip, 0, 100.0, NULL), "no address: one shared bucket");
    ratelimit_free(rl);
}
