/* log.h - one line per event on stderr: time, level, message. Callers
 * never pass personal data (names, identities, keys, texts). */
#ifndef CXM_LOG_H
#define CXM_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
