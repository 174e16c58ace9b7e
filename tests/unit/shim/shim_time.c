/*
 * shim_time.c — the fake monotonic clock, kernel timers over the real
 * kernel/timerq.c, and SoftIrqs, for host unit tests.
 *
 * The clock starts at 1 s (a kernel that has been up a moment) and moves
 * only forward, only when a test calls shim_clock_advance(), a wait sleeps
 * until its next event, or code busy-waits with time_udelay().  It is never
 * reset between tests: timers armed for the whole run (a polled disk's poll
 * timer) stay valid.
 *
 * Timers are one struct timerq, as one CPU's queue in kernel/ktimer.c, and
 * run as the kernel runs them: in the SoftIrq task, interrupts on, one at a
 * time with no lock held, a periodic timer re-armed from its last expiry
 * after its callback (unless the callback re-armed or cancelled it), a
 * one-shot timer not touched after its callback (which may free it).  When
 * the clock is advanced past several expiries, each timer runs with the
 * clock set to its own expiry, and the SoftIrqs a callback raises run
 * before the next timer — as they would on an idle CPU.
 *
 * A SoftIrq raised is only marked pending: it runs when the test calls
 * shim_softirq_run(), when a wait sleeps, or after a timer.  Raising a type
 * nobody registered panics when it would run.
 *
 * What a test leaves here is reported at its end: SoftIrqs still pending
 * (the test ended before the work it started was done) and timers still
 * armed (they would fire into a test that knows nothing of them, or into a
 * stack that is gone), unless armed between shim_forever_begin()/_end().
 */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/shim_priv.h"
#include "kernel/ktimer.h"
#include "kernel/softirq.h"
#include "kernel/time.h"

#include <stdlib.h>

#define NS_PER_S 1000000000ULL

struct timer_note {
	const struct ktimer *t;
	unsigned frame;
	u64 seq;            /* when it was last armed */
	bool forever;
};

static u64 now = NS_PER_S;
static struct timerq timers = { .timers = LIST_HEAD_INIT(timers.timers) };
static struct timer_note *notes;
static size_t nnotes, notes_cap;
static u64 arm_seq;

static softirq_fn handlers[SOFTIRQ_TYPES];
static u64 runs[SOFTIRQ_TYPES];
static u32 pending;
static bool in_softirq_run;

static const char *const softirq_names[SOFTIRQ_TYPES] = {
	[SOFTIRQ_TIMER] = "timer", [SOFTIRQ_NET_RX] = "net-rx", [SOFTIRQ_NET_TX] = "net-tx",
	[SOFTIRQ_BLOCK] = "block", [SOFTIRQ_TCP_TIMER] = "tcp-timer",
};

u64 time_ns(void)
{
	return now;
}

u64 time_ticks(void)
{
	return now / (NS_PER_S / TIME_TICK_HZ);
}

void time_udelay(u64 us)
{
	now += us * 1000; /* a busy-wait: time passes, nothing else runs */
}

/* -------------------------------------------------------------- timers */

static struct timer_note *note_of(const struct ktimer *t)
{
	for (size_t i = 0; i < nnotes; i++)
		if (notes[i].t == t)
			return &notes[i];
	return NULL;
}

static void note_armed(const struct ktimer *t)
{
	struct timer_note *n = note_of(t);

	if (!n) {
		if (nnotes == notes_cap) {
			size_t ncap = notes_cap ? notes_cap * 2 : 64;
			struct timer_note *m = realloc(notes, ncap * sizeof(*m));

			if (!m)
				panic("shim: out of host memory for timer notes");
			notes = m;
			notes_cap = ncap;
		}
		n = &notes[nnotes++];
		*n = (struct timer_note){ .t = t };
	}
	n->frame = shim_frame_id();
	n->seq = ++arm_seq;
	n->forever |= shim_forever_now();
}

u64 shim_timer_seq(void)
{
	return arm_seq;
}

void shim_timers_disarm_after(u64 seq)
{
	struct ktimer *t, *tmp;

	list_for_each_entry_safe(t, tmp, &timers.timers, link) {
		const struct timer_note *n = note_of(t);

		if (n && !n->forever && n->seq > seq) {
			timerq_remove(&timers, t);
			t->cpu = -1;
		}
	}
}

void ktimer_init(struct ktimer *t, ktimer_fn fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->queued = false;
	t->cpu = -1;
	list_init(&t->link);
}

bool ktimer_cancel(struct ktimer *t)
{
	if (t->cpu < 0)
		return false;
	t->period = 0; /* a periodic timer whose callback is running stops too */
	return timerq_remove(&timers, t);
}

