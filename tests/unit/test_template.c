/* test_template.c - rendering with values, fallbacks and literal braces;
 * HTML escaping of hostile values while the author's markup is kept;
 * control characters dropped and invalid UTF-8 replaced (each case, then
 * random bytes checked against the rules); tpl_check's errors and their
 * columns; the output cap. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template.h"
#include "core/utf8.h"

/* ---- helpers ------------------------------------------------------------ */

/* Variables as name=value pairs; a NULL value is "the customer has none". */
struct vars {
    const char *const *kv;
    size_t n;
    int calls;
};

static const char *lookup(void *ctx, const char *name, size_t len)
{
    struct vars *v = ctx;
    v->calls++;
    cr_assert_eq(strlen(name), len, "the name is handed over terminated");
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->kv[2 * i], name) == 0)
            return v->kv[2 * i + 1];
    return NULL;
}

/* Renders tpl with the pairs; the result (caller frees). */
static char *render_kv(const char *tpl, enum tpl_escape esc, const char *const *kv, size_t n)
{
    struct vars v = {kv, n, 0};
    struct buf b;
    buf_init(&b, 1u << 20);
    int rc = tpl_render(tpl, esc, lookup, &v, &b);
    cr_assert_eq(rc, CXM_OK, "render '%s': %s", tpl, cxm_rc_str(rc));
    size_t len;
    return buf_take(&b, &len);
}

static void assert_render(const char *tpl, enum tpl_escape esc, const char *const *kv, size_t n,
                          const char *want)
{
    char *got = render_kv(tpl, esc, kv, n);
    cr_assert_str_eq(got, want, "template '%s'", tpl);
    free(got);
}

/* One variable "v" with the value val, rendered through "{v}". */
static void assert_value(const char *val, enum tpl_escape esc, const char *want)
{
    const char *kv[] = {"v", val};
    char *got = render_kv("{v}", esc, kv, 1);
    cr_assert_str_eq(got, want, "value '%s'", val);
    free(got);
}

static const char *const VARS[] = {"first_name", "last_name", "top_category", "city"};
#define NVARS (sizeof VARS / sizeof VARS[0])

static void check_ok(const char *tpl)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = tpl_check(tpl, VARS, NVARS, &err);
    cr_assert_eq(rc, CXM_OK, "'%s': %s", tpl, err.msg);
}

/* Expects CXM_EINVAL with a message starting with want. */
static void check_bad(const char *tpl, const char *want)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = tpl_check(tpl, VARS, NVARS, &err);
    cr_assert_eq(rc, CXM_EINVAL, "'%s' accepted", tpl);
    cr_assert_eq(err.code, CXM_EINVAL);
    cr_assert(strncmp(err.msg, want, strlen(want)) == 0, "'%s': message '%s', want '%s...'",
              tpl, err.msg, want);
}

/* ---- channels ------------------------------------------------------------- */

Test(template, escape_for_channel)
{
    static const char *html[] = {"web", "email", "e-mail", "app_inbox", "in_app", "Email",
                                 "WEB"};
    static const char *text[] = {"sms", "push", "phone", "webhook", "", "emails", "in-app"};
    for (size_t i = 0; i < sizeof html / sizeof html[0]; i++)
        cr_assert_eq(tpl_escape_for(html[i]), TPL_HTML, "%s", html[i]);
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        cr_assert_eq(tpl_escape_for(text[i]), TPL_TEXT, "%s", text[i]);
    cr_assert_eq(tpl_escape_for(NULL), TPL_TEXT);
}

/* ---- rendering ------------------------------------------------------------ */

Test(template, values_replace_names)
{
    const char *kv[] = {"first_name", "Ada", "top_category", "lighting"};
    assert_render("Hi {first_name}, your {top_category} picks are in.", TPL_TEXT, kv, 2,
                  "Hi Ada, your lighting picks are in.");
    assert_render("{first_name}{top_category}", TPL_TEXT, kv, 2, "Adalighting");
    assert_render("no variables", TPL_TEXT, kv, 2, "no variables");
    assert_render("", TPL_TEXT, kv, 2, "");
    /* a missing value without a fallback renders as nothing */
    assert_render("Hi {city}!", TPL_TEXT, kv, 2, "Hi !");
}

