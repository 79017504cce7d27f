/* test_webhook.c - Standard Webhooks signing checked against the
 * specification's published test vector (the independent check: the same
 * vector is in standard-webhooks/standard-webhooks,
 * libraries/python/tests/test_webhooks.py, test_sign_function), sign ->
 * verify round trips, tampering, several signatures in one header, the
 * timestamp tolerance at its edges in both directions, secrets, the
 * verdict of every interesting HTTP status and the retry backoff. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/webhook.h"

#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS INT64_C(1614265330)
#define VEC_TS_S "1614265330"
#define VEC_BODY "{\"test\": 2432232314}"
#define VEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

#define TOL 300

static int verify(const char *secret, const char *id, const char *ts, const char *sig,
                  const char *body, int64_t now, struct cxm_err *err)
{
    cxm_err_clear(err);
    return webhook_verify(secret, id, ts, sig, body, strlen(body), now, TOL, err);
}

static void ts_str(char *out, size_t n, int64_t ts)
{
    snprintf(out, n, "%" PRId64, ts);
}

/* ---- signatures ----------------------------------------------------------- */

Test(webhook, signs_the_standard_webhooks_test_vector)
{
    char sig[WEBHOOK_SIG_LEN];
    struct cxm_err err;
    cr_assert_eq(webhook_sign(VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig, &err),
                 CXM_OK, "%s", err.msg);
    cr_assert_str_eq(sig, VEC_SIG);
    /* the secret without its prefix is the same key */
    cr_assert_eq(webhook_sign(VEC_SECRET + 6, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig,
                              &err), CXM_OK, "%s", err.msg);
    cr_assert_str_eq(sig, VEC_SIG);
}

Test(webhook, verifies_the_standard_webhooks_test_vector)
{
    struct cxm_err err;
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, VEC_TS, &err), CXM_OK,
                 "%s", err.msg);
    cr_assert_eq(verify(VEC_SECRET + 6, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, VEC_TS + 10, &err),
                 CXM_OK, "%s", err.msg);
    /* the specification's invalid signature: last byte changed */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S,
                        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", VEC_BODY, VEC_TS, &err),
                 CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
}

Test(webhook, sign_then_verify_round_trips)
{
    char secret[WEBHOOK_SECRET_LEN], sig[WEBHOOK_SIG_LEN], ts[32];
    struct cxm_err err;
    const int64_t now = INT64_C(1750000000);
    static const char bin[] = "caf\xc3\xa9 \x00 binary\xff";
    const char *bodies[] = {"", "x", "{\"event\":\"survey.answered\",\"score\":9}", bin};
    for (int k = 0; k < 20; k++) {
        cr_assert_eq(webhook_secret_new(secret), CXM_OK);
        for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
            size_t len = b == 3 ? sizeof bin - 1 : strlen(bodies[b]);
            cr_assert_eq(webhook_sign(secret, "msg_1", now + k, bodies[b], len, sig, &err),
                         CXM_OK, "%s", err.msg);
            cr_assert_eq(strncmp(sig, "v1,", 3), 0);
            cr_assert_eq(strlen(sig), 3 + 44);
            ts_str(ts, sizeof ts, now + k);
            cr_assert_eq(webhook_verify(secret, "msg_1", ts, sig, bodies[b], len, now, TOL, &err),
                         CXM_OK, "%s", err.msg);
        }
    }
    /* an empty body may be NULL */
    cr_assert_eq(webhook_sign(secret, "msg_1", now, NULL, 0, sig, &err), CXM_OK);
    ts_str(ts, sizeof ts, now);
    cr_assert_eq(webhook_verify(secret, "msg_1", ts, sig, NULL, 0, now, TOL, &err), CXM_OK);
    cr_assert_eq(webhook_verify(secret, "msg_1", ts, sig, "", 0, now, TOL, &err), CXM_OK);
}

