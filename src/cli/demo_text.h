/* demo_text.h - the word lists of the demo data set (names, countries and
 * cities, phone formats, products) and its comment templates filled from
 * slots. Constant tables and pure functions: no state, no I/O, no clock. */
#ifndef CXM_DEMO_TEXT_H
#define CXM_DEMO_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* What a text is about: the themes text analytics should find again. */
enum demo_theme {
    DEMO_TH_DELIVERY, DEMO_TH_PRICE, DEMO_TH_STAFF, DEMO_TH_WAITING,
    DEMO_TH_WEBSITE, DEMO_TH_APP, DEMO_TH_RETURNS, DEMO_TH_BILLING,
    DEMO_TH_QUALITY, DEMO_TH_COUNT
};

/* Sentiment band of a text; each band has its own templates, so the texts
 * of unhappy and happy people never coincide. */
enum demo_band { DEMO_NEGATIVE, DEMO_MIXED, DEMO_POSITIVE, DEMO_BAND_COUNT };

/* Language area a person's name comes from. */
enum demo_group { DEMO_G_EN, DEMO_G_DE, DEMO_G_FR, DEMO_G_ES, DEMO_G_NL,
                  DEMO_G_COUNT };

struct demo_list {
    const char *const *v;
    size_t n;
};

struct demo_country {
    const char *iso;        /* ISO 3166 alpha-2 */
    const char *currency;   /* ISO 4217 */
    const char *language;   /* most customers' language */
    enum demo_group group;
    unsigned weight;        /* share of customers, out of the sum of weights */
    struct demo_list cities;   /* biggest first */
};

/* Values for the slots of a template. NULL or 0 slots are filled with a
 * generic phrase ("my order", "the agent", "several"). */
struct demo_slots {
    const char *product;    /* {product} */
    const char *agent;      /* {agent}: a first name */
    unsigned days;          /* {days} */
};

struct demo_product {
    char sku[24];           /* "RUN-SHOE-042" */
    char name[64];          /* "Pace Road Running Shoe" */
    size_t category;        /* index for demo_text_category() */
    uint32_t price_cents;   /* in GBP; demo_data converts */
    unsigned max_qty;       /* consumables are bought several at a time */
};

/* First names of a group: female or male list (never empty). */
struct demo_list demo_text_first_names(enum demo_group g, bool female);
struct demo_list demo_text_last_names(enum demo_group g);

size_t demo_text_ncountries(void);
/* i < demo_text_ncountries(). */
const struct demo_country *demo_text_country(size_t i);

/* Writes the phone number n (0 <= n < 8000000; distinct n give distinct
 * numbers) of country i in its usual national format, e.g. GB
 * "020 7946 0123" or US "(415) 555-0123", which normalises to E.164 with
 * the country. Returns 0 or CXM_ETOOBIG when out is too small. */
int demo_text_phone(size_t country, uint32_t n, char *out, size_t outsz);

size_t demo_text_ncategories(void);
/* "running", "nutrition", ...; i < demo_text_ncategories(). */
const char *demo_text_category(size_t i);
/* Products of category cat are *first .. *first + *count - 1. */
void demo_text_category_products(size_t cat, size_t *first, size_t *count);
size_t demo_text_nproducts(void);
/* Fills p with product i < demo_text_nproducts(). Returns 0, or
 * CXM_ETOOBIG if a table entry outgrew the buffers of struct demo_product. */
int demo_text_product(size_t i, struct demo_product *p);

/* Number of comment templates of a band (for tests and sanity checks). */
size_t demo_text_ntemplates(enum demo_band b);
/* Fills a feedback comment of band b about theme t (a template of another
 * theme when the band has none for t); r chooses among the candidates.
 * Returns 0 or CXM_ETOOBIG when out is too small (out is then truncated). */
int demo_text_comment(enum demo_band b, enum demo_theme t, uint64_t r,
                      const struct demo_slots *s, char *out, size_t outsz);
/* Fills a short chat transcript about theme t that ends resolved or not.
 * Returns as demo_text_comment. */
int demo_text_chat(enum demo_theme t, bool resolved, uint64_t r,
                   const struct demo_slots *s, char *out, size_t outsz);

/* Copies the letters of the UTF-8 name s as lowercase ASCII (accented
 * Latin letters lose their accents, other characters are dropped) for use
 * in e-mail addresses and handles. Returns the length written; out always
 * ends with a NUL (outsz > 0). */
size_t demo_text_fold(const char *s, char *out, size_t outsz);

#endif
