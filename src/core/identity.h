/* identity.h - identity kinds (email, phone, device, ...) and the value
 * normalisation that makes two spellings of one identity compare equal.
 * Pure string work: never allocates, never does I/O, never looks a customer up. */
#ifndef CXM_IDENTITY_H
#define CXM_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/* Size of a buffer that holds any valid kind with its NUL; the longest is
 * "social:" plus a 32-character network (40 bytes). */
#define IDENTITY_KIND_MAX 48

/* The key the engine finds an identity by: strmap_hash of "kind\0value"
 * (the bytes of both and the NUL between them). Computed where a record is
 * decoded, so that the single writer need not. Never 0. */
uint64_t identity_hash(const char *kind, const char *value);

/* True when kind is one of: email, phone, device, cookie, crm, loyalty, or
 * social:<network> with network 1-32 chars of [a-z0-9_.-]. Exact, lowercase.
 * NULL gives false. */
bool identity_kind_valid(const char *kind);

/* Normalises value (UTF-8) of the given kind into out, which has outsz bytes;
 * CXM_MAX_IDENTITY + 1 always suffices. country: ISO 3166-1 alpha-2 code of
 * the customer (any case), or NULL/"" when unknown; used only for phones.
 * Returns CXM_OK, or CXM_EINVAL (bad kind, NULL argument, malformed value) or
 * CXM_ETOOBIG (value over CXM_MAX_IDENTITY, email over 254 bytes, result
 * larger than outsz), with err->msg saying why (err may be NULL). The message
 * never quotes the value: identities are personal data and errors get logged.
 * On failure out is left untouched.
 * Rules:
 *  all:      trim ASCII whitespace; result non-empty, <= CXM_MAX_IDENTITY
 *            bytes, valid UTF-8, no control characters (C0, DEL, C1).
 *  email:    lowercase ASCII; exactly one '@'; non-empty local part and domain;
 *            domain has a '.', not at either end and never two in a row;
 *            no whitespace inside; <= 254 bytes.
 *  phone:    drop ' ', '-', '.', '(', ')', '/'. A leading '+' or "00" means
 *            international: "+" + digits (a "(0)" after it is dropped, as in
 *            "+44 (0)20 ..."). Otherwise, with a known country, drop the
 *            national trunk prefix and put the calling code in front (E.164);
 *            with no or an unknown country keep the digits only. Any other
 *            character is an error. E.164 results have 8-15 digits and never
 *            a calling code starting with 0; digits-only results 4-15 digits.
 *  social:*: drop one leading '@', lowercase ASCII.
 *  device, cookie, crm, loyalty: case kept. */
int identity_normalize(const char *kind, const char *value, const char *country,
                       char *out, size_t outsz, struct cxm_err *err);

/* Calling code for an ISO alpha-2 country, any case ("GB" -> 44, "us" -> 1);
 * 0 when unknown, malformed or NULL. */
int identity_calling_code(const char *country);

#endif
