/* webhook.c - see webhook.h */
#include "core/webhook.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define SECRET_PREFIX "whsec_"
#define SECRET_PREFIX_LEN (sizeof SECRET_PREFIX - 1)
#define NEW_KEY_LEN 32
#define MAC_LEN crypto_auth_hmacsha256_BYTES

_Static_assert(SECRET_PREFIX_LEN + sodium_base64_ENCODED_LEN(NEW_KEY_LEN,
               sodium_base64_VARIANT_ORIGINAL) <= WEBHOOK_SECRET_LEN,
               "WEBHOOK_SECRET_LEN holds a new secret");
_Static_assert(3 + sodium_base64_ENCODED_LEN(MAC_LEN, sodium_base64_VARIANT_ORIGINAL) <=
               WEBHOOK_SIG_LEN, "WEBHOOK_SIG_LEN holds a signature");

static bool sodium_ready(void)
{
    return sodium_init() >= 0;
}

int webhook_secret_new(char out[WEBHOOK_SECRET_LEN])
{
    if (!sodium_ready())
        return CXM_EIO;
    unsigned char key[NEW_KEY_LEN];
    randombytes_buf(key, sizeof key);
    memcpy(out, SECRET_PREFIX, SECRET_PREFIX_LEN);
    sodium_bin2base64(out + SECRET_PREFIX_LEN, WEBHOOK_SECRET_LEN - SECRET_PREFIX_LEN, key,
                      sizeof key, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof key);
    return CXM_OK;
}

int webhook_secret_key(const char *secret, unsigned char key[WEBHOOK_KEY_MAX], size_t *klen,
                       struct cxm_err *err)
{
    if (!secret)
        return cxm_err_set(err, CXM_EINVAL, "no webhook secret");
    if (!sodium_ready())
        return cxm_err_set(err, CXM_EIO, "libsodium failed to initialise");
    const char *b64 = secret;
    if (strncmp(b64, SECRET_PREFIX, SECRET_PREFIX_LEN) == 0)
        b64 += SECRET_PREFIX_LEN;
    /* base64 of WEBHOOK_KEY_MAX bytes is 88 characters, which may decode
     * to up to 66 bytes: anything longer is too long before decoding */
    size_t blen = strlen(b64);
    if (blen > sodium_base64_ENCODED_LEN(WEBHOOK_KEY_MAX, sodium_base64_VARIANT_ORIGINAL) - 1)
        return cxm_err_set(err, CXM_EINVAL, "webhook secret: key longer than %d bytes",
                           WEBHOOK_KEY_MAX);
    unsigned char tmp[WEBHOOK_KEY_MAX + 3];
    size_t n = 0;
    /* b64_end NULL: the whole string must be base64, nothing after it */
    if (sodium_base642bin(tmp, sizeof tmp, b64, blen, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        sodium_memzero(tmp, sizeof tmp);
        return cxm_err_set(err, CXM_EINVAL, "webhook secret: not base64");
    }
    if (n > WEBHOOK_KEY_MAX) {
        sodium_memzero(tmp, sizeof tmp);
        return cxm_err_set(err, CXM_EINVAL, "webhook secret: key of %zu bytes, at most %d allowed",
                           n, WEBHOOK_KEY_MAX);
    }
    if (n < WEBHOOK_KEY_MIN) {
        sodium_memzero(tmp, sizeof tmp);
        return cxm_err_set(err, CXM_EINVAL, "webhook secret: key of %zu bytes, at least %d needed",
                           n, WEBHOOK_KEY_MIN);
    }
    memcpy(key, tmp, n);
    *klen = n;
    sodium_memzero(tmp, sizeof tmp);
    return CXM_OK;
}

/* HMAC-SHA256(key, msg_id "." ts "." body) into mac. */
static int mac_of(const char *secret, const char *msg_id, int64_t ts, const void *body,
                  size_t len, unsigned char mac[MAC_LEN], struct cxm_err *err)
{
    if (!msg_id || !*msg_id)
        return cxm_err_set(err, CXM_EINVAL, "webhook: no message id");
    if (!body && len > 0)
        return cxm_err_set(err, CXM_EINVAL, "webhook: no body");
    unsigned char key[WEBHOOK_KEY_MAX];
    size_t klen;
    int rc = webhook_secret_key(secret, key, &klen, err);
    if (rc)
        return rc;
    char tsbuf[32];
    int tn = snprintf(tsbuf, sizeof tsbuf, ".%" PRId64 ".", ts);
    if (tn < 0 || (size_t)tn >= sizeof tsbuf) {
        sodium_memzero(key, sizeof key);
        return cxm_err_set(err, CXM_EINVAL, "webhook: bad timestamp");
    }
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id,
                                  (unsigned long long)strlen(msg_id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsbuf, (unsigned long long)tn);
    if (len > 0)
        crypto_auth_hmacsha256_update(&st, body, (unsigned long long)len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(key, sizeof key);
    return CXM_OK;
}

int webhook_sign(const char *secret, const char *msg_id, int64_t ts, const void *body,
                 size_t len, char out[WEBHOOK_SIG_LEN], struct cxm_err *err)
{
    unsigned char mac[MAC_LEN];
    int rc = mac_of(secret, msg_id, ts, body, len, mac, err);
    if (rc)
        return rc;
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, WEBHOOK_SIG_LEN - 3, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
    return CXM_OK;
}

/* A timestamp header: ASCII digits only, no sign, no space, no overflow. */
static bool parse_ts(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v))
            return false;
    }
    *out = v;
    return true;
}

