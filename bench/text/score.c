/* score.c - the cxm side of bench/text: scores every line of a file with
 * sentiment_score, single-threaded, RUNS times over the file held in
 * memory, and prints one JSON line of figures (the fastest run and the
 * median). With OUT it also writes each line's compound (4 decimals),
 * untimed, for the comparison with the JavaScript peer.
 *
 *   score COMMENTS [RUNS [OUT]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sentiment.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: score COMMENTS [RUNS [OUT]]\n");
        return 2;
    }
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    if (runs < 1 || runs > 100) {
        fprintf(stderr, "score: RUNS must be 1 to 100\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        perror(argv[1]);
        return 1;
    }
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        perror(argv[1]);
        return 1;
    }
    char *text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "score: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);

    /* line starts; a line's end is the next start less its '\n' */
    size_t nlines = 0;
    for (long i = 0; i < size; i++)
        nlines += text[i] == '\n';
    if (size > 0 && text[size - 1] != '\n')
        text[size++] = '\n', nlines++;
    size_t *start = malloc((nlines + 1) * sizeof *start);
    if (!start) {
        fprintf(stderr, "score: out of memory\n");
        return 1;
    }
    size_t k = 0;
    start[k++] = 0;
    for (long i = 0; i < size; i++)
        if (text[i] == '\n')
            start[k++] = (size_t)i + 1;

    double secs[100];
    double check = 0;
    size_t labels[3] = {0, 0, 0};
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        for (size_t i = 0; i < nlines; i++) {
            struct sentiment s;
            sentiment_score(text + start[i], start[i + 1] - start[i] - 1, &s, NULL);
            check += s.compound;
            if (r == 0)
                labels[s.compound >= 0.05f ? 0 : s.compound <= -0.05f ? 1 : 2]++;
        }
        secs[r] = now() - t0;
    }
    double sorted[100];
    memcpy(sorted, secs, sizeof(double) * (size_t)runs);
    qsort(sorted, (size_t)runs, sizeof(double), cmp_double);
    double best = sorted[0], median = sorted[runs / 2];
    printf("{\"comments\": %zu, \"bytes\": %ld, \"runs\": %d, \"best_s\": %.4f, "
           "\"median_s\": %.4f, \"comments_per_s\": %.0f, \"mb_per_s\": %.1f, "
           "\"median_comments_per_s\": %.0f, \"positive\": %zu, \"negative\": %zu, "
           "\"neutral\": %zu, \"checksum\": %.4f}\n",
           nlines, size, runs, best, median, (double)nlines / best, (double)size / best / 1e6,
           (double)nlines / median, labels[0], labels[1], labels[2], check / runs);

    if (argc > 3) {
        FILE *o = fopen(argv[3], "w");
        if (!o) {
            perror(argv[3]);
            return 1;
        }
        for (size_t i = 0; i < nlines; i++) {
            struct sentiment s;
            sentiment_score(text + start[i], start[i + 1] - start[i] - 1, &s, NULL);
            double c = s.compound;
            fprintf(o, "%.4f\n", c > -0.00005 && c < 0.00005 ? 0.0 : c);
        }
        if (fclose(o) != 0) {
            perror(argv[3]);
            return 1;
        }
    }
    free(start);
    free(text);
    return 0;
}
