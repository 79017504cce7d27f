/* identity.c - see identity.h */
#include "core/identity.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/strmap.h"
#include "cxm_limits.h"

/* RFC 5321 caps a forward path, hence an address, at 254 bytes. */
#define EMAIL_MAX 254
/* E.164 allows at most 15 digits; the 8 and 4 floors reject fragments that
 * would link unrelated customers. */
#define PHONE_E164_MIN 8
#define PHONE_DIGITS_MIN 4
#define PHONE_DIGITS_MAX 15
#define SOCIAL_PREFIX "social:"
#define SOCIAL_NETWORK_MAX 32

static const char *const plain_kinds[] = {
    "email", "phone", "device", "cookie", "crm", "loyalty",
};

/* trunk is what a national number may carry in front that is never part of
 * the number itself; it is dropped before the calling code goes in front.
 * Countries without a trunk prefix whose numbers never begin with 0 still
 * list "0": a 0 typed from habit (or from a retired plan, as in PL and PT) is
 * dropped and nothing valid is lost. Italy and Cote d'Ivoire list "": there
 * the 0 belongs to the number (Rome is +39 06...).
 * trunk_when, when not 0, is the digit count the national number must have
 * for trunk to be dropped: NANP and Russian numbers of 10 digits may begin
 * with 1 or 8 themselves (e.g. Russian 800 numbers).
 * Sorted by iso. */
struct country {
    char iso[3];
    uint16_t code;
    char trunk[3];
    uint8_t trunk_when;
};

static const struct country countries[] = {
    {"AE", 971, "0", 0}, {"AR", 54, "0", 0},   {"AT", 43, "0", 0},
    {"AU", 61, "0", 0},  {"BD", 880, "0", 0},  {"BE", 32, "0", 0},
    {"BG", 359, "0", 0}, {"BR", 55, "0", 0},   {"CA", 1, "1", 11},
    {"CH", 41, "0", 0},  {"CI", 225, "", 0},   {"CL", 56, "0", 0},
    {"CM", 237, "0", 0}, {"CN", 86, "0", 0},   {"CO", 57, "0", 0},
    {"CR", 506, "0", 0}, {"CY", 357, "0", 0},  {"CZ", 420, "0", 0},
    {"DE", 49, "0", 0},  {"DK", 45, "0", 0},   {"DO", 1, "1", 11},
    {"DZ", 213, "0", 0}, {"EC", 593, "0", 0},  {"EE", 372, "0", 0},
    {"EG", 20, "0", 0},  {"ES", 34, "0", 0},   {"ET", 251, "0", 0},
    {"FI", 358, "0", 0}, {"FR", 33, "0", 0},   {"GB", 44, "0", 0},
    {"GH", 233, "0", 0}, {"GR", 30, "0", 0},   {"GT", 502, "0", 0},
    {"HK", 852, "0", 0}, {"HR", 385, "0", 0},  {"HU", 36, "06", 0},
    {"ID", 62, "0", 0},  {"IE", 353, "0", 0},  {"IL", 972, "0", 0},
    {"IN", 91, "0", 0},  {"IQ", 964, "0", 0},  {"IR", 98, "0", 0},
    {"IS", 354, "0", 0}, {"IT", 39, "", 0},    {"JO", 962, "0", 0},
    {"JP", 81, "0", 0},  {"KE", 254, "0", 0},  {"KR", 82, "0", 0},
    {"KW", 965, "0", 0}, {"KZ", 7, "8", 11},   {"LB", 961, "0", 0},
    {"LK", 94, "0", 0},  {"LU", 352, "0", 0},  {"LV", 371, "0", 0},
    {"MA", 212, "0", 0}, {"MT", 356, "0", 0},  {"MX", 52, "0", 0},
    {"MY", 60, "0", 0},  {"NG", 234, "0", 0},  {"NL", 31, "0", 0},
    {"NO", 47, "0", 0},  {"NP", 977, "0", 0},  {"NZ", 64, "0", 0},
    {"OM", 968, "0", 0}, {"PA", 507, "0", 0},  {"PE", 51, "0", 0},
    {"PH", 63, "0", 0},  {"PK", 92, "0", 0},   {"PL", 48, "0", 0},
    {"PR", 1, "1", 11},  {"PT", 351, "0", 0},  {"PY", 595, "0", 0},
    {"QA", 974, "0", 0}, {"RO", 40, "0", 0},   {"RS", 381, "0", 0},
    {"RU", 7, "8", 11},  {"SA", 966, "0", 0},  {"SE", 46, "0", 0},
    {"SG", 65, "0", 0},  {"SI", 386, "0", 0},  {"SK", 421, "0", 0},
    {"SN", 221, "0", 0}, {"TH", 66, "0", 0},   {"TN", 216, "0", 0},
    {"TR", 90, "0", 0},  {"TW", 886, "0", 0},  {"TZ", 255, "0", 0},
    {"UA", 380, "0", 0}, {"UG", 256, "0", 0},  {"US", 1, "1", 11},
    {"UY", 598, "0", 0}, {"VE", 58, "0", 0},   {"VN", 84, "0", 0},
    {"ZA", 27, "0", 0},
};

