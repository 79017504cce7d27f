/* test_team.c - the leaderboard against hand-worked scores (pooled prior,
 * few answers, filtering, ties) and Wilson bounds from the textbook form;
 * shout-out matching on whole words, case, accents, multibyte separators,
 * the sentiment threshold and short names; the eNPS anonymity threshold. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/team.h"

/* ---- helpers ------------------------------------------------------------ */

static bool close_to(double got, double want, double tol)
{
    return fabs(got - want) <= tol;
}

/* Wilson 95% bounds in %, written as the textbook has it:
 * (p + z^2/2n -+ z sqrt(p(1 - p)/n + z^2/4n^2)) / (1 + z^2/n). */
static void wilson_ref(double k, double n, double *lo, double *hi)
{
    double z = 1.96, p = k / n;
    double centre = p + z * z / (2 * n);
    double half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    double den = 1 + z * z / n;
    *lo = 100 * (centre - half) / den;
    *hi = 100 * (centre + half) / den;
}

static struct lb_row row(uint32_t agent, uint32_t top, uint32_t n)
{
    return (struct lb_row){.agent = agent, .n = n, .top = top};
}

static size_t find(const struct lb_row *r, size_t n, uint32_t agent)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].agent == agent)
            return i;
    cr_assert_fail("agent %u not on the board", agent);
    return 0;
}

/* ---- leaderboard ---------------------------------------------------------- */

