/*
 * test_kernel_core.c — boot tests of the kernel's own machinery: symbol
 * lookup and backtraces, the dmesg ring.
 */
#include "config.h"
#include "errno.h"
#include "kernel/ksyms.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "lib/ktest.h"
#include "lib/string.h"

struct capture {
	char text[2048];
	size_t len;
};

static void capture_line(const char *line, void *arg)
{
	struct capture *c = arg;
	size_t n = strlen(line);

	if (c->len + n < sizeof(c->text)) {
		memcpy(c->text + c->len, line, n + 1);
		c->len += n;
	}
}

static __noinline unsigned backtrace_from_here(struct capture *c)
{
	u64 rbp = (u64)__builtin_frame_address(0);
	u64 rip = (u64)__builtin_return_address(0);
	unsigned n = backtrace_print(rip, rbp, true, capture_line, c);

	barrier(); /* keep this call out of tail position */
	return n;
}

static __noinline unsigned ktest_known_caller(struct capture *c)
{
	unsigned n = backtrace_from_here(c);

	barrier();
	return n;
}

KTEST(backtrace, resolves_known_functions)
{
	static struct capture c;
	unsigned frames;

	c.len = 0;
	frames = ktest_known_caller(&c);
	KT_EXPECT(frames >= 3);
	KT_EXPECT(strstr(c.text, "ktest_known_caller+0x") != NULL);
	KT_EXPECT(strstr(c.text, "ktest_run+0x") != NULL || /* the runner, whichever entry */
		  strstr(c.text, "ktest_run_until+0x") != NULL);
	if (kt->failures)
		ktest_log(kt, "backtrace was:\n%s", c.text);
}

KTEST(ksyms, lookup_and_reverse)
{
	u64 addr = (u64)&ktest_known_caller, off, size;
	const char *name = ksyms_lookup(addr + 1, &off, &size);

	KT_ASSERT(name != NULL);
	KT_EXPECT_STREQ(name, "ktest_known_caller");
	KT_EXPECT_EQ(off, 1);
	KT_EXPECT(size > 1);
	KT_EXPECT_EQ(ksyms_address("ktest_known_caller"), addr);
	KT_EXPECT(ksyms_lookup(0x1000, &off, &size) == NULL);
	KT_EXPECT(ksyms_count_get() > 100);
}

struct dmesg_scan {
	u64 tag;
	unsigned seen;
	long last;
	bool ordered;
};

static void dmesg_scan_line(const char *line, enum log_level level, void *arg)
{
	struct dmesg_scan *s = arg;
	const char *p = strstr(line, "dmesg-test ");
	long v = 0;

	if (!p)
		return;
	for (p += 11; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	if (v <= s->last)
		s->ordered = false;
	s->last = v;
	s->seen++;
}

/* Overfill the ring: it keeps the newest messages, in order, within its limits. */
KTEST(dmesg, ring_keeps_newest_in_order)
{
	struct dmesg_scan s = { .last = -1, .ordered = true };
	u64 logged0, dropped0, logged1, dropped1;
	unsigned total;

	dmesg_stats(&logged0, &dropped0);
	for (int i = 0; i < 5000; i++)
		pr_info("dmesg-test %d %s", i, i % 7 ? "" : "padding padding padding padding");
	dmesg_stats(&logged1, &dropped1);
	total = dmesg_for_each(dmesg_scan_line, &s);
	KT_EXPECT_EQ(logged1 - logged0, 5000);
	KT_EXPECT(dropped1 > dropped0);
	KT_EXPECT(total <= CONFIG_DMESG_MSGS);
	KT_EXPECT(s.ordered);
	KT_EXPECT_EQ(s.last, 4999);
	KT_EXPECT(s.seen >= CONFIG_DMESG_MSGS - 16); /* nearly every slot holds a test line */
}