/* Own ASCII helpers: <ctype.h> follows the locale, and normalised values
 * must not depend on how the process was started. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char to_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

/* NULL when s[0..n) is valid UTF-8 without control characters, else what is
 * wrong. C1 controls are refused too: they render as nothing, so two values
 * that look the same could stay distinct identities. */
static const char *text_problem(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x20 || c == 0x7f)
            return "contains a control character";
        if (c < 0x80) {
            i++;
            continue;
        }
        /* The lead byte gives the length; 0xc0, 0xc1 and 0xf5.. can only
         * start overlong or out-of-range sequences. */
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (c < 0xc2 || c > 0xf4)
            return "is not valid UTF-8";
        static const unsigned lead_mask[5] = {0, 0, 0x1f, 0x0f, 0x07};
        static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        unsigned cp = c & lead_mask[len];
        if (n - i < len)
            return "is not valid UTF-8";
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return "is not valid UTF-8";
            cp = (cp << 6) | (p[i + k] & 0x3fu);
        }
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return "is not valid UTF-8";
        if (cp <= 0x9f)
            return "contains a control character";
        i += len;
    }
    return NULL;
}

bool identity_kind_valid(const char *kind)
{
    if (!kind)
        return false;
    for (size_t i = 0; i < sizeof plain_kinds / sizeof plain_kinds[0]; i++) {
        if (strcmp(kind, plain_kinds[i]) == 0)
            return true;
    }
    size_t plen = sizeof SOCIAL_PREFIX - 1;
    if (strncmp(kind, SOCIAL_PREFIX, plen) != 0)
        return false;
    const char *net = kind + plen;
    size_t n = 0;
    for (; net[n]; n++) {
        char c = net[n];
        bool ok = (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
                  c == '.' || c == '-';
        if (!ok || n >= SOCIAL_NETWORK_MAX)
            return false;
    }
    return n > 0;
}

static const struct country *country_find(const char *country)
{
    if (!country || !country[0] || !country[1] || country[2])
        return NULL;
    char iso[3] = {to_upper(country[0]), to_upper(country[1]), '\0'};
    for (size_t i = 0; i < sizeof countries / sizeof countries[0]; i++) {
        if (memcmp(countries[i].iso, iso, 3) == 0)
            return &countries[i];
    }
    return NULL;
}

int identity_calling_code(const char *country)
{
    const struct country *c = country_find(country);
    return c ? c->code : 0;
}

/* out has CXM_MAX_IDENTITY + 1 bytes; n <= EMAIL_MAX was checked. */
static int norm_email(const char *s, size_t n, char *out, struct cxm_err *err)
{
    size_t at = n, nat = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_space(s[i]))
            return cxm_err_set(err, CXM_EINVAL, "email contains whitespace");
        if (s[i] == '@') {
            at = i;
            nat++;
        }
        out[i] = to_lower(s[i]);
    }
    out[n] = '\0';
    if (nat == 0)
        return cxm_err_set(err, CXM_EINVAL, "email has no '@'");
    if (nat > 1)
        return cxm_err_set(err, CXM_EINVAL, "email has more than one '@'");
    if (at == 0)
        return cxm_err_set(err, CXM_EINVAL, "email has an empty local part");
    const char *dom = out + at + 1;
    size_t dn = n - at - 1;
    if (dn == 0)
        return cxm_err_set(err, CXM_EINVAL, "email has an empty domain");
    if (!memchr(dom, '.', dn))
        return cxm_err_set(err, CXM_EINVAL, "email domain has no '.'");
    if (dom[0] == '.' || dom[dn - 1] == '.')
        return cxm_err_set(err, CXM_EINVAL,
                           "email domain starts or ends with '.'");
    if (strstr(dom, ".."))
        return cxm_err_set(err, CXM_EINVAL, "email domain has an empty label");
    return CXM_OK;
}

static bool phone_separator(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' ||
           c == '/';
}

