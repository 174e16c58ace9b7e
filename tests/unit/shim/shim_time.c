/*
 * shim_time.c — the fake monotonic clock and SoftIrqs under the real
 * kernel/ktimer.c (and kernel/timerq.c), for host unit tests.
 *
 * The clock starts at 1 s (a kernel that has been up a moment) and moves
 * only forward, only when a test calls shim_clock_advance(), a wait sleeps
 * until its next event, or code busy-waits with time_udelay().  It is never
 * reset between tests: timers armed for the whole run (a polled disk's poll
 * timer) stay valid.
 *
 * Timers are the kernel's: ktimer_start() and ktimer_cancel() are
 * kernel/ktimer.c's, on CPU 0's queue, and they run as in the kernel — the
 * tick (ktimer_tick()) raises the timer SoftIrq when one is due, and the
 * SoftIrq task runs each expired timer with no lock held and re-arms the
 * periodic ones.  What the shim adds is the clock's motion: it sets the
 * clock to the next expiry and ticks, so each timer runs with time_ns() at
 * its own expiry however far the clock is advanced, and the SoftIrqs the
 * timers due at one instant raise run before the next instant's timers —
 * as on an idle CPU.  To know the next expiry it reads the queue: at start
 * it arms one timer on the empty queue, and that timer's neighbour is the
 * queue's head inside kernel/ktimer.c.
 *
 * A SoftIrq raised is only marked pending: it runs when the test calls
 * shim_softirq_run(), when a wait sleeps, or after a timer.  Raising a type
 * nobody registered panics when it would run.
 *
 * What a test leaves here is reported at its end: SoftIrqs still pending
 * (the test ended before the work it started was done) and timers still
 * armed (they would fire into a test that knows nothing of them, or into a
 * stack that is gone), unless armed between shim_forever_begin()/_end().
 * A panic disarms the timers armed since its catch point (shim_priv.h);
 * and when it escaped from a timer callback, ktimer.c — which still counts
 * that callback as running, and would make a ktimer_cancel() of that timer
 * wait for it forever — is shown one harmless timer run to forget it.
 */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/shim_priv.h"
#include "kernel/ktimer.h"
#include "kernel/softirq.h"
#include "kernel/time.h"

#include <stdlib.h>

#define NS_PER_S 1000000000ULL

/* What the shim knows of a timer it found armed. */
struct timer_note {
	const struct ktimer *t;   /* compared, never followed: it may be gone */
	unsigned frame;           /* the frame running when it was found */
	u64 seq;                  /* the mark current then (shim_timer_seq()) */
	bool forever;
};

static u64 now = NS_PER_S;
static struct timerq *queue; /* CPU 0's, inside kernel/ktimer.c */
static struct timer_note *notes;
static size_t nnotes, notes_cap;
static u64 mark;

static softirq_fn handlers[SOFTIRQ_TYPES];
static u64 runs[SOFTIRQ_TYPES];
static u32 pending;
static bool in_softirq_run;
static bool timer_abandoned; /* a panic left the timer SoftIrq mid-callback */

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

/* A TSC at 1 GHz of the fake clock, for code that timestamps with rdtsc(). */
u64 shim_rdtsc(void)
{
	return now;
}

u64 time_tsc_to_ns(u64 cycles)
{
	return cycles;
}

/* -------------------------------------------------------------- timers */

static void nothing(struct ktimer *t, void *arg)
{
}

void shim_time_init(void)
{
	struct ktimer probe;

	ktimer_subsystem_init();
	ktimer_init(&probe, nothing, NULL);
	ktimer_start(&probe, NS_PER_S, 0);
	if (probe.link.next != probe.link.prev)
		panic("shim: the timer queue is not empty at start");
	queue = container_of(probe.link.next, struct timerq, timers);
	ktimer_cancel(&probe);
}

static bool armed(const struct ktimer *t)
{
	const struct ktimer *q;

	list_for_each_entry(q, &queue->timers, link)
		if (q == t)
			return true;
	return false;
}

static struct timer_note *note_of(const struct ktimer *t)
{
	for (size_t i = 0; i < nnotes; i++)
		if (notes[i].t == t)
			return &notes[i];
	return NULL;
}

static void note_add(const struct ktimer *t)
{
	if (nnotes == notes_cap) {
		size_t ncap = notes_cap ? notes_cap * 2 : 64;
		struct timer_note *m = realloc(notes, ncap * sizeof(*m));

		if (!m)
			panic("shim: out of host memory for timer notes");
		notes = m;
		notes_cap = ncap;
	}
	notes[nnotes++] = (struct timer_note){ t, shim_frame_id(), mark, shim_forever_now() };
}