Test(template, fallback_for_missing_and_empty_values)
{
    const char *kv[] = {"first_name", NULL, "last_name", "", "city", "Paris"};
    assert_render("Hi {first_name|there}", TPL_TEXT, kv, 3, "Hi there");
    assert_render("Hi {last_name|there}", TPL_TEXT, kv, 3, "Hi there");
    assert_render("Hi {nobody|there}", TPL_TEXT, kv, 3, "Hi there");
    assert_render("In {city|your town}", TPL_TEXT, kv, 3, "In Paris");
    assert_render("Hi {first_name|}.", TPL_TEXT, kv, 3, "Hi .");
    assert_render("{first_name|dear customer, friend}", TPL_TEXT, kv, 3, "dear customer, friend");
    /* a fallback is escaped like a value */
    assert_render("<b>{first_name|Fish & Chips}</b>", TPL_HTML, kv, 3,
                  "<b>Fish &amp; Chips</b>");
}

Test(template, literal_braces)
{
    const char *kv[] = {"first_name", "Ada"};
    assert_render("{{first_name}}", TPL_TEXT, kv, 1, "{first_name}");
    assert_render("{{{first_name}}}", TPL_TEXT, kv, 1, "{Ada}");
    assert_render("a {{ b }} c", TPL_HTML, kv, 1, "a { b } c");
    assert_render("}}{{", TPL_TEXT, kv, 1, "}{");
    check_ok("{{first_name}}");
    check_ok("{{{first_name}}}");
}

Test(template, html_escapes_hostile_values_but_keeps_the_authors_markup)
{
    const char *kv[] = {"first_name", "<script>alert(\"x\")</script> & 'y'"};
    assert_render("<p class=\"hi\">Hi {first_name}</p>", TPL_HTML, kv, 1,
                  "<p class=\"hi\">Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
                  "&#39;y&#39;</p>");
    /* text channels keep them: there is no markup to break */
    assert_render("Hi {first_name}", TPL_TEXT, kv, 1,
                  "Hi <script>alert(\"x\")</script> & 'y'");
    /* already-escaped text is escaped again, not trusted */
    assert_value("&amp;", TPL_HTML, "&amp;amp;");
    /* non-ASCII passes through */
    assert_value("Zoë Ñandú 東京 😀", TPL_HTML, "Zoë Ñandú 東京 😀");
}

Test(template, control_characters_are_dropped_from_values)
{
    for (int esc = TPL_TEXT; esc <= TPL_HTML; esc++) {
        /* C0 (tab and newlines too), DEL */
        assert_value("a\x01" "b\tc\nd\re\x1f" "f\x7fg", esc, "abcdefg");
        /* C1: U+0080, U+0085 (next line), U+009F */
        assert_value("a\xc2\x80" "b\xc2\x85" "c\xc2\x9f" "d", esc, "abcd");
        /* U+2028, U+2029 */
        assert_value("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", esc, "abc");
        /* neighbours that are not controls stay: U+00A0, U+2027, U+202A */
        assert_value("\xc2\xa0|\xe2\x80\xa7|\xe2\x80\xaa|\x20|~", esc,
                     "\xc2\xa0|\xe2\x80\xa7|\xe2\x80\xaa| |~");
        /* nothing left: as if empty, yet not a fallback (the value exists) */
        assert_value("\n\t", esc, "");
    }
    /* the template's own text is the author's */
    const char *kv[] = {"city", "Paris"};
    assert_render("line 1\nline 2 {city}\t!", TPL_TEXT, kv, 1, "line 1\nline 2 Paris\t!");
}

Test(template, invalid_utf8_in_values_is_replaced)
{
#define R "\xef\xbf\xbd"
    for (int esc = TPL_TEXT; esc <= TPL_HTML; esc++) {
        assert_value("a\xff" "b", esc, "a" R "b");
        assert_value("a\x80" "b", esc, "a" R "b");             /* lone continuation */
        assert_value("a\xe2\x82" "b", esc, "a" R "b");         /* cut short: one U+FFFD */
        assert_value("a\xe2\x82", esc, "a" R);                  /* cut by the end */
        assert_value("\xf0\x9f\x98", esc, R);
        assert_value("\xc0\xaf", esc, R R);                     /* overlong '/' */
        assert_value("\xe0\x80\xaf", esc, R R R);               /* overlong, 3 bytes */
        assert_value("\xed\xa0\x80", esc, R R R);               /* surrogate */
        assert_value("\xf4\x90\x80\x80", esc, R R R R);         /* past U+10FFFF */
        assert_value("\xf5", esc, R);
        assert_value("ok\xc3\xa9\xc3", esc, "ok\xc3\xa9" R);
    }
    /* the replacement is not a markup character, the rest still escapes */
    assert_value("<\xff>", TPL_HTML, "&lt;" R "&gt;");
#undef R
}

