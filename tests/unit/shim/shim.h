/*
 * shim.h — the host shim: what a host unit test of kernel code (block/,
 * net/, fs/ ...) may call besides the kernel's own interfaces.
 *
 * The shim lets real kernel .c files compile and run on the host under
 * ASan and UBSan.  It has two halves:
 *
 *  - Shadow headers under tests/unit/shim/ that replace the few kernel
 *    headers whose inline code cannot run in a process (kernel/spinlock.h,
 *    kernel/x86.h, mm/addr.h).  The host build searches tests/unit/shim
 *    before the tree, so `#include "kernel/spinlock.h"` finds the shim's.
 *  - Host definitions of what the kernel code compiled for the host needs
 *    from below (printk, panic, kmalloc, page_alloc, time_ns, softirq_*,
 *    percpu_area, task_current, task_wake, schedule, mutex_*, ...), checked
 *    against the real declarations by the compiler.  The waits and timers
 *    themselves are the kernel's: kernel/waitq.c, waitgroup.c, ktimer.c and
 *    timerq.c are compiled for the host unchanged.
 *
 * The machine it simulates: one CPU running one task (the test), a SoftIrq
 * task ("softirq/0") that runs what softirq_raise() queued, and a monotonic
 * clock that moves only when a test advances it or a wait sleeps.  There is
 * no concurrency, so every run is deterministic; what is simulated instead
 * is the *order* things would happen in.  A wait that would sleep lets the
 * world run — pending SoftIrqs first, then the clock jumps to the next
 * timer — until the waiter is woken or its deadline passes, and panics if
 * nothing is left that could ever wake it.
 *
 * Each test runs in a frame set up by the runner (tests/unit/main.c through
 * ktest_set_wrap()).  A panic or a failed BUG_ON ends the test at once as a
 * failure (a longjmp back to the runner).  When the test returns, the
 * runner fails it for anything it left behind, each with where it came from:
 * memory from kmalloc()/page_alloc() still live, a spinlock or mutex still
 * held, interrupts left off or preemption left disabled, a timer still
 * pending, a SoftIrq raised and never run.  Then the shim is put back in
 * order for the next test.  A failing test's log is printed after it.
 *
 * Kernel state that lives for the whole boot (registered devices, the block
 * layer's DMA slots, their poll timers) is made between shim_forever_begin()
 * and shim_forever_end(): what is allocated or armed in between is not a
 * leak.  Such state persists into later tests, exactly as it does between
 * boot tests, so tests that share it set it up once, on first use.
 */
#ifndef NOS_SHIM_H
#define NOS_SHIM_H

#include "types.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/softirq.h"
#include "lib/ktest.h"

/* ------------------------------------------------------------ the clock */

/*
 * Move the clock forward by @ns, running every timer that expires on the
 * way, each at its own expiry (time_ns() inside a callback reads its
 * expiry), and the SoftIrqs they raise.  Task context, no lock held.
 */
void shim_clock_advance(u64 ns);
/* Expiry of the earliest pending timer, or ~0 when there is none. */
u64 shim_clock_next(void);

/* ------------------------------------------------------------ SoftIrqs */

/* Run raised SoftIrqs until none is pending; how many handlers ran. */
unsigned shim_softirq_run(void);
bool shim_softirq_pending(enum softirq_type type);
/* The handler registered for @type (NULL: none), so a test that borrows a
 * SoftIrq can give it back to its owner. */
softirq_fn shim_softirq_handler(enum softirq_type type);

/* ------------------------------------------------- contexts, interrupts */

enum shim_ctx { SHIM_CTX_TASK, SHIM_CTX_SOFTIRQ, SHIM_CTX_IRQ };

/* Where the code calling it runs. */
enum shim_ctx shim_context(void);
/*
 * Run @fn(@arg) now as a hard-IRQ handler: interrupts off, SHIM_CTX_IRQ,
 * task_current() unchanged.  Panics when interrupts are off (no interrupt
 * arrives then) or when the handler returns holding a lock.
 */
void shim_irq(void (*fn)(void *arg), void *arg);
/* The test's own task (task_interrupt() on it is the shell's Ctrl-C). */
struct task *shim_test_task(void);

/* --------------------------------------------------------------- memory */

/* Allocations and timers made until shim_forever_end() are not leaks. */
void shim_forever_begin(void);
void shim_forever_end(void);
/* Objects from kmalloc()/page_alloc() this test made and still holds. */
unsigned shim_mem_live(void);
/* Make the @n-th allocation from now (1 = the next) fail; 0 cancels. */
void shim_mem_fail_nth(unsigned n);

/* ------------------------------------------------------------------ log */

/*
 * Messages this test logged (pr_*) that contain @substr; @level is a
 * LOG_* or SHIM_LOG_ANY.  Set NOS_UNIT_VERBOSE=1 to see every message.
 */
#define SHIM_LOG_ANY (-1)
unsigned shim_log_count(int level, const char *substr);

#define KT_EXPECT_LOGGED(substr) KT_EXPECT(shim_log_count(SHIM_LOG_ANY, (substr)) > 0)
#define KT_EXPECT_NOT_LOGGED(substr) KT_EXPECT_EQ(shim_log_count(SHIM_LOG_ANY, (substr)), 0)

/* --------------------------------------------------------------- panics */

/*
 * Call @fn(@arg) and catch a panic in it: true when it panicked, with the
 * message in @msg (may be NULL).  Locks taken inside are dropped and the
 * interrupt flag, preemption and context are put back as they were, as if
 * the CPU had been reset to the call; memory is not given back.
 */
bool shim_catch_panic(void (*fn)(void *arg), void *arg, char *msg, size_t size);

/*
 * Run @fn as a test of its own inside the current one, with the runner's
 * checks, and return its failure count; its report lines go to @report
 * (may be NULL).  For tests of the shim itself.
 */
unsigned shim_run_nested(const char *name, void (*fn)(struct ktest_ctx *kt), char *report,
			 size_t size);

/* ----------------------------------------------------------- the runner */

/* Install the shim's per-test frame in the ktest runner (tests/unit/main.c). */
void shim_install(void);

#endif
