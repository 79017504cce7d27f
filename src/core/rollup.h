/* rollup.h - feedback counted by UTC day, kind and the value of one
 * dimension (a channel, touchpoint or stage code): each cell holds the
 * number of answers and a histogram of their integer scores 0-10. Kept
 * current as answers arrive, so a report whose dimensions and filter use
 * only the day, the kind and that one dimension reads a few thousand
 * cells instead of every answer (engine/report.c). Sums built from the
 * histogram are exact: the scores are small integers. Not thread-safe:
 * its owner (the model) guards it. */
#ifndef CXM_ROLLUP_H
#define CXM_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#define ROLLUP_SCORES 11         /* scores 0..10 */

struct rollup_cell {
    int32_t day;                 /* days since 1970-01-01, UTC */
    uint16_t value;              /* the dimension's code; 0: none */
    uint8_t kind;                /* the answer's kind (event.h) */
    uint32_t rows;               /* answers, whatever their score */
    uint32_t hist[ROLLUP_SCORES];   /* answers by integer score */
};

struct rollup {
    struct rollup_cell *cell;    /* [0, n): in the order first seen */
    size_t n, cap;
    uint32_t *slot;              /* open addressing: cell index + 1; 0 empty */
    size_t nslot;                /* a power of two, or 0 */
};

void rollup_init(struct rollup *r);
void rollup_free(struct rollup *r);
/* Counts one answer at time ts (unix seconds, >= 0) of kind with the
 * dimension's value; its score goes to the histogram when it truncates to
 * 0..10 (NAN and others count in rows only). CXM_OK or CXM_ENOMEM
 * (nothing changed). */
int rollup_add(struct rollup *r, int64_t ts, uint8_t kind, uint16_t value, double score);
/* Bytes the rollup holds. */
size_t rollup_bytes(const struct rollup *r);

#endif