/* Random values: whatever comes in, what goes out is valid UTF-8 without
 * controls, and for HTML without a raw markup character. */
Test(template, random_values_always_render_safely)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char val[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        size_t len = (size_t)(iter % 40) + 1;
        while (n < len) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            unsigned c = (unsigned)(x >> 56);
            /* bias towards the interesting bytes */
            static const unsigned pick[] = {0xC2, 0xE2, 0x80, 0x85, 0xA8, 0xED, 0xF0, 0xF4,
                                            '<', '&', '\'', '"', '\n', 0x7F};
            if ((x & 3) == 0)
                c = pick[(x >> 8) % (sizeof pick / sizeof pick[0])];
            if (c == 0)
                c = 'z';
            val[n++] = (char)c;
        }
        val[n] = '\0';
        for (int esc = TPL_TEXT; esc <= TPL_HTML; esc++) {
            const char *kv[] = {"v", val};
            char *out = render_kv("{v}", esc, kv, 1);
            size_t on = strlen(out);
            cr_assert(utf8_valid(out, on), "iter %d: invalid UTF-8 out", iter);
            cr_assert_not(utf8_has_control(out, on), "iter %d: C0 control out", iter);
            for (size_t i = 0; i < on; i++) {
                const unsigned char *u = (const unsigned char *)out + i;
                cr_assert(!(u[0] == 0xC2 && u[1] >= 0x80 && u[1] <= 0x9F), "iter %d: C1", iter);
                cr_assert(!(u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9)),
                          "iter %d: U+2028/9", iter);
                cr_assert(u[0] != '\t' && u[0] != '\n' && u[0] != '\r', "iter %d", iter);
                if (esc == TPL_HTML) {
                    cr_assert(u[0] != '<' && u[0] != '>' && u[0] != '"' && u[0] != '\'',
                              "iter %d: raw markup in '%s'", iter, out);
                    if (u[0] == '&')
                        cr_assert(!strncmp(out + i, "&amp;", 5) || !strncmp(out + i, "&lt;", 4) ||
                                  !strncmp(out + i, "&gt;", 4) ||
                                  !strncmp(out + i, "&quot;", 6) ||
                                  !strncmp(out + i, "&#39;", 5),
                                  "iter %d: bare & in '%s'", iter, out);
                }
            }
            /* valid input without controls or markup is kept byte for byte */
            if (utf8_valid(val, n) && esc == TPL_TEXT) {
                bool plain = !utf8_has_control(val, n) && !strchr(val, '\t') &&
                             !strchr(val, '\n') && !strchr(val, '\r');
                for (size_t i = 0; plain && i + 1 < n; i++)
                    if ((unsigned char)val[i] == 0xC2 && (unsigned char)val[i + 1] <= 0x9F)
                        plain = false;
                if (plain && !strstr(val, "\xe2\x80\xa8") && !strstr(val, "\xe2\x80\xa9"))
                    cr_assert_str_eq(out, val, "iter %d", iter);
            }
            free(out);
        }
    }
}

Test(template, render_appends_and_looks_up_each_placeholder)
{
    const char *kv[] = {"first_name", "Ada"};
    struct vars v = {kv, 1, 0};
    struct buf b;
    buf_init(&b, 1024);
    cr_assert_eq(buf_add(&b, "Subject: ", 9), 0);
    cr_assert_eq(tpl_render("{first_name} & {first_name|x} {{first_name}}", TPL_TEXT, lookup, &v,
                            &b), 0);
    cr_assert_str_eq(b.p, "Subject: Ada & Ada {first_name}");
    cr_assert_eq(v.calls, 2);
    buf_free(&b);
}

