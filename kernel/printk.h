/*
 * printk.h — kernel messages and the dmesg ring.
 *
 * pr_info/pr_warn/pr_err format one message, prefix it with
 * "[cpu:seconds.micros:function] " and store it in the dmesg ring (512 KiB
 * of text, at most 2048 messages; the oldest are dropped first).  Until the
 * shell starts, and again after it exits, each message is also written to
 * the console.  A message longer than PRINTK_LINE_MAX is cut there.
 * Safe to call from any context once the ring is set up (it is static, so
 * from the first line of kmain).
 */
#ifndef NOS_PRINTK_H
#define NOS_PRINTK_H

#include "types.h"
#include "compiler.h"

#define PRINTK_LINE_MAX 256

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO };

void printk(enum log_level level, const char *func, const char *fmt, ...) __printf(3, 4);
void vprintk(enum log_level level, const char *func, const char *fmt, va_list ap);

#define pr_err(...) printk(LOG_ERR, __func__, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __func__, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __func__, __VA_ARGS__)

/*
 * Call @fn for each message still in the ring, oldest first.  @line is the
 * message with its prefix and no trailing newline, valid during the call.
 * Returns the number of messages visited.
 */
unsigned dmesg_for_each(void (*fn)(const char *line, enum log_level level, void *arg),
			void *arg);
/* Messages accepted since boot and messages dropped to make room. */
void dmesg_stats(u64 *logged, u64 *dropped);

#endif
