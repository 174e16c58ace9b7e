/*
 * tools/nanofs/env/kernel/printk.h — kernel messages in the host tool: to
 * stderr, prefixed "nanofs:"-style by the caller; pr_info only with -v.
 */
#ifndef NOS_PRINTK_H
#define NOS_PRINTK_H

#include "compiler.h"
#include "types.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO };

void printk(enum log_level level, const char *func, const char *fmt, ...) __printf(3, 4);

#define pr_err(...) printk(LOG_ERR, __func__, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __func__, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __func__, __VA_ARGS__)

#endif
