/* test_identity.c - identity kinds, normalisation and calling codes. */
#include <criterion/criterion.h>
#include <string.h>

#include "common.h"
#include "core/identity.h"
#include "cxm_limits.h"

/* Normalises and asserts success and the exact result. */
static void expect_ok(const char *kind, const char *value, const char *country,
                      const char *want)
{
    char out[CXM_MAX_IDENTITY + 1];
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = identity_normalize(kind, value, country, out, sizeof out, &err);
    cr_assert_eq(rc, CXM_OK, "%s '%s' (%s): rc %d: %s", kind, value,
                 country ? country : "-", rc, err.msg);
    cr_assert_str_eq(out, want, "%s '%s' (%s)", kind, value,
                     country ? country : "-");
}

/* Normalises and asserts the failure code, a message, and that out was left
 * untouched. msg_part (may be NULL) must occur in err.msg. */
static void expect_fail(const char *kind, const char *value, const char *country,
                        int want_rc, const char *msg_part)
{
    char out[CXM_MAX_IDENTITY + 1];
    memset(out, 'Z', sizeof out);
    out[sizeof out - 1] = '\0';
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = identity_normalize(kind, value, country, out, sizeof out, &err);
    cr_assert_eq(rc, want_rc, "%s '%s': rc %d, want %d (%s)", kind, value, rc,
                 want_rc, err.msg);
    cr_assert_eq(err.code, want_rc);
    cr_assert_neq(err.msg[0], '\0', "no message");
    if (msg_part)
        cr_assert(strstr(err.msg, msg_part), "message '%s' lacks '%s'",
                  err.msg, msg_part);
    cr_assert_eq(out[0], 'Z', "out written on failure");
}

