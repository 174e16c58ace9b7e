/*
 * env.c — the host environment the nanofs core needs inside bin/nanofs:
 * allocation, kernel messages and the lock checks' failure path.  The core
 * is compiled unchanged; these definitions stand where the kernel's are.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/nanofs/env/kernel/printk.h"
#include "tools/nanofs/env/mm/kmalloc.h"

int nanofs_tool_verbose;

void *kmalloc(size_t size)
{
	return size ? malloc(size) : NULL;
}

void *kzalloc(size_t size)
{
	return size ? calloc(1, size) : NULL;
}

void kfree(void *p)
{
	free(p);
}

void printk(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (level == LOG_INFO && !nanofs_tool_verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void nanofs_env_bug(const char *what, const char *name);
void nanofs_env_bug(const char *what, const char *name)
{
	fprintf(stderr, "nanofs: internal error: %s (%s)\n", what, name);
	abort();
}
