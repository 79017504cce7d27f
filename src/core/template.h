/* template.h - message templates with profile variables:
 *   "Hi {first_name|there}, your {top_category} picks are in."
 * {name} is replaced by the variable's value, {name|fallback} by the
 * fallback when the value is missing or empty; "{{" and "}}" are literal
 * braces. Values are escaped for the channel; the template's own text is
 * the author's and is kept as written. Pure: no I/O, no globals. */
#ifndef CXM_TEMPLATE_H
#define CXM_TEMPLATE_H

#include "common.h"
#include "core/buf.h"

enum tpl_escape {
    TPL_TEXT,    /* sms, push, phone: control characters (C0, DEL, C1,
                    U+2028/9) dropped, invalid UTF-8 replaced by U+FFFD */
    TPL_HTML     /* web, e-mail: as TEXT, and & < > " ' as entities */
};

/* The escaping a channel needs: TPL_HTML for "web", "email", "e-mail",
 * "app_inbox" and "in_app"; TPL_TEXT for the rest. */
enum tpl_escape tpl_escape_for(const char *channel);

#define TPL_MAX 4096             /* bytes of a template */
#define TPL_MAX_VAR 64           /* bytes of a variable name */
#define TPL_MAX_OUT (16u * 1024u)   /* bytes of a rendered message */

/* Checks a template: balanced braces, names [a-z_][a-z0-9_]* that are in
 * vars, a fallback without braces or '|', at most TPL_MAX bytes, valid
 * UTF-8. CXM_EINVAL with a message "column N: ..." (1-based byte) naming
 * the problem (an unknown variable lists the known ones). */
int tpl_check(const char *tpl, const char *const *vars, size_t nvars, struct cxm_err *err);

/* Value of a variable for this message; NULL when the customer has none.
 * The string must live until tpl_render returns. */
typedef const char *(*tpl_lookup_fn)(void *ctx, const char *name, size_t len);

/* Appends the rendered template to out (a checked template; an unchecked
 * one renders, with any malformed brace kept literally). CXM_ETOOBIG past
 * TPL_MAX_OUT or out's cap. */
int tpl_render(const char *tpl, enum tpl_escape esc, tpl_lookup_fn lookup, void *ctx,
               struct buf *out);

#endif