void ktimer_start(struct ktimer *t, u64 delay_ns, u64 period_ns)
{
	ktimer_cancel(t);
	t->expires = now + delay_ns;
	t->period = period_ns;
	t->cpu = 0;
	timerq_add(&timers, t);
	note_armed(t);
}

static void run_timer(struct ktimer *t)
{
	struct shim_ctx_save s;
	u64 period = t->period; /* a one-shot may be gone once fn returns */

	if (t->expires > now)
		now = t->expires;
	shim_enter_softirq(&s);
	t->fn(t, t->arg);
	shim_leave_softirq(&s, "timer callback");
	if (period && !t->queued && t->period) {
		t->expires += t->period;
		timerq_add(&timers, t);
	}
}

/* Run every timer due by @target, in order, and what each raises. */
static void run_timers_until(u64 target)
{
	struct ktimer *t;

	while ((t = timerq_pop_expired(&timers, target))) {
		run_timer(t);
		shim_softirq_run();
	}
	if (target > now)
		now = target;
}

void shim_clock_advance(u64 ns)
{
	shim_check_world("shim_clock_advance()");
	shim_softirq_run();
	run_timers_until(now + ns);
}

u64 shim_clock_next(void)
{
	return timerq_next(&timers);
}

bool shim_world_step(u64 limit)
{
	u64 next;

	if (shim_softirq_run())
		return true;
	next = timerq_next(&timers);
	if (next > limit)
		return false;
	run_timers_until(next);
	return true;
}

/* ------------------------------------------------------------ SoftIrqs */

void softirq_register(enum softirq_type type, softirq_fn fn)
{
	handlers[type] = fn;
}

void softirq_raise(enum softirq_type type)
{
	pending |= 1u << type;
}

u64 softirq_count(enum softirq_type type, unsigned cpu)
{
	return cpu == 0 ? runs[type] : 0;
}

const char *softirq_name(enum softirq_type type)
{
	return type < SOFTIRQ_TYPES ? softirq_names[type] : "?";
}

bool shim_softirq_pending(enum softirq_type type)
{
	return pending & (1u << type);
}

unsigned shim_softirq_run(void)
{
	unsigned n = 0;

	if (in_softirq_run)
		return 0; /* already draining: the outer loop runs what was raised */
	shim_check_world("shim_softirq_run()");
	in_softirq_run = true;
	while (pending) {
		enum softirq_type type = (enum softirq_type)__builtin_ctz(pending);
		struct shim_ctx_save s;

		pending &= ~(1u << type);
		if (!handlers[type])
			panic("SoftIrq '%s' raised, but no handler is registered", softirq_name(type));
		shim_enter_softirq(&s);
		handlers[type]();
		shim_leave_softirq(&s, "SoftIrq handler");
		runs[type]++;
		n++;
	}
	in_softirq_run = false;
	return n;
}

void shim_time_after_panic(void)
{
	in_softirq_run = false;
}

/* ------------------------------------------------------------- checks */

static void report_timers(struct shim_frame *f)
{
	struct ktimer *t, *tmp;

	list_for_each_entry_safe(t, tmp, &timers.timers, link) {
		struct timer_note *n = note_of(t);

		if (n && (n->forever || n->frame != f->id))
			continue;
		shim_report(f->kt, NULL, 0, (const void *)t->fn, "timer still armed at the end "
			    "of the test, %llu ns from now (its callback is here)",
			    (unsigned long long)(t->expires - MIN(t->expires, now)));
		timerq_remove(&timers, t);
		t->cpu = -1;
	}
}

static bool armed(const struct ktimer *t)
{
	const struct ktimer *q;

	list_for_each_entry(q, &timers.timers, link)
		if (q == t)
			return true;
	return false;
}

/*
 * Between tests only forever timers are armed; forget every other note.
 * A note is compared, never followed: the timer it names may be gone.
 */
static void prune_notes(void)
{
	size_t keep = 0;

	for (size_t i = 0; i < nnotes; i++)
		if (notes[i].forever && armed(notes[i].t))
			notes[keep++] = notes[i];
	nnotes = keep;
}

void shim_time_frame_end(struct shim_frame *f)
{
	for (unsigned type = 0; type < SOFTIRQ_TYPES; type++)
		if (pending & (1u << type))
			shim_report_test(f->kt, "SoftIrq '%s' raised and never run "
				   "(call shim_softirq_run() or wait for the work to finish)",
				   softirq_name((enum softirq_type)type));
	pending = 0;
	report_timers(f);
	if (!f->outer)
		prune_notes();
}
