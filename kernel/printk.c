/*
 * printk.c — the dmesg ring and message formatting.
 *
 * The ring is two arrays: text[] holds the messages back to back, and
 * slots[] says where each one starts and how long it is.  Messages are
 * numbered by a sequence number; slot seq % DMESG_MSGS holds message seq.
 * Live messages are those with first <= seq < next.
 *
 * A new message goes at the write position `wpos`; if it does not fit
 * before the end of text[] it goes at 0 instead (the tail is left unused).
 * The messages it would overwrite are always the oldest ones, because
 * text[] is filled in order: in cyclic order from wpos come the messages of
 * the previous lap, oldest first.  So making room is "drop the oldest while
 * it lies where the new text goes" — see dmesg_make_room().
 *
 * dmesg_lock protects everything here; it is taken with interrupts off so a
 * handler may log.
 */
#include "kernel/printk.h"
#include "kernel/lock_order.h"
#include "config.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

#define DMESG_BYTES CONFIG_DMESG_BYTES
#define DMESG_MSGS CONFIG_DMESG_MSGS

struct dmesg_slot {
	u32 off;
	u16 len;
	u8 level;
};

static struct {
	spinlock_t lock;
	u32 wpos;
	u64 first, next; /* live messages: first <= seq < next */
	u64 dropped;
	struct dmesg_slot slots[DMESG_MSGS];
	char text[DMESG_BYTES];
} dmesg = { .lock = SPINLOCK_INIT_RANKED("dmesg", LOCK_RANK_DMESG) };

static struct dmesg_slot *slot_of(u64 seq)
{
	return &dmesg.slots[seq % DMESG_MSGS];
}

static void drop_oldest(void)
{
	dmesg.first++;
	dmesg.dropped++;
}

/* Free [wpos, wpos + len) in text[], wrapping wpos to 0 when needed. */
static void dmesg_make_room(u32 len)
{
	if (dmesg.wpos + len > DMESG_BYTES) {
		/* The unused tail's messages are the oldest: drop them first. */
		while (dmesg.first < dmesg.next && slot_of(dmesg.first)->off >= dmesg.wpos)
			drop_oldest();
		dmesg.wpos = 0;
	}
	while (dmesg.first < dmesg.next) {
		u32 off = slot_of(dmesg.first)->off;

		if (dmesg.next - dmesg.first < DMESG_MSGS &&
		    !(off >= dmesg.wpos && off < dmesg.wpos + len))
			break;
		drop_oldest();
	}
}

static void dmesg_store(const char *line, u32 len, enum log_level level)
{
	struct dmesg_slot *s;

	dmesg_make_room(len);
	memcpy(dmesg.text + dmesg.wpos, line, len);
	s = slot_of(dmesg.next++);
	s->off = dmesg.wpos;
	s->len = (u16)len;
	s->level = (u8)level;
	dmesg.wpos += len;
}

static size_t format_prefix(char *buf, size_t size, const char *func)
{
	u64 us = time_ns() / 1000;

	return (size_t)snprintf(buf, size, "[%u:%llu.%06llu:%s] ", cpu_id(),
				(unsigned long long)(us / 1000000),
				(unsigned long long)(us % 1000000), func);
}

void vprintk(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	char line[PRINTK_LINE_MAX + 1];
	size_t n = format_prefix(line, PRINTK_LINE_MAX, func);
	u64 flags;

	if (n < PRINTK_LINE_MAX)
		vsnprintf(line + n, PRINTK_LINE_MAX - n, fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		n--; /* the ring stores lines without their newline */
	flags = spin_lock_irqsave(&dmesg.lock);
	dmesg_store(line, (u32)n, level);
	spin_unlock_irqrestore(&dmesg.lock, flags);
	if (!console_shell_active()) {
		line[n] = '\n';
		console_write(line, n + 1);
	}
}

void printk(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, func, fmt, ap);
	va_end(ap);
}

/* Copy message @seq out under the lock; false when it is gone. */
static bool dmesg_copy(u64 seq, char *out, enum log_level *level)
{
	u64 flags = spin_lock_irqsave(&dmesg.lock);
	bool live = seq >= dmesg.first && seq < dmesg.next;

	if (live) {
		struct dmesg_slot *s = slot_of(seq);

		memcpy(out, dmesg.text + s->off, s->len);
		out[s->len] = '\0';
		*level = (enum log_level)s->level;
	}
	spin_unlock_irqrestore(&dmesg.lock, flags);
	return live;
}

unsigned dmesg_for_each(void (*fn)(const char *line, enum log_level level, void *arg),
			void *arg)
{
	char line[PRINTK_LINE_MAX + 1];
	enum log_level level;
	unsigned visited = 0;
	u64 seq = READ_ONCE(dmesg.first);
	u64 end = READ_ONCE(dmesg.next);

	for (; seq < end; seq++) {
		if (seq < READ_ONCE(dmesg.first))
			seq = READ_ONCE(dmesg.first); /* overtaken by new messages */
		if (seq < end && dmesg_copy(seq, line, &level)) {
			fn(line, level, arg);
			visited++;
		}
	}
	return visited;
}

void dmesg_stats(u64 *logged, u64 *dropped)
{
	*logged = READ_ONCE(dmesg.next);
	*dropped = READ_ONCE(dmesg.dropped);
}