/* Forget the timers no longer armed, note those found for the first time. */
void shim_timers_note(void)
{
	const struct ktimer *t;
	size_t keep = 0;

	for (size_t i = 0; i < nnotes; i++)
		if (armed(notes[i].t))
			notes[keep++] = notes[i];
	nnotes = keep;
	list_for_each_entry(t, &queue->timers, link)
		if (!note_of(t))
			note_add(t);
}

u64 shim_timer_seq(void)
{
	shim_timers_note();
	return mark++;
}

/* Take @t off the queue without its lock: the shim is cleaning up. */
static void disarm(struct ktimer *t)
{
	timerq_remove(queue, t);
	t->cpu = -1;
}

void shim_timers_disarm_after(u64 seq)
{
	struct ktimer *t, *tmp;

	shim_timers_note();
	list_for_each_entry_safe(t, tmp, &queue->timers, link) {
		const struct timer_note *n = note_of(t);

		if (!n->forever && n->seq > seq)
			disarm(t);
	}
}

u64 shim_clock_next(void)
{
	return timerq_next(queue);
}

/* Move the clock to @at (if it is not past it) and tick: what is due runs. */
static void tick_at(u64 at)
{
	if (at > now)
		now = at;
	ktimer_tick();
	shim_softirq_run();
}

void shim_clock_advance(u64 ns)
{
	u64 target = now + ns;

	shim_check_world("shim_clock_advance()");
	shim_softirq_run();
	while (shim_clock_next() <= target)
		tick_at(shim_clock_next());
	if (target > now)
		now = target;
}

bool shim_world_step(u64 limit)
{
	u64 next;

	if (shim_softirq_run())
		return true;
	next = shim_clock_next();
	if (next > limit)
		return false;
	tick_at(next);
	return true;
}

bool shim_world_quiet(void)
{
	return !pending && shim_clock_next() > now;
}

/*
 * After a panic out of a timer callback: run one timer of our own, due at
 * 0 so nothing else is, and ktimer.c records that no callback is running.
 */
static void forget_abandoned_timer(void)
{
	struct shim_ctx_save s;
	struct ktimer t;
	u64 saved = now;

	timer_abandoned = false;
	now = 0;
	ktimer_init(&t, nothing, NULL);
	ktimer_start(&t, 0, 0);
	shim_enter_softirq(&s);
	handlers[SOFTIRQ_TIMER]();
	shim_leave_softirq(&s, "the timer SoftIrq");
	now = saved;
}

/* ------------------------------------------------------------ SoftIrqs */

void softirq_register(enum softirq_type type, softirq_fn fn)
{
	handlers[type] = fn;
}

softirq_fn shim_softirq_handler(enum softirq_type type)
{
	return handlers[type];
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

/* A panic out of a handler: the run is over; see forget_abandoned_timer(). */
static void softirq_unwind(void *arg)
{
	in_softirq_run = false;
	if (*(enum softirq_type *)arg == SOFTIRQ_TIMER)
		timer_abandoned = true;
}

unsigned shim_softirq_run(void)
{
	enum softirq_type type = SOFTIRQ_TYPES;
	struct shim_cleanup cleanup;
	unsigned n = 0;

	if (in_softirq_run)
		return 0; /* already draining: the outer loop runs what was raised */
	shim_check_world("shim_softirq_run()");
	in_softirq_run = true;
	shim_cleanup_push(&cleanup, softirq_unwind, &type);
	while (pending) {
		struct shim_ctx_save s;

		type = (enum softirq_type)__builtin_ctz(pending);
		pending &= ~(1u << type);
		if (!handlers[type])
			panic("SoftIrq '%s' raised, but no handler is registered", softirq_name(type));
		shim_enter_softirq(&s);
		handlers[type]();
		shim_leave_softirq(&s, type == SOFTIRQ_TIMER ? "timer callback" : "SoftIrq handler");
		runs[type]++;
		n++;
	}
	shim_cleanup_pop(&cleanup);
	in_softirq_run = false;
	return n;
}

void shim_time_after_panic(void)
{
	if (timer_abandoned)
		forget_abandoned_timer();
}

/* ------------------------------------------------------------- checks */

static void report_timers(struct shim_frame *f)
{
	struct ktimer *t, *tmp;

	shim_timers_note();
	list_for_each_entry_safe(t, tmp, &queue->timers, link) {
		const struct timer_note *n = note_of(t);

		if (n->forever || (f->outer && n->frame != f->id))
			continue;
		shim_report(f->kt, NULL, 0, (const void *)t->fn, "timer still armed at the end "
			    "of the test, %llu ns from now (its callback is here)",
			    (unsigned long long)(t->expires - MIN(t->expires, now)));
		disarm(t);
	}
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
	shim_timers_note();
}
