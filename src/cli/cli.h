/* cli.h - the cxm commands (one cmd_<name>.c each) and what they share:
 * exit codes, the --db default and error printing. Commands parse their
 * arguments and call the engine; no business logic lives here. */
#ifndef CXM_CLI_H
#define CXM_CLI_H

#include <jansson.h>

#include "common.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* The database named by --db, else $CXM_DB, else "cxm.db". */
const char *cli_db(const char *flag);
/* Prints "cxm CMD: message" to stderr; returns EXIT_FAIL. */
int cli_fail(const char *cmd, const struct cxm_err *err);
/* Prints a usage error and the hint to run --help; returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads the whole file at path (at most max bytes) into *out, malloc'd
 * and NUL-terminated. CXM_EIO (cannot open or read), CXM_ETOOBIG,
 * CXM_ENOMEM. */
int cli_read_file(const char *path, size_t max, char **out);
struct engine;
/* Opens the engine on the database of --db (cli_db), quietly (warnings
 * only); write takes the writer lock. Prints the failure as cmd's and
 * returns EXIT_FAIL, or EXIT_OK. */
int cli_open_engine(const char *cmd, const char *db, bool write, struct engine **e);
/* Parses a whole number of option opt into [lo, hi]; a usage error
 * (EXIT_USAGE) naming the range otherwise. */
int cli_whole(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
/* EXIT_OK when format is table, csv or json; a usage error (EXIT_USAGE)
 * otherwise. */
int cli_format(const char *cmd, const char *format);
/* An option that takes a string, and the offset of the const char * field
 * of a command's argument struct it goes into. */
struct cli_str_opt {
    int opt;
    size_t off;
};
/* Stores v (borrowed) in the field of args that opt goes into by
 * opts[0..n); false when opt takes no string. */
bool cli_set_str(void *args, const struct cli_str_opt *opts, size_t n, int opt,
                 const char *v);
/* CXM_OK when v is NULL or one of ok[0..n); CXM_EINVAL "OPT wants USAGE"
 * otherwise. */
int cli_one_of(const char *opt, const char *v, const char *const *ok, size_t n,
               const char *usage, struct cxm_err *err);
/* --from and --to (NULL: absent), bounds as report_parse_bound reads them
 * in UTC (a date's --to is the end of that day), into *t_from and *t_to:
 * 0 and INT64_MAX when absent. CXM_EINVAL naming the option's member. */
int cli_range(const char *from, const char *to, int64_t *t_from, int64_t *t_to,
              struct cxm_err *err);
/* Ends a command that read a document: prints doc (format json, else its
 * rows as a table or CSV) when rc is 0, frees it, closes the engine, and
 * maps rc to the exit status (CXM_EINVAL: a usage error). */
int cli_finish(const char *cmd, struct engine *e, json_t *doc, const char *format, int rc,
               const struct cxm_err *err);

int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_unmerge(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_benchmarks(int argc, char **argv);
int cmd_text(int argc, char **argv);
int cmd_clv(int argc, char **argv);
int cmd_journey(int argc, char **argv);
/* cmd_textq.c: `cxm text` subcommands over a database (argv[0] is the
 * subcommand's name) */
int text_cmd_themes(int argc, char **argv);
int text_cmd_emerging(int argc, char **argv);
int text_cmd_taxonomy(int argc, char **argv);
int text_cmd_feedback(int argc, char **argv);
int text_cmd_train(int argc, char **argv);
int cmd_churn(int argc, char **argv);
/* cmd_personal.c */
int cmd_segments(int argc, char **argv);
int cmd_actions(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_decide(int argc, char **argv);
int cmd_contact(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_uplift(int argc, char **argv);
/* cmd_loop.c: the closed loop and the employee side */
int cmd_cases(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_webhooks(int argc, char **argv);
int cmd_team(int argc, char **argv);
/* cmd_survey.c */
int cmd_surveys(int argc, char **argv);

#endif