Test(identity, kind_valid_plain)
{
    const char *ok[] = {"email", "phone", "device", "cookie", "crm", "loyalty"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_assert(identity_kind_valid(ok[i]), "%s", ok[i]);
    cr_assert_not(identity_kind_valid("Email"));
    cr_assert_not(identity_kind_valid("EMAIL"));
    cr_assert_not(identity_kind_valid("fax"));
    cr_assert_not(identity_kind_valid(""));
    cr_assert_not(identity_kind_valid("email "));
    cr_assert_not(identity_kind_valid(NULL));
}

Test(identity, kind_valid_social)
{
    cr_assert(identity_kind_valid("social:twitter"));
    cr_assert(identity_kind_valid("social:x.com_2-b"));
    cr_assert(identity_kind_valid("social:a"));
    cr_assert_not(identity_kind_valid("social:"));
    cr_assert_not(identity_kind_valid("social"));
    cr_assert_not(identity_kind_valid("social:Twitter"));
    cr_assert_not(identity_kind_valid("social:face book"));
    cr_assert_not(identity_kind_valid("social:twitter/x"));
    cr_assert_not(identity_kind_valid("Social:twitter"));

    char net[64];
    memcpy(net, "social:", 7);
    memset(net + 7, 'n', 32);
    net[39] = '\0';
    cr_assert(identity_kind_valid(net), "32-char network");
    cr_assert_lt(strlen(net), (size_t)IDENTITY_KIND_MAX);
    net[39] = 'n';
    net[40] = '\0';
    cr_assert_not(identity_kind_valid(net), "33-char network");
}

Test(identity, unknown_kind_rejected)
{
    expect_fail("fax", "123456", NULL, CXM_EINVAL, "kind");
    expect_fail("Email", "a@b.co", NULL, CXM_EINVAL, "kind");
}

Test(identity, null_arguments)
{
    char out[CXM_MAX_IDENTITY + 1];
    cr_assert_eq(identity_normalize(NULL, "x", NULL, out, sizeof out, NULL),
                 CXM_EINVAL);
    cr_assert_eq(identity_normalize("crm", NULL, NULL, out, sizeof out, NULL),
                 CXM_EINVAL);
    cr_assert_eq(identity_normalize("crm", "x", NULL, NULL, 0, NULL),
                 CXM_EINVAL);
    /* err may be NULL on success and failure alike. */
    cr_assert_eq(identity_normalize("crm", "x", NULL, out, sizeof out, NULL),
                 CXM_OK);
    cr_assert_eq(identity_normalize("email", "x", NULL, out, sizeof out, NULL),
                 CXM_EINVAL);
}

Test(identity, email_trimmed_and_lowercased)
{
    expect_ok("email", " Ana.Lopez@Example.COM ", NULL, "ana.lopez@example.com");
    expect_ok("email", "\t\r\nBOB+tag@Mail.Example.co.uk\n", NULL,
              "bob+tag@mail.example.co.uk");
    expect_ok("email", "a@b.c", NULL, "a@b.c");
    /* Non-ASCII is kept byte for byte; only ASCII is folded. */
    expect_ok("email", "J\xc3\x9cRGEN@B\xc3\xbc" "cher.DE", NULL,
              "j\xc3\x9crgen@b\xc3\xbc" "cher.de");
}

Test(identity, email_rejected)
{
    expect_fail("email", "ana.example.com", NULL, CXM_EINVAL, "email has no '@'");
    expect_fail("email", "ana@lopez@example.com", NULL, CXM_EINVAL, "more than one '@'");
    expect_fail("email", "ana@localhost", NULL, CXM_EINVAL, "no '.'");
    expect_fail("email", "ana lopez@example.com", NULL, CXM_EINVAL, "whitespace");
    expect_fail("email", "ana@exa\tmple.com", NULL, CXM_EINVAL, "control");
    expect_fail("email", "@example.com", NULL, CXM_EINVAL, "empty local part");
    expect_fail("email", "ana@", NULL, CXM_EINVAL, "empty domain");
    expect_fail("email", "ana@.example.com", NULL, CXM_EINVAL, "starts or ends");
    expect_fail("email", "ana@example.com.", NULL, CXM_EINVAL, "starts or ends");
    expect_fail("email", "ana@example..com", NULL, CXM_EINVAL, "empty label");
    expect_fail("email", "   ", NULL, CXM_EINVAL, "empty");
    expect_fail("email", "", NULL, CXM_EINVAL, "empty");
}

Test(identity, email_length_limit)
{
    char v[300];
    /* 242 + "@example.com" (12) = 254 bytes: the largest allowed. */
    memset(v, 'a', 242);
    memcpy(v + 242, "@example.com", 13);
    cr_assert_eq(strlen(v), 254u);
    expect_ok("email", v, NULL, v);

    memset(v, 'a', 243);
    memcpy(v + 243, "@example.com", 13);
    cr_assert_eq(strlen(v), 255u);
    expect_fail("email", v, NULL, CXM_ETOOBIG, "254");
}

Test(identity, phone_international)
{
    expect_ok("phone", "+44 20 7946 0958", NULL, "+442079460958");
    expect_ok("phone", "0049 30 1234567", NULL, "+49301234567");
    expect_ok("phone", "+44 (0)20 7946 0958", NULL, "+442079460958");
    expect_ok("phone", "(+33) 1.23.45.67.89", NULL, "+33123456789");
    /* An international number ignores the customer's country. */
    expect_ok("phone", "+44 20 7946 0958", "US", "+442079460958");
    expect_ok("phone", "0044 20 7946 0958", "us", "+442079460958");
    /* 8 and 15 digits are the bounds. */
    expect_ok("phone", "+1234 5678", NULL, "+12345678");
    expect_ok("phone", "+123456789012345", NULL, "+123456789012345");
}

Test(identity, phone_national_with_country)
{
    expect_ok("phone", "020 7946 0958", "GB", "+442079460958");
    expect_ok("phone", "(415) 555-2671", "US", "+14155552671");
    expect_ok("phone", "1-415-555-2671", "us", "+14155552671");
    expect_ok("phone", "415/555.2671", "CA", "+14155552671");
    expect_ok("phone", "030 1234567", "de", "+49301234567");
    expect_ok("phone", "06 12 34 56 78", "FR", "+33612345678");
    expect_ok("phone", "09012345678", "JP", "+819012345678");
    expect_ok("phone", "98765 43210", "IN", "+919876543210");
    /* No trunk on the number: the digits follow the calling code as is. */
    expect_ok("phone", "20 7946 0958", "GB", "+442079460958");
}

Test(identity, phone_trunk_exceptions)
{
    /* In Italy the leading 0 is part of the number. */
    expect_ok("phone", "06 1234 5678", "IT", "+390612345678");
    expect_ok("phone", "333 123 4567", "IT", "+393331234567");
    /* Russia's trunk is 8, dropped only from 11-digit numbers, so a
     * 10-digit 800 number stays whole. */
    expect_ok("phone", "8 (916) 123-45-67", "RU", "+79161234567");
    expect_ok("phone", "800 123 4567", "RU", "+78001234567");
    /* Hungary's trunk is 06. */
    expect_ok("phone", "06 1 234 5678", "HU", "+3612345678");
    /* NANP drops the 1 only from 11 digits. */
    expect_ok("phone", "1 212 555 0100", "US", "+12125550100");
}

Test(identity, phone_without_country_keeps_digits)
{
    expect_ok("phone", "555 2671", NULL, "5552671");
    expect_ok("phone", "555 2671", "", "5552671");
    expect_ok("phone", "020 7946 0958", NULL, "02079460958");
    /* An unknown or malformed country is the same as none. */
    expect_ok("phone", "555-2671", "XX", "5552671");
    expect_ok("phone", "555-2671", "GBR", "5552671");
    expect_ok("phone", "1234", NULL, "1234");
}

Test(identity, phone_rejected)
{
    expect_fail("phone", "555-CALL-NOW", NULL, CXM_EINVAL, "character");
    expect_fail("phone", "+44 20 7946 0958 ext 12", NULL, CXM_EINVAL, "character");
    expect_fail("phone", "020\xc2\xa0" "7946 0958", "GB", CXM_EINVAL, "character");
    expect_fail("phone", "44+20 7946 0958", NULL, CXM_EINVAL, "'+'");
    expect_fail("phone", "++44 20 7946 0958", NULL, CXM_EINVAL, "'+'");
    expect_fail("phone", "()- ", NULL, CXM_EINVAL, "no digits");
    expect_fail("phone", "+", NULL, CXM_EINVAL, "no digits");
    /* Too short. */
    expect_fail("phone", "123", NULL, CXM_EINVAL, "3 digits");
    expect_fail("phone", "+44 1234", NULL, CXM_EINVAL, "6 digits");
    expect_fail("phone", "00 1234 567", NULL, CXM_EINVAL, "7 digits");
    expect_fail("phone", "0123", "GB", CXM_EINVAL, "digits");
    /* Too long. */
    expect_fail("phone", "+1234567890123456", NULL, CXM_EINVAL, "16 digits");
    expect_fail("phone", "1234567890123456", NULL, CXM_EINVAL, "16 digits");
    expect_fail("phone", "0 1234 5678 9012 34", "DE", CXM_EINVAL, "digits");
    /* Calling codes never start with 0. */
    expect_fail("phone", "+0 20 7946 0958", NULL, CXM_EINVAL, "calling code");
    expect_fail("phone", "000 20 7946 0958", NULL, CXM_EINVAL, "calling code");
}

Test(identity, social)
{
    expect_ok("social:twitter", "@JaneDoe", NULL, "janedoe");
    expect_ok("social:twitter", "  JaneDoe  ", NULL, "janedoe");
    expect_ok("social:instagram", " @ Jane.Doe_1 ", NULL, "jane.doe_1");
    /* Only one '@' is dropped. */
    expect_ok("social:twitter", "@@jane", NULL, "@jane");
    expect_fail("social:twitter", "@", NULL, CXM_EINVAL, "empty");
    expect_fail("social:twitter", "  @  ", NULL, CXM_EINVAL, "empty");
}

Test(identity, opaque_kinds_keep_case)
{
    expect_ok("crm", "  AbC-123/xY  ", NULL, "AbC-123/xY");
    expect_ok("device", "\tE621E1F8-C36C-495A-93FC-0C247A3E6E5F\n", NULL,
              "E621E1F8-C36C-495A-93FC-0C247A3E6E5F");
    expect_ok("cookie", "GA1.2.Abc", NULL, "GA1.2.Abc");
    expect_ok("loyalty", "Gold 0042", NULL, "Gold 0042");
    /* The country never matters outside phones. */
    expect_ok("crm", "0044", "GB", "0044");
}

Test(identity, control_and_encoding_rejected)
{
    expect_fail("crm", "abc\x01" "def", NULL, CXM_EINVAL, "control");
    expect_fail("crm", "abc\x7f", NULL, CXM_EINVAL, "control");
    expect_fail("crm", "abc\tdef", NULL, CXM_EINVAL, "control");
    expect_fail("device", "abc\xc2\x85" "def", NULL, CXM_EINVAL, "control");
    expect_fail("crm", "abc\xff", NULL, CXM_EINVAL, "UTF-8");
    expect_fail("crm", "abc\xc3", NULL, CXM_EINVAL, "UTF-8");
    expect_fail("crm", "\xc0\xaf", NULL, CXM_EINVAL, "UTF-8");
    expect_fail("crm", "\xed\xa0\x80", NULL, CXM_EINVAL, "UTF-8");
    expect_fail("crm", "\xe0\x80\xaf", NULL, CXM_EINVAL, "UTF-8");
    expect_fail("crm", "\xf4\x90\x80\x80", NULL, CXM_EINVAL, "UTF-8");
    expect_fail("crm", "ab\xf0\x9f\x98", NULL, CXM_EINVAL, "UTF-8");
    expect_fail("social:twitter", "jane\x1b[0m", NULL, CXM_EINVAL, "control");
    expect_ok("crm", "Z\xc3\xbcrich-\xe2\x82\xac-\xf0\x9f\x98\x80", NULL,
              "Z\xc3\xbcrich-\xe2\x82\xac-\xf0\x9f\x98\x80");
    expect_fail("crm", "", NULL, CXM_EINVAL, "empty");
    expect_fail("loyalty", " \t\n ", NULL, CXM_EINVAL, "empty");
}

Test(identity, length_limit)
{
    char v[CXM_MAX_IDENTITY + 8];
    memset(v, 'k', CXM_MAX_IDENTITY);
    v[CXM_MAX_IDENTITY] = '\0';
    expect_ok("crm", v, NULL, v);

    v[CXM_MAX_IDENTITY] = 'k';
    v[CXM_MAX_IDENTITY + 1] = '\0';
    expect_fail("crm", v, NULL, CXM_ETOOBIG, "longer than 256");
    expect_fail("social:twitter", v, NULL, CXM_ETOOBIG, NULL);
    expect_fail("phone", v, NULL, CXM_ETOOBIG, NULL);

    /* Surrounding whitespace does not count against the limit. */
    char w[CXM_MAX_IDENTITY + 8];
    w[0] = ' ';
    memset(w + 1, 'k', CXM_MAX_IDENTITY);
    w[CXM_MAX_IDENTITY + 1] = ' ';
    w[CXM_MAX_IDENTITY + 2] = '\0';
    v[CXM_MAX_IDENTITY] = '\0';
    expect_ok("crm", w, NULL, v);
}

Test(identity, small_output_buffer)
{
    char out[8];
    memset(out, 'Z', sizeof out);
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(identity_normalize("phone", "+442079460958", NULL, out,
                                    sizeof out, &err), CXM_ETOOBIG);
    cr_assert_eq(out[0], 'Z', "out written on failure");
    cr_assert(strstr(err.msg, "14 bytes"), "%s", err.msg);
    /* Exactly enough: the result plus its NUL. */
    cr_assert_eq(identity_normalize("crm", "1234567", NULL, out, sizeof out,
                                    &err), CXM_OK);
    cr_assert_str_eq(out, "1234567");
}

Test(identity, calling_codes)
{
    cr_assert_eq(identity_calling_code("GB"), 44);
    cr_assert_eq(identity_calling_code("gb"), 44);
    cr_assert_eq(identity_calling_code("Gb"), 44);
    cr_assert_eq(identity_calling_code("US"), 1);
    cr_assert_eq(identity_calling_code("CA"), 1);
    cr_assert_eq(identity_calling_code("DE"), 49);
    cr_assert_eq(identity_calling_code("IN"), 91);
    cr_assert_eq(identity_calling_code("CN"), 86);
    cr_assert_eq(identity_calling_code("BR"), 55);
    cr_assert_eq(identity_calling_code("RU"), 7);
    cr_assert_eq(identity_calling_code("AE"), 971);
    cr_assert_eq(identity_calling_code("HK"), 852);
    cr_assert_eq(identity_calling_code("ZA"), 27);
    cr_assert_eq(identity_calling_code("XX"), 0);
    cr_assert_eq(identity_calling_code("GBR"), 0);
    cr_assert_eq(identity_calling_code("G"), 0);
    cr_assert_eq(identity_calling_code(""), 0);
    cr_assert_eq(identity_calling_code(NULL), 0);
}

Test(identity, calling_codes_cover_common_countries)
{
    const char *iso[] = {
        "US", "CA", "GB", "DE", "FR", "IT", "ES", "NL", "BE", "IE", "PT",
        "AT", "CH", "SE", "NO", "DK", "FI", "PL", "CZ", "GR", "TR", "RU",
        "UA", "IN", "PK", "BD", "CN", "JP", "KR", "SG", "MY", "ID", "TH",
        "VN", "PH", "AU", "NZ", "ZA", "NG", "KE", "EG", "MA", "SA", "AE",
        "IL", "BR", "AR", "MX", "CO", "CL", "PE", "HK", "TW", "RO", "HU",
        "BG", "HR", "SK", "SI", "RS", "VE", "EC", "QA", "KW", "LK", "GH",
    };
    size_t n = sizeof iso / sizeof iso[0];
    cr_assert_geq(n, 60u);
    for (size_t i = 0; i < n; i++)
        cr_assert_gt(identity_calling_code(iso[i]), 0, "%s", iso[i]);
}