Test(team, two_of_two_ranks_below_45_of_50)
{
    /* min_n 1 keeps the 2-answer agent, so the prior alone must hold it down. */
    struct lb_row r[] = {row(1, 2, 2), row(2, 45, 50), row(3, 30, 40), row(4, 60, 80)};
    size_t n = 4;
    struct lb_opts o = {.min_n = 1, .prior_n = 0, .prior = NAN};
    cr_assert_eq(team_leaderboard(r, &n, &o, NULL), CXM_OK);
    cr_assert_eq(n, 4);
    /* pooled 137/172 = 0.79651; 2/2: (2 + 7.9651) / 12 = 83.04%,
     * 45/50: (45 + 7.9651) / 60 = 88.28% */
    size_t a = find(r, n, 1), b = find(r, n, 2);
    cr_assert(close_to(r[a].score, 83.0426, 1e-3), "2/2 score %f", r[a].score);
    cr_assert(close_to(r[b].score, 88.2752, 1e-3), "45/50 score %f", r[b].score);
    cr_assert(close_to(r[a].csat, 100, 1e-12));
    cr_assert(close_to(r[b].csat, 90, 1e-12));
    cr_assert_eq(r[0].agent, 2, "45/50 tops the board, not %u", r[0].agent);
    cr_assert_gt(a, b);

    /* With the default min_n (5) the 2-answer agent is not on the board. */
    struct lb_row d[] = {row(1, 2, 2), row(2, 45, 50)};
    n = 2;
    cr_assert_eq(team_leaderboard(d, &n, NULL, NULL), CXM_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(d[0].agent, 2);
}

Test(team, min_n_filters_and_compacts)
{
    struct lb_row r[] = {row(1, 3, 4), row(2, 4, 5), row(3, 0, 0), row(4, 6, 6),
                         row(5, 1, 4)};
    size_t n = 5;
    cr_assert_eq(team_leaderboard(r, &n, &(struct lb_opts){.prior = NAN}, NULL), CXM_OK);
    cr_assert_eq(n, 2, "default min_n 5 keeps n = 5 and 6, got %zu", n);
    cr_assert_eq(r[0].agent, 4);
    cr_assert_eq(r[1].agent, 2);

    struct lb_row s[] = {row(1, 3, 4), row(2, 4, 5), row(3, 0, 0), row(4, 6, 6)};
    n = 4;
    cr_assert_eq(team_leaderboard(s, &n, &(struct lb_opts){.min_n = 6, .prior = 0.5}, NULL),
                 CXM_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(s[0].agent, 4);

    struct lb_row t[] = {row(1, 3, 4), row(2, 0, 0), row(3, 1, 1)};
    n = 3;
    cr_assert_eq(team_leaderboard(t, &n, &(struct lb_opts){.min_n = 1, .prior = 0.5}, NULL),
                 CXM_OK);
    cr_assert_eq(n, 2, "n = 0 is under any min_n");
    for (size_t i = 0; i < n; i++)
        cr_assert_neq(t[i].agent, 2);
}

Test(team, ties_by_n_then_agent)
{
    /* prior 0.5 x 10: 15/30 and 10/20 both score exactly 50 */
    struct lb_row r[] = {row(5, 10, 20), row(7, 15, 30), row(9, 90, 100), row(3, 10, 20)};
    size_t n = 4;
    struct lb_opts o = {.min_n = 1, .prior_n = 10, .prior = 0.5};
    cr_assert_eq(team_leaderboard(r, &n, &o, NULL), CXM_OK);
    cr_assert_eq(n, 4);
    uint32_t want[] = {9, 7, 3, 5};
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(r[i].agent, want[i], "place %zu: agent %u, want %u", i, r[i].agent,
                     want[i]);
    cr_assert(close_to(r[0].score, 100.0 * 95 / 110, 1e-9));
    cr_assert_eq(r[1].score, 50.0);
    cr_assert_eq(r[2].score, 50.0);
    cr_assert_eq(r[3].score, 50.0);
}

Test(team, pooled_prior_counts_every_row_given)
{
    /* 3/10, 9/10, and 1/4 (under min_n, still in the pool): 13/24 */
    struct lb_row r[] = {row(1, 3, 10), row(2, 9, 10), row(3, 1, 4), row(4, 0, 0)};
    size_t n = 4;
    cr_assert_eq(team_leaderboard(r, &n, NULL, NULL), CXM_OK);
    cr_assert_eq(n, 2);
    /* by hand: (9 + 10 * 13/24) / 20 = 72.083%, (3 + 5.4167) / 20 = 42.083% */
    cr_assert_eq(r[0].agent, 2);
    cr_assert(close_to(r[0].score, 72.0833, 1e-3), "%f", r[0].score);
    cr_assert(close_to(r[1].score, 42.0833, 1e-3), "%f", r[1].score);
    /* the kept rows alone (12/20 = 0.6) would give 75 and 45 */
    cr_assert(!close_to(r[0].score, 75, 0.5));

    /* An explicit prior is used as given; prior_n weighs it. */
    struct lb_row s[] = {row(1, 3, 10)};
    n = 1;
    struct lb_opts o = {.prior_n = 5, .prior = 0};
    cr_assert_eq(team_leaderboard(s, &n, &o, NULL), CXM_OK);
    cr_assert(close_to(s[0].score, 20, 1e-9), "3 / 15 = 20%%, got %f", s[0].score);
}

Test(team, wilson_bounds)
{
    struct lb_row r[] = {row(1, 45, 50), row(2, 0, 10), row(3, 10, 10), row(4, 7, 23)};
    size_t n = 4;
    cr_assert_eq(team_leaderboard(r, &n, NULL, NULL), CXM_OK);
    cr_assert_eq(n, 4);
    const struct lb_row *a = &r[find(r, n, 1)];
    /* 45 of 50: about 78.6% - 95.7% */
    cr_assert(close_to(a->lo, 78.6, 0.05), "lo %f", a->lo);
    cr_assert(close_to(a->hi, 95.7, 0.05), "hi %f", a->hi);
    for (size_t i = 0; i < n; i++) {
        double lo, hi;
        wilson_ref(r[i].top, r[i].n, &lo, &hi);
        cr_assert(close_to(r[i].lo, lo, 1e-9), "agent %u lo %f want %f", r[i].agent,
                  r[i].lo, lo);
        cr_assert(close_to(r[i].hi, hi, 1e-9), "agent %u hi %f want %f", r[i].agent,
                  r[i].hi, hi);
        cr_assert(r[i].lo >= 0 && r[i].hi <= 100);
        cr_assert(r[i].lo <= r[i].csat && r[i].csat <= r[i].hi);
    }
    /* closed forms at the ends: hi(0 of n) = z^2 / (n + z^2), lo(n of n) = n / (n + z^2) */
    const struct lb_row *none = &r[find(r, n, 2)], *all = &r[find(r, n, 3)];
    cr_assert_eq(none->lo, 0.0);
    cr_assert(close_to(none->hi, 100 * 3.8416 / 13.8416, 1e-9));
    cr_assert_eq(all->hi, 100.0);
    cr_assert(close_to(all->lo, 100 * 10 / 13.8416, 1e-9));
}

Test(team, rows_of_no_answers)
{
    struct lb_row r[] = {row(1, 0, 0), row(2, 0, 0)};
    size_t n = 2;
    cr_assert_eq(team_leaderboard(r, &n, NULL, NULL), CXM_OK);
    cr_assert_eq(n, 0);

    n = 0;
    cr_assert_eq(team_leaderboard(NULL, &n, NULL, NULL), CXM_OK);
    cr_assert_eq(n, 0);

    /* n = 0 rows add nothing to the pool: 8/10 alone gives prior 0.8 */
    struct lb_row s[] = {row(1, 0, 0), row(2, 8, 10)};
    n = 2;
    cr_assert_eq(team_leaderboard(s, &n, NULL, NULL), CXM_OK);
    cr_assert_eq(n, 1);
    cr_assert(close_to(s[0].score, 80, 1e-9), "%f", s[0].score);
    cr_assert(!isnan(s[0].csat) && !isnan(s[0].lo) && !isnan(s[0].hi));
}

Test(team, invalid_inputs_leave_rows_alone)
{
    struct lb_row r[] = {row(1, 3, 10), row(2, 6, 5), row(3, 1, 1)};
    struct lb_row copy[3];
    memcpy(copy, r, sizeof r);
    size_t n = 3;
    struct cxm_err err = {0};
    cr_assert_eq(team_leaderboard(r, &n, NULL, &err), CXM_EINVAL);
    cr_assert_eq(err.code, CXM_EINVAL);
    cr_assert_eq(err.index, 1);
    cr_assert_str_eq(err.field, "top");
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(r, copy, sizeof r), 0);
    cr_assert_eq(team_leaderboard(r, &n, NULL, NULL), CXM_EINVAL, "err may be NULL");

    struct lb_row ok[] = {row(1, 3, 10)};
    const double bad_prior[] = {-0.01, 1.01, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad_prior / sizeof bad_prior[0]; i++) {
        n = 1;
        memset(&err, 0, sizeof err);
        struct lb_opts o = {.prior = bad_prior[i]};
        cr_assert_eq(team_leaderboard(ok, &n, &o, &err), CXM_EINVAL, "prior %f", bad_prior[i]);
        cr_assert_str_eq(err.field, "prior");
        cr_assert_eq(n, 1);
    }
    /* the ends of [0, 1] are fine */
    struct lb_opts edge = {.prior = 1};
    cr_assert_eq(team_leaderboard(ok, &n, &edge, NULL), CXM_OK);

    n = 1;
    struct lb_opts inf_n = {.prior_n = INFINITY, .prior = 0.5};
    cr_assert_eq(team_leaderboard(ok, &n, &inf_n, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "prior_n");

    cr_assert_eq(team_leaderboard(ok, NULL, NULL, NULL), CXM_EINVAL);
    n = 2;
    cr_assert_eq(team_leaderboard(NULL, &n, NULL, NULL), CXM_EINVAL);
    cr_assert_eq(n, 2);
}

/* ---- shout-outs ------------------------------------------------------------ */

static bool praises(const char *comment, const char *name, double sentiment, size_t *at)
{
    return team_praises(comment, strlen(comment), name, sentiment, at);
}

Test(team, praises_names_a_whole_word)
{
    size_t at = 99;
    cr_assert(praises("Thanks Anna, you were great", "Anna", 0.6, &at));
    cr_assert_eq(at, 7);
    cr_assert(praises("Anna was great", "Anna", 0.6, NULL), "at may be NULL");

    at = 99;
    cr_assert_not(praises("Thanks Annabel, you were great", "Anna", 0.6, &at));
    cr_assert_not(praises("Hannah was wonderful", "Anna", 0.6, &at));
    cr_assert_not(praises("Thanks Anna2 and xAnna", "Anna", 0.6, &at));
    cr_assert_eq(at, 99, "untouched when false");
    cr_assert(praises("Hannah and Anna were great", "Anna", 0.6, &at));
    cr_assert_eq(at, 11);
    cr_assert(praises("ANNA was brilliant", "Anna", 0.6, &at));
    cr_assert_eq(at, 0);
    cr_assert(praises("thanks anna, lovely", "Anna", 0.6, &at));
    cr_assert_eq(at, 7);
    cr_assert(praises("great service (anna)", "anna", 0.6, NULL));
}

Test(team, praises_folds_accents)
{
    size_t at = 99;
    cr_assert(praises("zoe helped a lot", "Zoé", 0.5, &at));
    cr_assert_eq(at, 0);
    cr_assert(praises("Merci Zoé !", "Zoe", 0.5, &at));
    cr_assert_eq(at, 6);
    cr_assert(praises("ZOÉ was great", "zoé", 0.5, NULL));
    /* e + combining acute (U+0301) */
    cr_assert(praises("thanks Zoe\xcc\x81 so much", "Zoé", 0.5, &at));
    cr_assert_eq(at, 7);
    cr_assert(praises("Strauss was a star", "Strauß", 0.5, NULL));
    cr_assert(praises("Dziękuję, Łukasz!", "lukasz", 0.5, NULL));
    cr_assert(praises("Спасибо, АННА!", "Анна", 0.5, NULL));
    /* a multibyte letter is part of the word */
    cr_assert_not(praises("Zoélie was great", "Zoé", 0.5, NULL));
    cr_assert_not(praises("thanks éAnna", "Anna", 0.5, NULL));
    cr_assert_not(praises("thanks Annaé", "Anna", 0.5, NULL));
    cr_assert_not(praises("Straße was great", "Stras", 0.5, NULL), "ß is two letters");
}

Test(team, praises_multibyte_separators)
{
    size_t at = 99;
    /* curly apostrophe, emoji, no-break space, ellipsis, em dash */
    cr_assert(praises("Anna\xe2\x80\x99s help was great", "Anna", 0.5, &at));
    cr_assert_eq(at, 0);
    cr_assert(praises("\xf0\x9f\x91\x8d" "Anna\xf0\x9f\x91\x8d", "Anna", 0.5, &at));
    cr_assert_eq(at, 4);
    cr_assert(praises("thanks\xc2\xa0" "Anna\xe2\x80\xa6 great", "Anna", 0.5, &at));
    cr_assert_eq(at, 8);
    cr_assert(praises("great\xe2\x80\x94" "anna\xe2\x80\x94" "great", "Anna", 0.5, NULL));
    /* bytes that are not UTF-8 separate words */
    cr_assert(praises("\xff" "Anna\xfe great", "Anna", 0.5, &at));
    cr_assert_eq(at, 1);
    /* O'Brien in the name matches O’Brien in the text */
    cr_assert(praises("thanks O\xe2\x80\x99" "Brien", "O'Brien", 0.5, &at));
    cr_assert_eq(at, 7);
}

Test(team, praises_reads_only_len_bytes)
{
    /* "Annabel" cut to its first four bytes, with no NUL after them */
    char *buf = malloc(4);
    cr_assert_not_null(buf);
    memcpy(buf, "Anna", 4);
    size_t at = 99;
    cr_assert(team_praises(buf, 4, "Anna", 0.5, &at));
    cr_assert_eq(at, 0);
    memcpy(buf, "Zo\xc3\xa9", 4);
    cr_assert_not(team_praises(buf, 3, "Zoé", 0.5, NULL), "é cut short");
    cr_assert(team_praises(buf, 4, "Zoé", 0.5, NULL));
    free(buf);
    cr_assert_not(team_praises(NULL, 0, "Anna", 0.5, NULL));
    cr_assert_not(team_praises("Anna", 0, "Anna", 0.5, NULL));
}

Test(team, praises_first_word_of_a_full_name)
{
    size_t at = 99;
    cr_assert(praises("anna sorted it all out", "Anna Smith", 0.5, &at));
    cr_assert_eq(at, 0);
    cr_assert(praises("Thanks Anna Smith!", "Anna Smith", 0.5, &at));
    cr_assert_eq(at, 7);
    cr_assert(praises("thanks anna", "  Anna\tSmith ", 0.5, NULL));
    cr_assert_not(praises("Smith was great", "Anna Smith", 0.5, NULL));
    cr_assert(praises("Jean-Luc was great", "Jean-Luc Picard", 0.5, NULL));
    cr_assert_not(praises("Jean was great", "Jean-Luc Picard", 0.5, NULL));
}

Test(team, praises_needs_positive_sentiment)
{
    const char *c = "Anna was rude and unhelpful";
    cr_assert_not(praises(c, "Anna", -0.7, NULL));
    cr_assert_not(praises(c, "Anna", 0.0, NULL));
    cr_assert_not(praises(c, "Anna", 0.0499, NULL));
    cr_assert_not(praises(c, "Anna", NAN, NULL));
    cr_assert(praises(c, "Anna", 0.05, NULL), "0.05 is positive");
}

Test(team, praises_short_or_empty_names)
{
    size_t at = 99;
    cr_assert_not(praises("Anna was great", "", 0.9, &at));
    cr_assert_not(praises("Anna was great", "   ", 0.9, &at));
    cr_assert_not(praises("Anna was great", NULL, 0.9, &at));
    cr_assert_not(praises("A great job, thanks A", "A", 0.9, &at));
    cr_assert_not(praises("J was great", "J Smith", 0.9, &at));
    cr_assert_not(praises("É was great", "É", 0.9, &at), "one character, two bytes");
    cr_assert_not(praises("thanks - great", "-", 0.9, &at));
    cr_assert_eq(at, 99);
    cr_assert(praises("Al was great", "Al", 0.9, &at), "two letters are enough");
    cr_assert(praises("Thanks Zé", "Zé", 0.9, &at));
    cr_assert_eq(at, 7);
}

/* ---- anonymity ------------------------------------------------------------- */

Test(team, enps_visible_from_five_or_the_threshold)
{
    cr_assert_not(team_enps_visible(4, 0));
    cr_assert(team_enps_visible(5, 0));
    cr_assert_not(team_enps_visible(4, -3));
    cr_assert(team_enps_visible(5, -3));
    cr_assert_not(team_enps_visible(0, 0));
    cr_assert_not(team_enps_visible(9, 10));
    cr_assert(team_enps_visible(10, 10));
    cr_assert(team_enps_visible(1, 1));
    cr_assert_not(team_enps_visible(0, 1));
    cr_assert(team_enps_visible(3, 3));
    cr_assert_not(team_enps_visible(2, 3));
}
