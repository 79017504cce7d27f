/* test_utf8.c - strict UTF-8 validation and control-character checks. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/utf8.h"

#define VALID(lit) utf8_valid(lit, sizeof(lit) - 1)

Test(utf8, accepts_wellformed)
{
    cr_assert(utf8_valid(NULL, 0));
    cr_assert(VALID(""));
    cr_assert(VALID("hello, world"));
    cr_assert(VALID("caf\xC3\xA9"));              /* U+00E9 */
    cr_assert(VALID("\xC2\x80"));                 /* U+0080, smallest 2-byte */
    cr_assert(VALID("\xDF\xBF"));                 /* U+07FF */
    cr_assert(VALID("\xE0\xA0\x80"));             /* U+0800, smallest 3-byte */
    cr_assert(VALID("\xE2\x82\xAC"));             /* euro sign */
    cr_assert(VALID("\xED\x9F\xBF"));             /* U+D7FF, just below surrogates */
    cr_assert(VALID("\xEE\x80\x80"));             /* U+E000, just above */
    cr_assert(VALID("\xEF\xBB\xBF"));             /* U+FEFF */
    cr_assert(VALID("\xF0\x90\x80\x80"));         /* U+10000 */
    cr_assert(VALID("\xF0\x9D\x84\x9E"));         /* musical G clef */
    cr_assert(VALID("\xF4\x8F\xBF\xBF"));         /* U+10FFFF */
    cr_assert(VALID("a\0b"));                     /* NUL is a code point */
    /* Multibyte after and between 8-byte ASCII runs (the fast path). */
    cr_assert(VALID("abcdefghijklmnop\xE2\x82\xAC" "abcdefgh\xF0\x9D\x84\x9E" "xyz"));
}

Test(utf8, rejects_overlong)
{
    cr_assert_not(VALID("\xC0\xAF"));
    cr_assert_not(VALID("\xC1\xBF"));
    cr_assert_not(VALID("\xC0\x80"));             /* "modified UTF-8" NUL */
    cr_assert_not(VALID("\xE0\x80\xAF"));
    cr_assert_not(VALID("\xE0\x9F\xBF"));
    cr_assert_not(VALID("\xF0\x80\x80\xAF"));
    cr_assert_not(VALID("\xF0\x8F\xBF\xBF"));
}

Test(utf8, rejects_surrogates_and_out_of_range)
{
    cr_assert_not(VALID("\xED\xA0\x80"));         /* U+D800 */
    cr_assert_not(VALID("\xED\xBF\xBF"));         /* U+DFFF */
    cr_assert_not(VALID("\xED\xA0\xBD\xED\xB2\xA9")); /* CESU-8 pair */
    cr_assert_not(VALID("\xF4\x90\x80\x80"));     /* U+110000 */
    cr_assert_not(VALID("\xF5\x80\x80\x80"));
    cr_assert_not(VALID("\xF8\x88\x80\x80\x80"));
    cr_assert_not(VALID("\xFE"));
    cr_assert_not(VALID("\xFF"));
}

Test(utf8, rejects_truncated_and_stray)
{
    cr_assert_not(VALID("\xC3"));
    cr_assert_not(VALID("\xE2\x82"));
    cr_assert_not(VALID("\xF0\x9D\x84"));
    cr_assert_not(VALID("abcdefghijklmnop\xF0\x9D\x84"));
    cr_assert_not(VALID("\x80"));                 /* lone continuation */
    cr_assert_not(VALID("abcdefgh\xBF"));
    cr_assert_not(VALID("\xC3\x28"));             /* continuation missing */
    cr_assert_not(VALID("\xE2\x28\xA1"));
    cr_assert_not(VALID("\xE2\x82\x28"));
    cr_assert_not(VALID("\xF0\x9D\x28\x9E"));
    cr_assert_not(VALID("\xF0\x9D\x84\x28"));
    /* The length bounds the check: a sequence cut by n is truncated. */
    cr_assert_not(utf8_valid("\xC3\xA9", 1));
    cr_assert(utf8_valid("a\xC3\xA9", 1));
}

/* Reference decoder for the exhaustive checks: decode, then demand the
 * shortest form and a scalar value. */
static bool ref_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

Test(utf8, exhaustive_up_to_three_bytes)
{
    unsigned char b[3];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (unsigned char)x;
        cr_assert_eq(utf8_valid((char *)b, 1), ref_valid(b, 1), "%02x", x);
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            cr_assert_eq(utf8_valid((char *)b, 2), ref_valid(b, 2), "%02x %02x", x, y);
            /* Third byte: only lead bytes of 3-byte forms need all values. */
            if (x < 0xE0 || x > 0xEF) {
                static const unsigned char probe[] = {0x00, 0x41, 0x80, 0xBF, 0xC0, 0xFF};
                for (size_t k = 0; k < sizeof probe; k++) {
                    b[2] = probe[k];
                    cr_assert_eq(utf8_valid((char *)b, 3), ref_valid(b, 3),
                                 "%02x %02x %02x", x, y, b[2]);
                }
                continue;
            }
            for (unsigned z = 0; z < 256; z++) {
                b[2] = (unsigned char)z;
                if (utf8_valid((char *)b, 3) != ref_valid(b, 3))
                    cr_assert_fail("mismatch on %02x %02x %02x", x, y, z);
            }
        }
    }
}

Test(utf8, four_byte_leads)
{
    static const unsigned char tail[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xFF};
    unsigned char b[4];
    for (unsigned x = 0xE0; x < 256; x++) {
        b[0] = (unsigned char)x;
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            for (size_t i = 0; i < sizeof tail; i++) {
                b[2] = tail[i];
                for (size_t j = 0; j < sizeof tail; j++) {
                    b[3] = tail[j];
                    if (utf8_valid((char *)b, 4) != ref_valid(b, 4))
                        cr_assert_fail("mismatch on %02x %02x %02x %02x", x, y, b[2], b[3]);
                }
            }
        }
    }
}

Test(utf8, control_characters)
{
    cr_assert_not(utf8_has_control(NULL, 0));
    cr_assert_not(utf8_has_control("plain text", 10));
    cr_assert_not(utf8_has_control("tab\there\r\nnext", 14));
    cr_assert_not(utf8_has_control("caf\xC3\xA9 \xE2\x82\xAC", 9));
    cr_assert(utf8_has_control("bell\x07", 5));
    cr_assert(utf8_has_control("\x1B[31mred", 8));
    cr_assert(utf8_has_control("del\x7F", 4));
    cr_assert(utf8_has_control("nul\0x", 5));
    cr_assert(utf8_has_control("\x1F", 1));
    /* Only the first n bytes count. */
    cr_assert_not(utf8_has_control("ab\x01", 2));
    /* C1 controls are not ASCII; U+0085 is UTF-8 C2 85. */
    cr_assert_not(utf8_has_control("\xC2\x85", 2));
}