Test(template, a_null_lookup_means_no_values)
{
    struct buf b;
    buf_init(&b, 1024);
    cr_assert_eq(tpl_render("Hi {first_name|there}{city}", TPL_HTML, NULL, NULL, &b), 0);
    cr_assert_str_eq(b.p, "Hi there");
    buf_free(&b);
}

Test(template, unchecked_templates_keep_malformed_braces)
{
    const char *kv[] = {"first_name", "Ada"};
    assert_render("a { b } c", TPL_TEXT, kv, 1, "a { b } c");
    assert_render("{First_name} {first_name", TPL_TEXT, kv, 1, "{First_name} {first_name");
    assert_render("{first_name|a|b} {first_name}", TPL_TEXT, kv, 1, "{first_name|a|b} Ada");
    assert_render("}{first_name}{", TPL_TEXT, kv, 1, "}Ada{");
    assert_render("{}", TPL_TEXT, kv, 1, "{}");
    assert_render("{", TPL_TEXT, kv, 1, "{");
}

/* ---- the output cap -------------------------------------------------------- */

Test(template, output_cap)
{
    size_t n = TPL_MAX_OUT;
    char *big = malloc(n + 2);
    cr_assert(big);
    memset(big, 'x', n + 1);
    big[n] = '\0';
    const char *kv[] = {"v", big};
    struct vars v = {kv, 1, 0};
    struct buf b;
    buf_init(&b, 1u << 20);

    /* exactly TPL_MAX_OUT bytes fit */
    cr_assert_eq(tpl_render("{v}", TPL_TEXT, lookup, &v, &b), CXM_OK);
    cr_assert_eq(b.len, n);
    buf_free(&b);

    /* one more is refused, and out is as it was */
    buf_init(&b, 1u << 20);
    cr_assert_eq(buf_add(&b, "keep", 4), 0);
    cr_assert_eq(tpl_render("{v}!", TPL_TEXT, lookup, &v, &b), CXM_ETOOBIG);
    cr_assert_eq(b.len, 4);
    cr_assert_str_eq(b.p, "keep");
    big[n] = 'x';
    big[n + 1] = '\0';
    cr_assert_eq(tpl_render("{v}", TPL_TEXT, lookup, &v, &b), CXM_ETOOBIG);
    cr_assert_str_eq(b.p, "keep");
    buf_free(&b);

    /* escaping counts: 3300 '&' become 16500 bytes */
    memset(big, '&', 3300);
    big[3300] = '\0';
    buf_init(&b, 1u << 20);
    cr_assert_eq(tpl_render("{v}", TPL_TEXT, lookup, &v, &b), CXM_OK);
    buf_free(&b);
    buf_init(&b, 1u << 20);
    cr_assert_eq(tpl_render("{v}", TPL_HTML, lookup, &v, &b), CXM_ETOOBIG);
    cr_assert_eq(b.len, 0);
    buf_free(&b);

    /* out's own cap */
    buf_init(&b, 10);
    const char *small[] = {"v", "0123456789"};
    struct vars sv = {small, 1, 0};
    cr_assert_eq(tpl_render("{v}", TPL_TEXT, lookup, &sv, &b), CXM_OK);
    cr_assert_eq(tpl_render("{v}", TPL_TEXT, lookup, &sv, &b), CXM_ETOOBIG);
    cr_assert_str_eq(b.p, "0123456789");
    buf_free(&b);
    free(big);
}

/* ---- checking ---------------------------------------------------------------- */

Test(template, check_accepts_good_templates)
{
    check_ok("");
    check_ok("Hi {first_name|there}, your {top_category} picks are in.");
    check_ok("{city}{last_name|}");
    check_ok("{first_name|Dear customer, thank you!}");
    check_ok("<p>Caf\xc3\xa9 {{menu}}</p>");
    check_ok("line 1\nline 2");
    const char *const names[] = {"_x", "a1_b2"};
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(tpl_check("{_x}{a1_b2}", names, 2, &err), CXM_OK, "%s", err.msg);
}

