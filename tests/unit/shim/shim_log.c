/*
 * shim_log.c — printk() for host unit tests: every message is kept for the
 * test that logged it, so the test can assert that bad input got its log
 * line (shim_log_count), and the runner can show a failing test's messages.
 *
 * A message is formatted with the kernel's own vsnprintf (lib/format.c), so
 * its conversions behave as at boot, and gets the kernel's prefix shape,
 * "[cpu:seconds.micros:function] ", with the shim's clock.  dmesg_for_each()
 * and dmesg_stats() work over the same messages, so a test written for both
 * the host and the boot (tests/unit/test_mb2.c) can look for a line through
 * the kernel's interface: on the host the "ring" holds the current test's
 * messages and everything older counts as dropped.
 *
 * Messages go nowhere else unless NOS_UNIT_VERBOSE is set in the
 * environment (to anything but "0"), which prints each as it is logged.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/shim_priv.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "lib/format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSGS_MAX 100000
#define DUMP_LAST 40

struct msg {
	int level;
	char *text;
};

static struct msg *msgs;
static size_t nmsgs, cap;
static u64 logged;

static bool verbose(void)
{
	static int v = -1;

	if (v < 0) {
		const char *e = getenv("NOS_UNIT_VERBOSE");

		v = e && *e && strcmp(e, "0");
	}
	return v;
}

static void keep(int level, const char *line)
{
	logged++;
	if (nmsgs == MSGS_MAX)
		return; /* counted as dropped, like a full ring */
	if (nmsgs == cap) {
		size_t ncap = cap ? cap * 2 : 256;
		struct msg *m = realloc(msgs, ncap * sizeof(*m));

		if (!m)
			return;
		msgs = m;
		cap = ncap;
	}
	msgs[nmsgs].level = level;
	msgs[nmsgs].text = strdup(line);
	if (msgs[nmsgs].text)
		nmsgs++;
}

void vprintk(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	char body[PRINTK_LINE_MAX], line[PRINTK_LINE_MAX + 64];
	u64 now = time_ns();

	nos_vsnprintf(body, sizeof(body), fmt, ap);
	snprintf(line, sizeof(line), "[0:%llu.%06llu:%s] %s", (unsigned long long)(now / 1000000000),
		 (unsigned long long)(now / 1000 % 1000000), func, body);
	keep(level, line);
	if (verbose())
		printf("  log: %s\n", line);
}

void printk(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, func, fmt, ap);
	va_end(ap);
}

unsigned dmesg_for_each(void (*fn)(const char *line, enum log_level level, void *arg), void *arg)
{
	for (size_t i = 0; i < nmsgs; i++)
		fn(msgs[i].text, (enum log_level)msgs[i].level, arg);
	return (unsigned)nmsgs;
}

void dmesg_stats(u64 *logged_out, u64 *dropped)
{
	*logged_out = logged;
	*dropped = logged - nmsgs;
}

size_t shim_log_size(void)
{
	return nmsgs;
}

unsigned shim_log_count(int level, const char *substr)
{
	const struct shim_frame *f = shim_frame_top();
	unsigned n = 0;

	for (size_t i = f ? f->log_base : 0; i < nmsgs; i++)
		if ((level == SHIM_LOG_ANY || msgs[i].level == level) && strstr(msgs[i].text, substr))
			n++;
	return n;
}

/* Show a failing test's messages (the last DUMP_LAST); forget them at its end. */
void shim_log_frame_end(struct shim_frame *f, bool dump)
{
	char line[PRINTK_LINE_MAX + 80];
	size_t from = f->log_base;

	if (dump && nmsgs > from && !verbose()) {
		if (nmsgs - from > DUMP_LAST)
			from = nmsgs - DUMP_LAST;
		snprintf(line, sizeof(line), "  %s.%s logged (last %zu messages):\n",
			 f->kt->test->suite, f->kt->test->name, nmsgs - from);
		f->kt->out(line, f->kt->out_arg);
		for (size_t i = from; i < nmsgs; i++) {
			snprintf(line, sizeof(line), "  | %s\n", msgs[i].text);
			f->kt->out(line, f->kt->out_arg);
		}
	}
	if (f->outer)
		return;
	for (size_t i = 0; i < nmsgs; i++)
		free(msgs[i].text);
	nmsgs = 0;
}