/* True when one "v1,<base64>" entry of the header decodes to mac. */
static bool header_has_mac(const char *h, const unsigned char mac[MAC_LEN])
{
    bool found = false;
    while (*h) {
        while (*h == ' ')
            h++;
        const char *e = strchr(h, ' ');
        size_t n = e ? (size_t)(e - h) : strlen(h);
        if (n > 3 && memcmp(h, "v1,", 3) == 0) {
            unsigned char got[MAC_LEN];
            size_t glen = 0;
            if (sodium_base642bin(got, sizeof got, h + 3, n - 3, NULL, &glen, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) == 0 &&
                glen == MAC_LEN && sodium_memcmp(got, mac, MAC_LEN) == 0)
                found = true;
        }
        h += n;
    }
    return found;
}

int webhook_verify(const char *secret, const char *msg_id, const char *ts_header,
                   const char *sig_header, const void *body, size_t len, int64_t now,
                   int64_t tolerance, struct cxm_err *err)
{
    if (tolerance < 0)
        return cxm_err_set(err, CXM_EINVAL, "webhook: negative tolerance");
    int64_t ts, diff;
    if (!parse_ts(ts_header, &ts))
        return cxm_err_set(err, CXM_EINVAL, "bad timestamp");
    /* ts >= 0 here, so now - ts overflows only for now near INT64_MIN:
     * far in the past of ts, which is "in the future" */
    if (__builtin_sub_overflow(now, ts, &diff))
        return cxm_err_set(err, CXM_EINVAL, "timestamp in the future");
    if (diff > tolerance)
        return cxm_err_set(err, CXM_EINVAL, "timestamp too old");
    if (diff < -tolerance)
        return cxm_err_set(err, CXM_EINVAL, "timestamp in the future");
    unsigned char mac[MAC_LEN];
    int rc = mac_of(secret, msg_id, ts, body, len, mac, err);
    if (rc)
        return rc;
    if (!sig_header || !header_has_mac(sig_header, mac))
        return cxm_err_set(err, CXM_EINVAL, "no valid signature");
    return CXM_OK;
}

enum webhook_verdict webhook_classify(long http_status)
{
    if (http_status >= 200 && http_status <= 299)
        return WH_DELIVERED;
    if (http_status == 0 || http_status == 408 || http_status == 425 || http_status == 429 ||
        (http_status >= 500 && http_status <= 599))
        return WH_RETRY;
    if (http_status == 410)
        return WH_GONE;
    return WH_FAILED;
}

const char *webhook_verdict_name(enum webhook_verdict v)
{
    switch (v) {
    case WH_DELIVERED: return "delivered";
    case WH_RETRY: return "retry";
    case WH_FAILED: return "failed";
    case WH_GONE: return "gone";
    }
    return "unknown";
}

int64_t webhook_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint32_t rnd)
{
    if (base_ms <= 0 || max_ms <= 0)
        return 0;
    unsigned shift = attempt < 1 ? 0u : (unsigned)(attempt - 1);
    int64_t d;
    /* base << shift <= max exactly when base <= max >> shift; a shift of
     * 63 or more leaves max >> shift at 0, below any base */
    if (shift >= 63 || base_ms > (max_ms >> shift))
        d = max_ms;
    else
        d = base_ms << shift;
    int64_t half = d / 2;
    return half + (int64_t)((uint64_t)rnd % (uint64_t)(half + 1));
}