/* out has CXM_MAX_IDENTITY + 1 bytes; n <= CXM_MAX_IDENTITY was checked. */
static int norm_phone(const char *s, size_t n, const char *country, char *out,
                      struct cxm_err *err)
{
    char d[CXM_MAX_IDENTITY + 1];
    size_t nd = 0;
    bool plus = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool intl = plus || (nd >= 2 && d[0] == '0' && d[1] == '0');
        /* "+44 (0)20 ..." marks the trunk 0 to leave out when calling from
         * abroad, which an international number always is. */
        if (intl && c == '(' && n - i >= 3 && s[i + 1] == '0' &&
            s[i + 2] == ')') {
            i += 2;
            continue;
        }
        if (is_digit(c)) {
            d[nd++] = c;
        } else if (c == '+') {
            if (plus || nd > 0)
                return cxm_err_set(err, CXM_EINVAL,
                                   "phone has a '+' that is not at the start");
            plus = true;
        } else if (!phone_separator(c)) {
            return cxm_err_set(err, CXM_EINVAL,
                               "phone has a character other than digits, "
                               "'+' and separators at byte %zu", i + 1);
        }
    }
    if (nd == 0)
        return cxm_err_set(err, CXM_EINVAL, "phone has no digits");

    const char *num = d;
    if (!plus && nd >= 2 && d[0] == '0' && d[1] == '0') {
        plus = true;
        num += 2;
        nd -= 2;
    }
    if (plus) {
        if (nd > 0 && num[0] == '0')
            return cxm_err_set(err, CXM_EINVAL,
                               "phone calling code starts with 0");
        if (nd < PHONE_E164_MIN || nd > PHONE_DIGITS_MAX)
            return cxm_err_set(err, CXM_EINVAL,
                               "international phone has %zu digits, not %d-%d",
                               nd, PHONE_E164_MIN, PHONE_DIGITS_MAX);
        out[0] = '+';
        memcpy(out + 1, num, nd);
        out[nd + 1] = '\0';
        return CXM_OK;
    }

    const struct country *co = country_find(country);
    if (!co) {
        if (nd < PHONE_DIGITS_MIN || nd > PHONE_DIGITS_MAX)
            return cxm_err_set(err, CXM_EINVAL,
                               "phone has %zu digits, not %d-%d", nd,
                               PHONE_DIGITS_MIN, PHONE_DIGITS_MAX);
        memcpy(out, num, nd);
        out[nd] = '\0';
        return CXM_OK;
    }
    size_t tn = strlen(co->trunk);
    if (tn > 0 && nd > tn && memcmp(num, co->trunk, tn) == 0 &&
        (co->trunk_when == 0 || nd == co->trunk_when)) {
        num += tn;
        nd -= tn;
    }
    int w = snprintf(out, CXM_MAX_IDENTITY + 1, "+%u%.*s", (unsigned)co->code,
                     (int)nd, num);
    if (w < 0 || (size_t)w > CXM_MAX_IDENTITY)
        return cxm_err_set(err, CXM_EINVAL, "phone does not fit");
    size_t total = (size_t)w - 1;
    if (total < PHONE_E164_MIN || total > PHONE_DIGITS_MAX)
        return cxm_err_set(err, CXM_EINVAL,
                           "phone has %zu digits with calling code +%u, "
                           "not %d-%d", total, (unsigned)co->code,
                           PHONE_E164_MIN, PHONE_DIGITS_MAX);
    return CXM_OK;
}

int identity_normalize(const char *kind, const char *value, const char *country,
                       char *out, size_t outsz, struct cxm_err *err)
{
    if (!kind || !value || !out)
        return cxm_err_set(err, CXM_EINVAL, "identity kind or value missing");
    if (!identity_kind_valid(kind))
        return cxm_err_set(err, CXM_EINVAL, "unknown identity kind");

    const char *s = value;
    size_t n = strlen(value);
    trim(&s, &n);
    if (n == 0)
        return cxm_err_set(err, CXM_EINVAL, "%s is empty", kind);
    if (n > CXM_MAX_IDENTITY)
        return cxm_err_set(err, CXM_ETOOBIG, "%s is longer than %d bytes", kind,
                           CXM_MAX_IDENTITY);
    const char *problem = text_problem(s, n);
    if (problem)
        return cxm_err_set(err, CXM_EINVAL, "%s %s", kind, problem);

    char buf[CXM_MAX_IDENTITY + 1];
    int rc = CXM_OK;
    if (strcmp(kind, "email") == 0) {
        if (n > EMAIL_MAX)
            return cxm_err_set(err, CXM_ETOOBIG,
                               "email is longer than %d bytes", EMAIL_MAX);
        rc = norm_email(s, n, buf, err);
    } else if (strcmp(kind, "phone") == 0) {
        rc = norm_phone(s, n, country, buf, err);
    } else if (strncmp(kind, SOCIAL_PREFIX, sizeof SOCIAL_PREFIX - 1) == 0) {
        if (s[0] == '@') {
            s++;
            n--;
            trim(&s, &n);
        }
        for (size_t i = 0; i < n; i++)
            buf[i] = to_lower(s[i]);
        buf[n] = '\0';
    } else {
        memcpy(buf, s, n);
        buf[n] = '\0';
    }
    if (rc != CXM_OK)
        return rc;

    size_t len = strlen(buf);
    if (len == 0)
        return cxm_err_set(err, CXM_EINVAL, "%s is empty", kind);
    if (len >= outsz)
        return cxm_err_set(err, CXM_ETOOBIG,
                           "normalised %s needs %zu bytes, buffer has %zu",
                           kind, len + 1, outsz);
    memcpy(out, buf, len + 1);
    return CXM_OK;
}

uint64_t identity_hash(const char *kind, const char *value)
{
    return strmap_hash2(kind, strlen(kind), value, strlen(value));
}
