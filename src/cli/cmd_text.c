/* cmd_text.c - `cxm text SUBCOMMAND`: text analytics on customer comments.
 * Each subcommand is a row of the table below and a function taking the
 * arguments from its own name on (argv[0] is the subcommand). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/sentiment.h"
#include "core/utf8.h"

static int text_sentiment(int argc, char **argv);

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} subcommands[] = {
    {"sentiment", text_sentiment, "score each line of standard input: compound and label"},
    {"themes", text_cmd_themes, "pain points: themes ranked by negative mentions"},
    {"emerging", text_cmd_emerging, "phrases rising in the latest period"},
    {"feedback", text_cmd_feedback, "comments with their scores, searchable"},
    {"taxonomy", text_cmd_taxonomy, "show or set the theme taxonomy"},
    {"train", text_cmd_train, "learn sentiment from the company's own scored comments"},
};

static void text_usage(FILE *f)
{
    fprintf(f, "usage: cxm text <subcommand> [options]\n\nsubcommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].help);
    fprintf(f, "\nRun 'cxm text <subcommand> --help' for its options.\n");
}

int cmd_text(int argc, char **argv)
{
    if (argc < 2) {
        text_usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        text_usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(sub, subcommands[i].name))
            return subcommands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "cxm text: unknown subcommand '%s'\n\n", sub);
    text_usage(stderr);
    return EXIT_USAGE;
}

/* --- sentiment ------------------------------------------------------------ */

static const char sentiment_usage[] =
    "usage: cxm text sentiment [--explain] < COMMENTS\n\n"
    "Scores each line of standard input (UTF-8 text, one comment a line) and\n"
    "writes one line for it:\n\n"
    "  COMPOUND<TAB>LABEL\n\n"
    "COMPOUND is in [-1, 1] with four decimals; LABEL is positive (COMPOUND >=\n"
    "0.05), negative (<= -0.05) or neutral. The scorer is VADER with emoji and\n"
    "customer-experience phrases (src/core/sentiment.h). An empty line scores\n"
    "0.0000 neutral.\n\n"
    "  --explain   add a tab and the contributions, space-separated, in text\n"
    "              order: WORD:VALENCE, then the rules that changed it in\n"
    "              parentheses, e.g. 'good:-1.406(negated)'; a phrase's words\n"
    "              are joined by '_'; '!?' terms are the punctuation emphasis.\n"
    "              The valences add up to x, and COMPOUND = x / sqrt(x^2 + 15).\n\n"
    "A line that is not valid UTF-8 stops the run: the lines before it are\n"
    "scored and written, then 'line N: invalid UTF-8' goes to standard error\n"
    "and the exit status is 1, so the output stays one line per input line.\n"
    "Exit status: 0 ok, 1 invalid input or a write error, 2 bad usage.\n";

static void print_explain(FILE *out, const struct sent_explain *ex)
{
    for (int i = 0; i < ex->n; i++) {
        const struct sent_term *t = &ex->term[i];
        if (i)
            fputc(' ', out);
        for (const char *p = t->word; *p; p++)
            fputc(*p == ' ' ? '_' : *p, out);
        fprintf(out, ":%+.3f", (double)t->valence);
        const char *sep = "(";
        for (unsigned bit = 1; bit <= SENT_R_PUNCT; bit <<= 1) {
            if (!(t->rules & bit) || bit == SENT_R_PHRASE || bit == SENT_R_EMOJI ||
                bit == SENT_R_PUNCT)
                continue;
            fprintf(out, "%s%s", sep, sentiment_rule_name(bit));
            sep = ",";
        }
        if (*sep == ',')
            fputc(')', out);
    }
    if (ex->more)
        fprintf(out, " (+%d more)", ex->more);
}

static int text_sentiment(int argc, char **argv)
{
    static const struct option opts[] = {
        {"explain", no_argument, NULL, 'e'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    bool explain = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e': explain = true; break;
        case 'h': fputs(sentiment_usage, stdout); return EXIT_OK;
        default: return cli_usage("text sentiment", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage("text sentiment", "takes no arguments: comments come on standard input");

    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    struct sent_explain ex;
    int ret = EXIT_OK;
    while ((got = getline(&line, &cap, stdin)) != -1) {
        lineno++;
        size_t n = (size_t)got;
        if (n && line[n - 1] == '\n')
            n--;
        if (n && line[n - 1] == '\r')
            n--;
        if (!utf8_valid(line, n)) {
            fflush(stdout);
            fprintf(stderr, "cxm text sentiment: line %zu: invalid UTF-8\n", lineno);
            ret = EXIT_FAIL;
            break;
        }
        struct sentiment s;
        sentiment_score(line, n, &s, explain ? &ex : NULL);
        double compound = s.compound;
        if (compound > -0.00005 && compound < 0.00005)
            compound = 0;   /* no "-0.0000" */
        printf("%.4f\t%s", compound, sentiment_label(s.compound));
        if (explain) {
            putchar('\t');
            print_explain(stdout, &ex);
        }
        putchar('\n');
    }
    if (ret == EXIT_OK && ferror(stdin)) {
        perror("cxm text sentiment: standard input");
        ret = EXIT_FAIL;
    }
    free(line);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("cxm text sentiment: standard output");
        ret = EXIT_FAIL;
    }
    return ret;
}
