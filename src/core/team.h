/* team.h - the arithmetic of the employee side: a recognition leaderboard
 * of agents by CSAT with a Bayesian-adjusted score (no agent tops it on
 * two responses), shout-outs (positive comments that name an agent), and
 * the anonymity rule of employee surveys. Pure: no I/O, no allocation. */
#ifndef CXM_TEAM_H
#define CXM_TEAM_H

#include "common.h"

/* One agent's CSAT responses: n answers, top of them 4 or 5 (top-two-box). */
struct lb_row {
    uint32_t agent;              /* the caller's id */
    uint32_t n, top;
    double csat;                 /* out: 100 * top / n (NAN when n = 0) */
    double score;                /* out: Bayesian-adjusted CSAT %, see below */
    double lo, hi;               /* out: 95% Wilson interval of top/n (z = 1.96),
                                    in %; NAN when n = 0 */
};
struct lb_opts {
    uint32_t min_n;              /* agents with fewer answers are left out; 0 = 5 */
    double prior_n;              /* weight of the prior in answers; <= 0 (or NAN) = 10 */
    double prior;                /* prior CSAT share in [0, 1]; NAN = the pooled
                                    share of all rows given (top sum / n sum,
                                    rows under min_n included), 0.5 when there
                                    is none */
};

/* Fills csat, score = 100 * (top + prior_n * prior) / (n + prior_n), lo
 * and hi of each row; removes rows with n < min_n (compacting the array in
 * place, *nrows updated); sorts by score descending, then n descending,
 * then agent ascending. rows is the caller's, may be NULL when *nrows is
 * 0; nrows must not be NULL; o may be NULL (all defaults); err may be NULL.
 * Returns CXM_OK, or CXM_EINVAL when a row has top > n (err->index names
 * the row, err->field "top"), prior is outside [0, 1] or prior_n is
 * infinite (err->field names the option); rows and *nrows are untouched
 * on error. */
int team_leaderboard(struct lb_row *rows, size_t *nrows, const struct lb_opts *o,
                     struct cxm_err *err);

/* Whether a comment praises the person called name: the comment contains
 * name's first word (words of a name are split at white space, so
 * "Anna Smith" is found as "anna" and "Jean-Luc" only as "jean-luc") as a
 * whole word, compared case- and accent-insensitively, and sentiment is at
 * least 0.05 (positive, DESIGN section 6; NAN is not). The fold is
 * ASCII case plus Latin-1 and Latin Extended-A letters to their base
 * letters ("Zoé" = "zoe", "ß" = "ss", "Œ" = "oe"), combining accents
 * (U+0300-U+036F) dropped, Greek and Cyrillic capitals to small, curly
 * apostrophes to straight. Words of the comment are separated by anything
 * that is not a letter or digit: ASCII punctuation and space, Latin-1
 * symbols, general punctuation, symbols and emoji; every other non-ASCII
 * character (any other script's letters, combining marks) is part of a
 * word, so "Anna" does not match "Annabel" nor "Hannah". Bytes
 * that are not UTF-8 separate words. A name word shorter than 2 characters
 * never matches. comment (len bytes, need not be NUL-terminated) may be
 * NULL when len is 0; name is NUL-terminated, NULL never matches. *at
 * (at may be NULL) receives the byte offset of the first match in comment,
 * and is untouched when the answer is false. */
bool team_praises(const char *comment, size_t len, const char *name, double sentiment,
                  size_t *at);

/* Employee surveys are anonymous in small groups: a group with fewer than
 * min (<= 0: 5) responses is not shown. */
bool team_enps_visible(uint32_t n, int min);

#endif
