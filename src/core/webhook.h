/* webhook.h - Standard Webhooks (www.standardwebhooks.com): secrets,
 * signatures, verification as a receiver does it, and what a delivery
 * attempt's HTTP status means for retries. Pure: no I/O, no clock (now is
 * a parameter), no globals; uses libsodium for HMAC, base64 and random. */
#ifndef CXM_WEBHOOK_H
#define CXM_WEBHOOK_H

#include "common.h"

#define WEBHOOK_SECRET_LEN 64    /* "whsec_" + base64 of 32 bytes + NUL, with room */
#define WEBHOOK_KEY_MIN 16       /* shorter keys are too easy to guess */
#define WEBHOOK_KEY_MAX 64
#define WEBHOOK_SIG_LEN 50       /* "v1," + base64 of 32 bytes + NUL, with room */

/* Every function here that needs libsodium calls sodium_init() itself
 * (idempotent, thread-safe); callers need not. */

/* Writes a new random secret "whsec_<base64 of 32 random bytes>" (a
 * NUL-terminated string) into out. CXM_OK, or CXM_EIO when libsodium
 * cannot initialise (no entropy source); out is untouched then. */
int webhook_secret_new(char out[WEBHOOK_SECRET_LEN]);

/* The key bytes of a secret, written with or without the "whsec_" prefix,
 * into key (*klen bytes). CXM_EINVAL when secret is NULL, is not padded
 * standard base64 (RFC 4648 section 4, nothing else around it) or its key
 * is shorter than WEBHOOK_KEY_MIN or longer than WEBHOOK_KEY_MAX bytes;
 * key and *klen are untouched then. */
int webhook_secret_key(const char *secret, unsigned char key[WEBHOOK_KEY_MAX], size_t *klen,
                       struct cxm_err *err);

/* The signature header value "v1,<base64 HMAC-SHA256(key, msg_id "." ts
 * "." body)>" (ts in decimal) into out, NUL-terminated. body may be NULL
 * when len is 0. CXM_EINVAL for a bad secret (as webhook_secret_key), a
 * NULL or empty msg_id or a NULL body with len > 0; out is untouched then. */
int webhook_sign(const char *secret, const char *msg_id, int64_t ts, const void *body,
                 size_t len, char out[WEBHOOK_SIG_LEN], struct cxm_err *err);

/* Verifies a delivery as a receiver would. ts_header is the
 * webhook-timestamp header: a decimal integer (ASCII digits only) within
 * tolerance seconds of now in either direction (a difference of exactly
 * tolerance passes). sig_header is the webhook-signature header: one or
 * more space-separated "<version>,<base64>" entries; entries other than
 * "v1" are ignored and one matching v1 entry suffices (compared in
 * constant time). The timestamp is checked first, then the signature.
 * Returns CXM_OK, or CXM_EINVAL with err->msg saying which check failed:
 * "bad timestamp" (NULL, empty, not digits, out of range), "timestamp too
 * old", "timestamp in the future", "no valid signature" (also for a NULL
 * sig_header); or the messages of webhook_secret_key and webhook_sign for
 * a bad secret, msg_id or body, or a negative tolerance. */
int webhook_verify(const char *secret, const char *msg_id, const char *ts_header,
                   const char *sig_header, const void *body, size_t len, int64_t now,
                   int64_t tolerance, struct cxm_err *err);

/* What a delivery attempt's outcome means. */
enum webhook_verdict { WH_DELIVERED = 1, WH_RETRY, WH_FAILED, WH_GONE };

/* http_status 0 means no HTTP answer (connect error, timeout). 2xx:
 * DELIVERED; 0, 408, 425, 429 and 5xx: RETRY; 410: GONE (the endpoint asks
 * to be disabled); every other status (1xx, 3xx, other 4xx, out of range):
 * FAILED (stop, no retry). */
enum webhook_verdict webhook_classify(long http_status);

/* "delivered", "retry", "failed", "gone"; "unknown" for any other value. */
const char *webhook_verdict_name(enum webhook_verdict v);

/* Milliseconds to wait before attempt number attempt + 1, after attempt
 * failed attempts: d = min(max_ms, base_ms * 2^(attempt - 1)), then equal
 * jitter: d/2 + rnd % (d/2 + 1), so the result lies in [d/2, d]. rnd is a
 * caller-drawn uniform random number. attempt < 1 counts as 1; base_ms or
 * max_ms <= 0 gives 0. Never overflows, whatever attempt is. */
int64_t webhook_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint32_t rnd);

#endif