Test(webhook, tampering_with_body_id_or_timestamp_fails)
{
    struct cxm_err err;
    /* one byte more, one byte less, one byte changed */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, "{\"test\": 2432232315}", VEC_TS,
                        &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, "{\"test\": 2432232314} ", VEC_TS,
                        &err), CXM_EINVAL);
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, "{\"test\": 243223231}", VEC_TS,
                        &err), CXM_EINVAL);
    /* another message id */
    cr_assert_eq(verify(VEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJeK", VEC_TS_S, VEC_SIG, VEC_BODY,
                        VEC_TS, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
    /* another timestamp, still within tolerance */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, "1614265331", VEC_SIG, VEC_BODY, VEC_TS, &err),
                 CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
    /* another key */
    cr_assert_eq(verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", VEC_ID, VEC_TS_S, VEC_SIG,
                        VEC_BODY, VEC_TS, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
    /* a signature cut short, or not base64 */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ",
                        VEC_BODY, VEC_TS, &err), CXM_EINVAL);
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, "v1,!!!", VEC_BODY, VEC_TS, &err),
                 CXM_EINVAL);
    /* the right bytes under another version, or no version at all */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S,
                        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VEC_BODY, VEC_TS, &err),
                 CXM_EINVAL);
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S,
                        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VEC_BODY, VEC_TS, &err),
                 CXM_EINVAL);
    /* empty and missing headers */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, "", VEC_BODY, VEC_TS, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
    cr_assert_eq(webhook_verify(VEC_SECRET, VEC_ID, VEC_TS_S, NULL, VEC_BODY, strlen(VEC_BODY),
                                VEC_TS, TOL, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
}

Test(webhook, one_valid_signature_among_several_passes)
{
    struct cxm_err err;
    /* the specification's multi-signature case: wrong v1, a v2, the right
     * one, wrong v1 again */
    const char *hdr = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
                      "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " VEC_SIG " "
                      "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, hdr, VEC_BODY, VEC_TS, &err), CXM_OK,
                 "%s", err.msg);
    /* first, last, with extra spaces around */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S,
                        VEC_SIG " v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", VEC_BODY,
                        VEC_TS, &err), CXM_OK);
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S,
                        "  v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=  " VEC_SIG "  ",
                        VEC_BODY, VEC_TS, &err), CXM_OK);
    /* garbage entries do not stop the scan */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, "v1, v1,=== , x " VEC_SIG, VEC_BODY,
                        VEC_TS, &err), CXM_OK);
    /* none valid */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S,
                        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
                        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                        VEC_BODY, VEC_TS, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
}

