/*
 * shim_priv.h — what the host shim's files share among themselves (see
 * shim.h for what the shim is).  Nothing outside tests/unit/shim includes it.
 *
 * The simulated CPU (struct shim_cpu) is the state a real CPU would carry:
 * the interrupt flag, the preemption count, the context it runs in, the
 * current task and the stack of locks it holds.  A running test is a frame
 * (struct shim_frame); nested runs (shim_run_nested) push another.  Each
 * frame has an id, and what a test makes (allocations, timers) carries the
 * id of the frame that made it, so the checks at the end of a frame blame
 * only what that frame left behind.
 *
 * The shim's .c files call libc directly: they define NOS_KEEP_LIBC_NAMES
 * before any include, so lib/string.h and lib/format.h declare the kernel's
 * routines under their nos_ names and leave libc's names alone.
 */
#ifndef NOS_SHIM_PRIV_H
#define NOS_SHIM_PRIV_H

#include "tests/unit/shim/shim.h"
#include "kernel/spinlock.h"
#include "kernel/panic.h"
#include "lib/ktest.h"

#define SHIM_HELD_MAX 32
#define SHIM_MSG_MAX 320

/* A lock this CPU holds: a spinlock or a mutex. */
struct shim_held {
	const void *lock;
	const char *name;
	u8 rank;
	bool mutex;
	const char *file;   /* where it was taken, or NULL: then @pc says */
	int line;
	const void *pc;
};

struct shim_cpu {
	bool irq_on;              /* the interrupt flag */
	unsigned preempt_off;     /* preempt_disable() depth (spinlocks not counted) */
	enum shim_ctx ctx;
	struct task *curr;        /* task_current() */
	unsigned relax;           /* cpu_relax() calls in this test */
	struct shim_held held[SHIM_HELD_MAX]; /* innermost last */
	unsigned nheld;
	unsigned nspin;           /* of which spinlocks */
};

extern struct shim_cpu shim_cpu;

struct shim_frame {
	struct shim_frame *outer;
	struct ktest_ctx *kt;
	unsigned id;
	unsigned held_base;       /* locks held when it began */
	size_t log_base;          /* first message of this frame */
	unsigned forever_depth;   /* shim_forever_begin() depth when it began */
};

/* The innermost running test, or NULL outside any. */
struct shim_frame *shim_frame_top(void);
/* Its id, 0 outside any test. */
unsigned shim_frame_id(void);
/* True between shim_forever_begin() and shim_forever_end(). */
bool shim_forever_now(void);

/* Panic with a known location (a spin_lock() call site); @file may be NULL. */
__noreturn void shim_panic_at(const char *file, int line, const char *fmt, ...) __printf(3, 4);

/*
 * Fail @kt for something found at the end of a test.  The location is
 * @file:@line, or where @pc is when @file is NULL.
 */
void shim_report(struct ktest_ctx *kt, const char *file, int line, const void *pc,
		 const char *fmt, ...) __printf(5, 6);
/* The same, at the test's own function (for what has no better place). */
#define shim_report_test(kt, ...)                                              \
	shim_report((kt), NULL, 0, (const char *)(uintptr_t)(kt)->test->fn + 1, __VA_ARGS__)
/* "file:line" (or "function" / "?") of the code at return address @pc. */
void shim_where(const void *pc, char *buf, size_t size);

/* Panic unless the caller may sleep now (task context, no lock, interrupts on). */
void shim_check_may_sleep(const char *what);
/* Panic unless the world may run now (task context, no spinlock held). */
void shim_check_world(const char *what);

/* Run the SoftIrqs or the next timer not later than @limit; false when none. */
bool shim_world_step(u64 limit);
/* True when nothing is due: no SoftIrq pending, no timer expired. */
bool shim_world_quiet(void);

/* The test task's sleep (shim_sched.c), kept at a catch point. */
struct shim_sleep_save {
	int state;
	bool probed;
};
void shim_sched_save(struct shim_sleep_save *s);
void shim_sched_restore(const struct shim_sleep_save *s);

/* Enter / leave the SoftIrq task (timer callbacks, SoftIrq handlers). */
struct shim_ctx_save {
	enum shim_ctx ctx;
	struct task *curr;
	bool irq_on;
	unsigned nheld;
	unsigned preempt_off;
	struct shim_sleep_save sleep; /* put back only after a panic */
};
void shim_enter_softirq(struct shim_ctx_save *s);
void shim_leave_softirq(const struct shim_ctx_save *s, const char *what);

/*
 * Undo work for a panic.  A panic longjmps over the frames between it and
 * the catch point, and whatever those frames linked into shared state (a
 * wait entry on a queue, a timer on the stack) must be unlinked first,
 * while the frames still exist: push a cleanup before, pop it after.
 * Cleanups pushed since the catch point run, innermost first, before the
 * jump; so are timers armed since then disarmed and locks taken since then
 * released.
 */
struct shim_cleanup {
	struct shim_cleanup *prev;
	void (*fn)(void *arg);
	void *arg;
};
void shim_cleanup_push(struct shim_cleanup *c, void (*fn)(void *arg), void *arg);
void shim_cleanup_pop(struct shim_cleanup *c);
/*
 * The timers armed now, as a mark; after a panic, disarm those armed since
 * @seq.  Timers live in kernel/ktimer.c's queue, which the shim reads but
 * does not see being changed: it notes each timer (which frame armed it,
 * whether inside shim_forever_begin()/_end()) the first time it finds it
 * there.  shim_timers_note() looks, and is called wherever the answer
 * would change: a frame or a forever section beginning or ending.
 */
u64 shim_timer_seq(void);
void shim_timers_disarm_after(u64 seq);
void shim_timers_note(void);
/* Start kernel/ktimer.c and find its queue (once, before the first test). */
void shim_time_init(void);

/* End-of-frame checks (failures go to f->kt) and resets, each module's own. */
void shim_lock_release_above(unsigned base);
void shim_lock_frame_end(struct shim_frame *f);
void shim_mem_frame_end(struct shim_frame *f);
void shim_time_frame_end(struct shim_frame *f);
void shim_time_after_panic(void);
void shim_sched_frame_end(struct shim_frame *f);
void shim_log_frame_end(struct shim_frame *f, bool dump);
size_t shim_log_size(void);

/* The SoftIrq task (task_current() in SoftIrq context). */
struct task *shim_softirq_task(void);

#endif