Test(template, check_errors_give_the_column)
{
    check_bad("Hi {frist_name}!", "column 4: unknown variable \"frist_name\" (known: first_name, "
                                  "last_name, top_category, city)");
    check_bad("Hi {first_name} }", "column 17: '}' without '{'");
    check_bad("Hi {first_name", "column 4: '{' is never closed");
    check_bad("Hi {first_name|there", "column 4: '{' is never closed");
    check_bad("{", "column 1: '{' is never closed");
    check_bad("ab{}", "column 4: empty variable name");
    check_bad("{First_name}", "column 2: a variable name starts with");
    check_bad("{ first_name}", "column 2: a variable name starts with");
    check_bad("{1st}", "column 2: a variable name starts with");
    check_bad("{first-name}", "column 7: a variable name is a-z, 0-9 and _");
    check_bad("{first_name|a|b}", "column 14: a fallback may not contain '{' or '|'");
    check_bad("{first_name|a{b}", "column 14: a fallback may not contain '{' or '|'");
    check_bad("ok \xff", "column 4: invalid UTF-8");
    check_bad("\xc3\xa9\xed\xa0\x80", "column 3: invalid UTF-8");
    check_bad("ab\xe2\x82", "column 3: invalid UTF-8");
    check_bad(NULL, "column 1:");
}

Test(template, check_limits)
{
    /* a name of 64 bytes is fine, 65 is not */
    char name[80], tpl[TPL_MAX + 2];
    memset(name, 'a', 64);
    name[64] = '\0';
    const char *const vars[] = {name};
    snprintf(tpl, sizeof tpl, "{%s}", name);
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(tpl_check(tpl, vars, 1, &err), CXM_OK, "%s", err.msg);
    snprintf(tpl, sizeof tpl, "{%sa}", name);
    cr_assert_eq(tpl_check(tpl, vars, 1, &err), CXM_EINVAL);
    cr_assert(strncmp(err.msg, "column 2: a variable name is at most 64 bytes", 45) == 0, "%s",
              err.msg);

    /* TPL_MAX bytes are fine, one more is not */
    memset(tpl, 'x', TPL_MAX);
    tpl[TPL_MAX] = '\0';
    cr_assert_eq(tpl_check(tpl, vars, 1, &err), CXM_OK, "%s", err.msg);
    tpl[TPL_MAX] = 'x';
    tpl[TPL_MAX + 1] = '\0';
    cr_assert_eq(tpl_check(tpl, vars, 1, &err), CXM_EINVAL);
    cr_assert(strncmp(err.msg, "column 4097: ", 13) == 0, "%s", err.msg);
}

Test(template, unknown_variable_lists_the_known_ones)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(tpl_check("{x}", NULL, 0, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "column 1: unknown variable \"x\" (known: none)");
    /* a long list is cut, and the message still fits */
    static char names[40][32];
    const char *list[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "variable_number_%d", i);
        list[i] = names[i];
    }
    cr_assert_eq(tpl_check("Hi {nope}", list, 40, &err), CXM_EINVAL);
    cr_assert(strncmp(err.msg, "column 4: unknown variable \"nope\" (known: variable_number_0, ",
                      60) == 0, "%s", err.msg);
    cr_assert(strstr(err.msg, "...)"), "%s", err.msg);
    cr_assert_eq(tpl_check("Hi {variable_number_39}", list, 40, &err), CXM_OK);
}

/* Whatever tpl_check accepts renders with every placeholder replaced: no
 * '{' or '}' is left but those written doubled. */
Test(template, checked_templates_render_completely)
{
    static const char *parts[] = {"{first_name}", "{city|x}", "{{", "}}", "a", " ",
                                  "{last_name|}", "\xc3\xa9", "{top_category|<b>}"};
    const char *kv[] = {"first_name", "F", "city", NULL, "last_name", "L", "top_category", ""};
    uint64_t x = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        char tpl[256] = "", want[512] = "";
        size_t n = (size_t)(iter % 12);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t k = (size_t)(x % (sizeof parts / sizeof parts[0]));
            static const char *outs[] = {"F", "x", "{", "}", "a", " ", "L", "\xc3\xa9",
                                         "&lt;b&gt;"};
            strncat(tpl, parts[k], sizeof tpl - strlen(tpl) - 1);
            strncat(want, outs[k], sizeof want - strlen(want) - 1);
        }
        check_ok(tpl);
        assert_render(tpl, TPL_HTML, kv, 4, want);
    }
}
