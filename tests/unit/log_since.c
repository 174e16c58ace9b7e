/*
 * log_since.c — counting a case's log messages (log_since.h).
 *
 * dmesg_for_each() visits the ring oldest first and holds only the newest
 * messages, so the first one visited is number logged - visited; a match
 * counts when its number is at or past the mark.
 */
#include "tests/unit/log_since.h"
#include "kernel/printk.h"
#include "lib/string.h"

struct log_search {
	const char *needle;
	u64 seen;               /* messages visited */
	u64 match[16];          /* their positions among those visited */
	unsigned nmatch;
};

static void search_line(const char *line, enum log_level level, void *arg)
{
	struct log_search *s = arg;

	if (strstr(line, s->needle) && s->nmatch < ARRAY_SIZE(s->match))
		s->match[s->nmatch++] = s->seen;
	s->seen++;
}

u64 log_mark(void)
{
	u64 logged, dropped;

	dmesg_stats(&logged, &dropped);
	return logged;
}

unsigned logged_since(u64 mark, const char *needle)
{
	struct log_search s = { .needle = needle };
	u64 logged = log_mark(), first;
	unsigned n = 0;

	dmesg_for_each(search_line, &s);
	first = logged > s.seen ? logged - s.seen : 0;
	for (unsigned i = 0; i < s.nmatch; i++)
		n += first + s.match[i] >= mark;
	return n;
}