Test(webhook, tolerance_boundaries_in_both_directions)
{
    struct cxm_err err;
    /* the vector's signature fixes ts; move now around it */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, VEC_TS + TOL, &err),
                 CXM_OK, "%s", err.msg);
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, VEC_TS + TOL + 1, &err),
                 CXM_EINVAL);
    cr_assert_str_eq(err.msg, "timestamp too old");
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, VEC_TS - TOL, &err),
                 CXM_OK, "%s", err.msg);
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, VEC_TS - TOL - 1, &err),
                 CXM_EINVAL);
    cr_assert_str_eq(err.msg, "timestamp in the future");
    /* the timestamp is checked before the signature */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, VEC_TS_S, "v1,AAAA", VEC_BODY, VEC_TS + 10 * TOL,
                        &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "timestamp too old");
    /* tolerance 0: only the same second */
    cr_assert_eq(webhook_verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, strlen(VEC_BODY),
                                VEC_TS, 0, &err), CXM_OK);
    cr_assert_eq(webhook_verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, strlen(VEC_BODY),
                                VEC_TS + 1, 0, &err), CXM_EINVAL);
    cr_assert_eq(webhook_verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, strlen(VEC_BODY),
                                VEC_TS - 1, 0, &err), CXM_EINVAL);
    cr_assert_eq(webhook_verify(VEC_SECRET, VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, strlen(VEC_BODY),
                                VEC_TS, -1, &err), CXM_EINVAL);
    /* extremes do not overflow */
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, "9223372036854775807", VEC_SIG, VEC_BODY, INT64_MIN,
                        &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "timestamp in the future");
    cr_assert_eq(verify(VEC_SECRET, VEC_ID, "0", VEC_SIG, VEC_BODY, INT64_MAX, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "timestamp too old");
    cr_assert_eq(webhook_verify(VEC_SECRET, VEC_ID, "0", VEC_SIG, VEC_BODY, strlen(VEC_BODY),
                                INT64_MAX, INT64_MAX, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "no valid signature");
}

Test(webhook, bad_timestamps_are_named)
{
    struct cxm_err err;
    const char *bad[] = {"", "hello", "-1614265330", "+1614265330", " 1614265330",
                         "1614265330 ", "1614265330.0", "16142653300000000000000", "1e9",
                         "0x60378cf2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(verify(VEC_SECRET, VEC_ID, bad[i], VEC_SIG, VEC_BODY, VEC_TS, &err),
                     CXM_EINVAL, "'%s' accepted", bad[i]);
        cr_assert_str_eq(err.msg, "bad timestamp", "'%s': %s", bad[i], err.msg);
    }
    cr_assert_eq(webhook_verify(VEC_SECRET, VEC_ID, NULL, VEC_SIG, VEC_BODY, strlen(VEC_BODY),
                                VEC_TS, TOL, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "bad timestamp");
}

/* ---- secrets -------------------------------------------------------------- */

Test(webhook, bad_secrets_are_rejected)
{
    unsigned char key[WEBHOOK_KEY_MAX];
    size_t klen = 12345;
    struct cxm_err err;
    const char *bad[] = {
        "",
        "whsec_",
        "whsec_not base64!",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=",      /* wrong padding */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",        /* cut short */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",      /* trailing space */
        "whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLaSw",       /* URL-safe alphabet */
        "whsec_c2hvcnQ=",                               /* "short": 5 bytes */
        "whsec_MDEyMzQ1Njc4OWFiY2Rl",                   /* 15 bytes */
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",       /* prefix is case-sensitive */
        /* 65 bytes */
        "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cxm_err_clear(&err);
        cr_assert_eq(webhook_secret_key(bad[i], key, &klen, &err), CXM_EINVAL, "'%s' accepted",
                     bad[i]);
        cr_assert_neq(err.msg[0], '\0');
        cr_assert_eq(klen, 12345, "klen written on error");
    }
    cr_assert_eq(webhook_secret_key(NULL, key, &klen, &err), CXM_EINVAL);
    /* the messages say why */
    cr_assert_eq(webhook_secret_key(bad[10], key, &klen, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "webhook secret: key of 65 bytes, at most 64 allowed");
    char huge[400];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    cr_assert_eq(webhook_secret_key(huge, key, &klen, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "webhook secret: key longer than 64 bytes");
    cr_assert_eq(webhook_secret_key("whsec_c2hvcnQ=", key, &klen, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "webhook secret: key of 5 bytes, at least 16 needed");
    cr_assert_eq(webhook_secret_key("whsec_a b", key, &klen, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "webhook secret: not base64");
    /* signing and verifying with a bad secret fail the same way */
    char sig[WEBHOOK_SIG_LEN] = "untouched";
    cr_assert_eq(webhook_sign("whsec_c2hvcnQ=", "m", 1, "b", 1, sig, &err), CXM_EINVAL);
    cr_assert_str_eq(sig, "untouched");
    cr_assert_eq(verify("whsec_c2hvcnQ=", VEC_ID, VEC_TS_S, VEC_SIG, VEC_BODY, VEC_TS, &err),
                 CXM_EINVAL);
    /* err may be NULL */
    cr_assert_eq(webhook_secret_key("whsec_", key, &klen, NULL), CXM_EINVAL);
    cr_assert_eq(webhook_sign(VEC_SECRET, NULL, 1, "b", 1, sig, NULL), CXM_EINVAL);
    cr_assert_eq(webhook_sign(VEC_SECRET, "", 1, "b", 1, sig, NULL), CXM_EINVAL);
    cr_assert_eq(webhook_sign(VEC_SECRET, "m", 1, NULL, 1, sig, NULL), CXM_EINVAL);
}

Test(webhook, good_secrets_give_their_key)
{
    unsigned char key[WEBHOOK_KEY_MAX];
    size_t klen;
    struct cxm_err err;
    cr_assert_eq(webhook_secret_key(VEC_SECRET, key, &klen, &err), CXM_OK, "%s", err.msg);
    cr_assert_eq(klen, 24);
    cr_assert_eq(key[0], 0x31);   /* 'M' 'f' -> 001100 011111 -> 0x31 */
    /* 16 and 64 bytes: the limits themselves */
    cr_assert_eq(webhook_secret_key("whsec_MDEyMzQ1Njc4OWFiY2RlZg==", key, &klen, &err), CXM_OK);
    cr_assert_eq(klen, 16);
    cr_assert_eq(memcmp(key, "0123456789abcdef", 16), 0);
    cr_assert_eq(webhook_secret_key("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
                                    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==", key, &klen, &err),
                 CXM_OK, "%s", err.msg);
    cr_assert_eq(klen, 64);
}

Test(webhook, new_secrets_are_distinct_32_byte_keys)
{
    enum { N = 64 };
    static char s[N][WEBHOOK_SECRET_LEN];
    static unsigned char k[N][WEBHOOK_KEY_MAX];
    struct cxm_err err;
    for (int i = 0; i < N; i++) {
        memset(s[i], 'x', WEBHOOK_SECRET_LEN);
        cr_assert_eq(webhook_secret_new(s[i]), CXM_OK);
        cr_assert_lt(strnlen(s[i], WEBHOOK_SECRET_LEN), WEBHOOK_SECRET_LEN, "not terminated");
        cr_assert_eq(strncmp(s[i], "whsec_", 6), 0, "%s", s[i]);
        cr_assert_eq(strlen(s[i]), 6 + 44, "%s", s[i]);
        size_t klen;
        cr_assert_eq(webhook_secret_key(s[i], k[i], &klen, &err), CXM_OK, "%s: %s", s[i], err.msg);
        cr_assert_eq(klen, 32);
        for (int j = 0; j < i; j++) {
            cr_assert_str_neq(s[i], s[j]);
            cr_assert_neq(memcmp(k[i], k[j], 32), 0);
        }
    }
}

/* ---- delivery outcomes ---------------------------------------------------- */

Test(webhook, classify_every_interesting_status)
{
    static const struct {
        long status;
        enum webhook_verdict v;
    } cases[] = {
        {200, WH_DELIVERED}, {201, WH_DELIVERED}, {202, WH_DELIVERED}, {204, WH_DELIVERED},
        {299, WH_DELIVERED},
        {0, WH_RETRY}, {408, WH_RETRY}, {425, WH_RETRY}, {429, WH_RETRY},
        {500, WH_RETRY}, {502, WH_RETRY}, {503, WH_RETRY}, {504, WH_RETRY}, {599, WH_RETRY},
        {410, WH_GONE},
        {100, WH_FAILED}, {199, WH_FAILED}, {300, WH_FAILED}, {301, WH_FAILED},
        {302, WH_FAILED}, {304, WH_FAILED}, {307, WH_FAILED}, {400, WH_FAILED},
        {401, WH_FAILED}, {403, WH_FAILED}, {404, WH_FAILED}, {405, WH_FAILED},
        {409, WH_FAILED}, {411, WH_FAILED}, {413, WH_FAILED}, {422, WH_FAILED},
        {424, WH_FAILED}, {426, WH_FAILED}, {428, WH_FAILED}, {499, WH_FAILED},
        {600, WH_FAILED}, {-1, WH_FAILED}, {1, WH_FAILED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(webhook_classify(cases[i].status), cases[i].v, "%ld: %s, expected %s",
                     cases[i].status, webhook_verdict_name(webhook_classify(cases[i].status)),
                     webhook_verdict_name(cases[i].v));
    cr_assert_str_eq(webhook_verdict_name(WH_DELIVERED), "delivered");
    cr_assert_str_eq(webhook_verdict_name(WH_RETRY), "retry");
    cr_assert_str_eq(webhook_verdict_name(WH_FAILED), "failed");
    cr_assert_str_eq(webhook_verdict_name(WH_GONE), "gone");
    cr_assert_str_eq(webhook_verdict_name((enum webhook_verdict)0), "unknown");
    cr_assert_str_eq(webhook_verdict_name((enum webhook_verdict)99), "unknown");
}

/* ---- backoff -------------------------------------------------------------- */

/* rnd values that cover 0, the top, and many in between */
static uint32_t sample_rnd(uint32_t i)
{
    switch (i) {
    case 0: return 0;
    case 1: return 1;
    case 2: return UINT32_MAX;
    case 3: return UINT32_MAX - 1;
    case 4: return 0x80000000u;
    default: return i * 2654435761u;
    }
}

Test(webhook, backoff_grows_then_caps)
{
    const int64_t base = 1000, max = 3600000;
    /* rnd 0 gives the low end, d/2; d/2 + rnd % (d/2 + 1) with rnd = d/2
     * gives the top, d */
    int64_t d = base;
    for (int a = 1; a <= 40; a++) {
        int64_t want = d < max ? d : max;
        cr_assert_eq(webhook_backoff_ms(a, base, max, 0), want / 2, "attempt %d", a);
        cr_assert_eq(webhook_backoff_ms(a, base, max, (uint32_t)(want / 2)), want / 2 * 2,
                     "attempt %d", a);
        if (d < max)
            d *= 2;
    }
    /* the first attempts exactly: 1s, 2s, 4s, 8s ... */
    cr_assert_eq(webhook_backoff_ms(1, base, max, 500), 1000);
    cr_assert_eq(webhook_backoff_ms(2, base, max, 1000), 2000);
    cr_assert_eq(webhook_backoff_ms(3, base, max, 2000), 4000);
    cr_assert_eq(webhook_backoff_ms(12, base, max, 0), 1024000);   /* 2048s */
    cr_assert_eq(webhook_backoff_ms(13, base, max, 0), 1800000);   /* 4096s, capped at 1h */
    cr_assert_eq(webhook_backoff_ms(13, base, max, 1800000), 3600000);
    /* attempt < 1 counts as 1; non-positive base or max give 0 */
    cr_assert_eq(webhook_backoff_ms(0, base, max, 0), 500);
    cr_assert_eq(webhook_backoff_ms(-5, base, max, 0), 500);
    cr_assert_eq(webhook_backoff_ms(3, 0, max, 77), 0);
    cr_assert_eq(webhook_backoff_ms(3, base, 0, 77), 0);
    cr_assert_eq(webhook_backoff_ms(3, -1, max, 77), 0);
    /* max below base: max from the first attempt */
    cr_assert_eq(webhook_backoff_ms(1, 5000, 1000, 0), 500);
}

Test(webhook, backoff_jitter_stays_within_half_and_whole)
{
    const int64_t base = 250, max = 600000;
    for (int a = 1; a <= 70; a++) {
        int64_t d = a - 1 < 62 && base <= (max >> (a - 1)) ? base << (a - 1) : max;
        if (d > max)
            d = max;
        for (uint32_t i = 0; i < 20000; i++) {
            int64_t v = webhook_backoff_ms(a, base, max, sample_rnd(i));
            cr_assert_geq(v, d / 2, "attempt %d rnd %u: %" PRId64, a, sample_rnd(i), v);
            cr_assert_leq(v, d, "attempt %d rnd %u: %" PRId64, a, sample_rnd(i), v);
        }
        /* both ends are reached: rnd 0 and rnd d/2 (and its multiples) */
        cr_assert_eq(webhook_backoff_ms(a, base, max, 0), d / 2, "attempt %d", a);
        cr_assert_eq(webhook_backoff_ms(a, base, max, (uint32_t)(d / 2)), d / 2 * 2);
        cr_assert_eq(webhook_backoff_ms(a, base, max, (uint32_t)(d / 2 + 1)), d / 2);
    }
    /* every rnd for a small d: each value of [d/2, d] is hit */
    int hits[11] = {0};
    for (uint32_t r = 0; r < 100000; r++) {
        int64_t v = webhook_backoff_ms(1, 10, 10, r);
        cr_assert(v >= 5 && v <= 10);
        hits[v]++;
    }
    for (int v = 5; v <= 10; v++)
        cr_assert_gt(hits[v], 0, "%d never drawn", v);
}

Test(webhook, backoff_does_not_overflow)
{
    const uint32_t rs[] = {0, 1, 12345, UINT32_MAX};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        int64_t v = webhook_backoff_ms(1000, 1000, 86400000, rs[i]);
        cr_assert(v >= 43200000 && v <= 86400000, "%" PRId64, v);
        v = webhook_backoff_ms(INT32_MAX, 1000, 86400000, rs[i]);
        cr_assert(v >= 43200000 && v <= 86400000, "%" PRId64, v);
        /* the largest numbers: still within [max/2, max] */
        v = webhook_backoff_ms(1000, INT64_MAX, INT64_MAX, rs[i]);
        cr_assert(v >= INT64_MAX / 2 && v <= INT64_MAX, "%" PRId64, v);
        v = webhook_backoff_ms(64, 1, INT64_MAX, rs[i]);
        cr_assert(v >= INT64_MAX / 2 && v <= INT64_MAX, "%" PRId64, v);
        v = webhook_backoff_ms(63, 1, INT64_MAX, rs[i]);   /* 2^62 exactly */
        cr_assert(v >= (INT64_C(1) << 61) && v <= (INT64_C(1) << 62), "%" PRId64, v);
    }
}
