/*
 * host_shim.c — tests of the host shim itself (tests/unit/shim/): that each
 * check it promises catches what it should, so a host test of kernel code
 * that passes means something.
 *
 * Two kinds.  A misuse that panics in the kernel (recursion, a lock out of
 * order, sleeping with a lock held, a double free) is called under
 * shim_catch_panic() and the message is checked.  What the runner catches
 * at the end of a test (a leak, a lock or timer left behind) is done inside
 * shim_run_nested(), a test within the test, whose failure report is
 * checked — and whatever the nested test leaked on purpose is freed here.
 *
 * Host only: the shim does not exist at boot.
 */
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/lock_order.h"
#include "kernel/mutex.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "kernel/x86.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

#define MS 1000000ULL

static char msg[320];
static char report[2048];

/* ------------------------------------------------- panics caught in place */

static spinlock_t lock_a = SPINLOCK_INIT("lock-a");
static spinlock_t lock_w = SPINLOCK_INIT_RANKED("rank-waitq", LOCK_RANK_WAITQ);
static spinlock_t lock_g = SPINLOCK_INIT_RANKED("rank-waitgroup", LOCK_RANK_WAITGROUP);

static void take_twice(void *arg)
{
	spin_lock(&lock_a);
	spin_lock(&lock_a);
}

static void release_unheld(void *arg)
{
	spin_unlock(&lock_a);
}

static void take_out_of_order(void *arg)
{
	spin_lock(&lock_w);
	spin_lock(&lock_g);
}

static void irq_shared_with_irqs_on(void *arg)
{
	u64 flags = spin_lock_irqsave(&lock_a);

	spin_unlock_irqrestore(&lock_a, flags);
	spin_lock(&lock_a); /* interrupts are on here */
}

KTEST(shim, spinlock_misuse_panics_with_the_locks_name)
{
	KT_EXPECT(shim_catch_panic(take_twice, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "'lock-a'") && strstr(msg, "recursion"));
	KT_EXPECT(!spin_held(&lock_a)); /* the catch dropped it */
	KT_EXPECT(shim_catch_panic(release_unheld, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "'lock-a'") && strstr(msg, "released but not held"));
	KT_EXPECT(shim_catch_panic(take_out_of_order, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "'rank-waitgroup'") && strstr(msg, "'rank-waitq'") &&
		  strstr(msg, "lock_order.h"));
	KT_EXPECT(shim_catch_panic(irq_shared_with_irqs_on, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "interrupt handler shares it"));
	lock_a.irq_shared = false;
	KT_EXPECT(read_rflags() & RFLAGS_IF); /* put back as it was */
}

KTEST(shim, locks_in_the_declared_order_are_fine)
{
	u64 flags = spin_lock_irqsave(&lock_a);

	KT_EXPECT(!(read_rflags() & RFLAGS_IF));
	spin_lock(&lock_g);
	spin_lock(&lock_w);
	KT_EXPECT(spin_held(&lock_g) && spin_held(&lock_w));
	spin_unlock(&lock_g); /* hand over hand: the outer one first */
	spin_unlock(&lock_w);
	spin_unlock_irqrestore(&lock_a, flags);
	KT_EXPECT(read_rflags() & RFLAGS_IF);
	lock_a.irq_shared = false;
	KT_EXPECT(spin_trylock(&lock_w));
	KT_EXPECT(!spin_trylock(&lock_w));
	spin_unlock(&lock_w);
}

static struct waitgroup wg;

static void sleep_holding_a_lock(void *arg)
{
	spin_lock(&lock_a);
	waitgroup_wait(&wg, 0);
}

static void sleep_with_irqs_off(void *arg)
{
	cli();
	waitgroup_wait(&wg, 10 * MS);
}

KTEST(shim, sleeping_where_the_kernel_must_not_panics)
{
	waitgroup_init(&wg);
	waitgroup_add(&wg, 1);
	KT_EXPECT(shim_catch_panic(sleep_holding_a_lock, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "spinlock 'lock-a' held") != NULL);
	KT_EXPECT(shim_catch_panic(sleep_with_irqs_off, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "interrupts off") != NULL);
	waitgroup_done(&wg);
	cli();
	KT_EXPECT_EQ(waitgroup_wait(&wg, 0), 0); /* no sleep needed: allowed */
	sti();
}

static struct mutex mtx;

static void mutex_twice(void *arg)
{
	mutex_lock(&mtx);
}

static void mutex_unlock_unheld(void *arg)
{
	mutex_unlock(&mtx);
}

static void mutex_under_spinlock(void *arg)
{
	spin_lock(&lock_a);
	mutex_lock(&mtx);
}

static bool timer_saw_panic;

static void mutex_in_softirq(struct ktimer *t, void *arg)
{
	timer_saw_panic = shim_catch_panic(mutex_twice, NULL, msg, sizeof(msg));
}

KTEST(shim, mutex_misuse_panics)
{
	struct ktimer t;

	mutex_init(&mtx, "test-mutex");
	mutex_lock(&mtx);
	KT_EXPECT(mutex_held(&mtx));
	KT_EXPECT(shim_catch_panic(mutex_twice, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "'test-mutex'") && strstr(msg, "locked again by its owner"));
	mutex_unlock(&mtx);
	KT_EXPECT(shim_catch_panic(mutex_unlock_unheld, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "does not hold it") != NULL);
	KT_EXPECT(shim_catch_panic(mutex_under_spinlock, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "mutex_lock() with spinlock 'lock-a' held") != NULL);
	ktimer_init(&t, mutex_in_softirq, NULL);
	ktimer_start(&t, MS, 0);
	shim_clock_advance(MS);
	KT_EXPECT(timer_saw_panic);
	KT_EXPECT(strstr(msg, "SoftIrq context") != NULL);
	KT_EXPECT(mutex_trylock(&mtx));
	mutex_unlock(&mtx);
}

static void double_kfree(void *arg)
{
	kfree(arg);
}

static void wrong_page_count(void *arg)
{
	page_free(arg, 2);
}

static void stack_dma(void *arg)
{
	u8 buf[16];

	virt_to_phys(buf);
}

KTEST(shim, memory_misuse_panics)
{
	void *p = kmalloc(40), *pages = page_alloc(3);

	KT_ASSERT(p && pages);
	kfree(p);
	KT_EXPECT(shim_catch_panic(double_kfree, p, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "not memory from kmalloc") != NULL);
	KT_EXPECT(shim_catch_panic(double_kfree, pages, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "page_alloc(3)") != NULL);
	KT_EXPECT(shim_catch_panic(wrong_page_count, pages, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "the block is 3 pages") != NULL);
	KT_EXPECT(shim_catch_panic(stack_dma, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "virt_to_phys") != NULL);
	page_free(pages, 3);
}

KTEST(shim, allocations_keep_the_kernels_promises)
{
	u8 *small = kmalloc(100), *big = kmalloc(3000), *pages = page_alloc(3);

	KT_ASSERT(small && big && pages);
	KT_EXPECT_EQ((uintptr_t)small % 128, 0);       /* its size class */
	KT_EXPECT_EQ((uintptr_t)big % PAGE_SIZE, 0);
	KT_EXPECT_EQ((uintptr_t)pages % (4 * PAGE_SIZE), 0); /* 3 pages: aligned to 4 */
	KT_EXPECT_EQ(page_alloc_count(pages), 3);
	KT_EXPECT_EQ(small[99], 0xA5);                 /* not zeroed: garbage shows */
	KT_EXPECT(virt_to_phys(pages + 5) != (uintptr_t)(pages + 5));
	KT_EXPECT(phys_to_virt(virt_to_phys(pages + 5)) == pages + 5);
	KT_EXPECT_EQ(shim_mem_live(), 3);
	KT_EXPECT(kmalloc(0) == NULL && page_alloc(0) == NULL && page_alloc(129) == NULL);
	shim_mem_fail_nth(2);
	void *a = kzalloc(8), *b = kzalloc(8);
	KT_EXPECT(a != NULL && b == NULL);
	kfree(a);
	kfree(small);
	kfree(big);
	page_free(pages, 3);
	KT_EXPECT_EQ(shim_mem_live(), 0);
}

static void spin_forever(void *arg)
{
	for (;;)
		cpu_relax();
}

static void never_woken(void *arg)
{
	waitgroup_wait(&wg, 0);
}

KTEST(shim, a_hang_panics_instead_of_stopping_the_run)
{
	KT_EXPECT(shim_catch_panic(spin_forever, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "busy-wait") != NULL);
	waitgroup_init(&wg);
	waitgroup_add(&wg, 1);
	KT_EXPECT(shim_catch_panic(never_woken, NULL, msg, sizeof(msg)));
	/* "forever" when no timer is armed; with the block tests' poll timers
	 * armed for the run, ten simulated minutes go by first. */
	KT_EXPECT(strstr(msg, "sleep forever") || strstr(msg, "nothing woke it"));
	waitgroup_done(&wg);
}

/* ------------------------------------------------ the clock and the waits */

static u64 fired_at[4];
static unsigned fired_n;

static void record(struct ktimer *t, void *arg)
{
	if (fired_n < ARRAY_SIZE(fired_at))
		fired_at[fired_n++] = time_ns();
}

KTEST(shim, advancing_the_clock_runs_timers_at_their_expiry)
{
	struct ktimer once, periodic;
	u64 t0 = time_ns();

	fired_n = 0;
	ktimer_init(&once, record, NULL);
	ktimer_init(&periodic, record, NULL);
	ktimer_start(&periodic, 10 * MS, 10 * MS);
	ktimer_start(&once, 15 * MS, 0);
	shim_clock_advance(9 * MS);
	KT_EXPECT_EQ(fired_n, 0);
	shim_clock_advance(26 * MS);
	KT_ASSERT_EQ(fired_n, 4);
	KT_EXPECT_EQ(fired_at[0] - t0, 10 * MS);
	KT_EXPECT_EQ(fired_at[1] - t0, 15 * MS);
	KT_EXPECT_EQ(fired_at[2] - t0, 20 * MS);
	KT_EXPECT_EQ(fired_at[3] - t0, 30 * MS);
	KT_EXPECT_EQ(time_ns() - t0, 35 * MS);
	KT_EXPECT_EQ(shim_clock_next(), t0 + 40 * MS);
	KT_EXPECT(ktimer_cancel(&periodic));
	KT_EXPECT(!ktimer_cancel(&once));
}

static void finish_work(struct ktimer *t, void *arg)
{
	waitgroup_done(arg);
}

static void interrupt_me(struct ktimer *t, void *arg)
{
	task_interrupt(arg);
}

KTEST(shim, waits_end_when_woken_timed_out_or_interrupted)
{
	struct ktimer t;
	u64 t0;

	waitgroup_init(&wg);
	waitgroup_add(&wg, 1);
	ktimer_init(&t, finish_work, &wg);
	ktimer_start(&t, 30 * MS, 0);
	t0 = time_ns();
	KT_EXPECT_EQ(waitgroup_wait(&wg, 0), 0);
	KT_EXPECT_EQ(time_ns() - t0, 30 * MS); /* woken by the work, not later */

	waitgroup_add(&wg, 1);
	t0 = time_ns();
	KT_EXPECT_EQ(waitgroup_wait(&wg, 50 * MS), -ETIMEDOUT);
	KT_EXPECT_EQ(time_ns() - t0, 50 * MS);

	ktimer_init(&t, interrupt_me, shim_test_task());
	ktimer_start(&t, 20 * MS, 0);
	t0 = time_ns();
	KT_EXPECT_EQ(waitgroup_wait_interruptible(&wg, 1000 * MS), -EINTR);
	KT_EXPECT_EQ(time_ns() - t0, 20 * MS);
	KT_EXPECT(task_interrupted());
	KT_EXPECT_EQ(sched_sleep_interruptible(5 * MS), -EINTR);
	task_clear_interrupt();
	t0 = time_ns();
	sched_sleep_ns(7 * MS);
	KT_EXPECT_EQ(time_ns() - t0, 7 * MS);
	waitgroup_done(&wg);
}

static bool flag;

static void set_flag_silently(struct ktimer *t, void *arg)
{
	flag = true; /* and wakes nobody */
}

static bool flag_set(void *arg)
{
	return flag;
}

static void wait_for_flag(void *arg)
{
	struct waitq *wq = arg;

	waitq_wait_timeout(wq, flag_set, NULL, 100 * MS);
}

static void wait_for_flag_forever(void *arg)
{
	waitq_wait_timeout(arg, flag_set, NULL, 0);
}

/* Caught when the condition comes true, not at the deadline, with or without one. */
KTEST(shim, a_lost_wake_up_is_caught)
{
	void (*waits[])(void *) = { wait_for_flag, wait_for_flag_forever };
	struct waitq wq;
	struct ktimer t;

	waitq_init(&wq);
	for (unsigned i = 0; i < ARRAY_SIZE(waits); i++) {
		u64 t0 = time_ns();

		flag = false;
		ktimer_init(&t, set_flag_silently, NULL);
		ktimer_start(&t, 10 * MS, 0);
		KT_EXPECT(shim_catch_panic(waits[i], &wq, msg, sizeof(msg)));
		KT_EXPECT(strstr(msg, "lost wake-up") != NULL);
		KT_EXPECT_EQ(time_ns() - t0, 10 * MS);
		KT_EXPECT(list_empty(&wq.waiters)); /* the catch took the waiter off */
	}
}

static unsigned cond_calls;
static struct ktimer bad_timer;

/* False at first; once woken, a kernel bug. */
static bool cond_bugs_when_woken(void *arg)
{
	BUG_ON(++cond_calls > 1);
	return false;
}

static void wake_queue(struct ktimer *t, void *arg)
{
	waitq_wake_all(arg);
}

static struct waitq bad_wq;

/* A test of its own: the runner's checks then show what the panic left. */
static void wait_with_bad_cond(struct ktest_ctx *kt)
{
	struct ktimer t;

	ktimer_init(&t, wake_queue, &bad_wq);
	ktimer_start(&t, 5 * MS, 0);
	waitq_wait_timeout(&bad_wq, cond_bugs_when_woken, NULL, 50 * MS);
}

static void timer_bugs(struct ktimer *t, void *arg)
{
	BUG_ON(t == &bad_timer);
}

static void wait_through_a_bad_timer(void *arg)
{
	waitgroup_wait(arg, 0);
}

/*
 * A panic inside a wait (in its condition, or in a timer that runs while it
 * sleeps) takes the waiter off its queue and disarms its deadline, and
 * ktimer.c is not left believing the panicked callback still runs.
 */
KTEST(shim, a_panic_inside_a_wait_leaves_no_trace)
{
	waitq_init(&bad_wq);
	cond_calls = 0;
	KT_EXPECT_EQ(shim_run_nested("bad-cond", wait_with_bad_cond, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "panic: BUG at tests/unit/host_shim.c") != NULL);
	KT_EXPECT(strstr(report, "timer still armed") == NULL); /* the deadline went too */
	KT_EXPECT(list_empty(&bad_wq.waiters));
	KT_EXPECT_EQ(shim_test_task()->state, TASK_RUNNING);

	waitgroup_init(&wg);
	waitgroup_add(&wg, 1);
	ktimer_init(&bad_timer, timer_bugs, NULL);
	ktimer_start(&bad_timer, 5 * MS, 0);
	KT_EXPECT(shim_catch_panic(wait_through_a_bad_timer, &wg, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "BUG at tests/unit/host_shim.c") != NULL);
	KT_EXPECT(list_empty(&wg.wait.waiters));
	KT_EXPECT_EQ(shim_context(), SHIM_CTX_TASK);
	KT_EXPECT(!ktimer_cancel(&bad_timer)); /* at once, not a busy-wait */
	waitgroup_done(&wg);
}

KTEST(shim, the_cpu_is_cpu_0)
{
	KT_EXPECT(this_cpu() == percpu_of(0));
	KT_EXPECT_EQ(this_cpu()->cpu, 0);
	KT_EXPECT_EQ(this_cpu()->state, CPU_ONLINE);
}

/* -------------------------------------------- SoftIrqs, IRQs and the log */

static struct task *softirq_saw;
static enum shim_ctx softirq_ctx;
static bool irq_saw_irqs_off;

static void test_softirq(void)
{
	softirq_saw = task_current();
	softirq_ctx = shim_context();
}

static void test_irq(void *arg)
{
	irq_saw_irqs_off = !(read_rflags() & RFLAGS_IF) && shim_context() == SHIM_CTX_IRQ;
	softirq_raise(SOFTIRQ_TCP_TIMER);
}

static void raise_unregistered(void *arg)
{
	softirq_raise(SOFTIRQ_TCP_TIMER);
	shim_softirq_run();
}

static void irq_takes_lock_a(void *arg)
{
	spin_lock(&lock_a);
	spin_unlock(&lock_a);
}

static void irq_while_task_holds_it(void *arg)
{
	spin_lock(&lock_a); /* with interrupts on: the bug */
	shim_irq(irq_takes_lock_a, NULL);
}

static void irq_with_irqs_off(void *arg)
{
	cli();
	shim_irq(test_irq, NULL);
}

/* It borrows TCP's SoftIrq, and gives it back: later TCP tests need it. */
KTEST(shim, softirqs_run_in_their_task_and_irqs_with_interrupts_off)
{
	softirq_fn owner = shim_softirq_handler(SOFTIRQ_TCP_TIMER);

	softirq_register(SOFTIRQ_TCP_TIMER, test_softirq);
	shim_irq(test_irq, NULL);
	KT_EXPECT(irq_saw_irqs_off);
	KT_EXPECT(shim_softirq_pending(SOFTIRQ_TCP_TIMER));
	KT_EXPECT(softirq_saw == NULL); /* raised, not run yet */
	KT_EXPECT_EQ(shim_softirq_run(), 1);
	KT_EXPECT_STREQ(softirq_saw->name, "softirq/0");
	KT_EXPECT_EQ(softirq_ctx, SHIM_CTX_SOFTIRQ);
	KT_EXPECT_EQ(shim_context(), SHIM_CTX_TASK);
	KT_EXPECT(task_current() == shim_test_task());
	softirq_register(SOFTIRQ_TCP_TIMER, NULL);
	KT_EXPECT(shim_catch_panic(raise_unregistered, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "no handler") != NULL);
	KT_EXPECT(shim_catch_panic(irq_with_irqs_off, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "interrupts are off") != NULL);
	KT_EXPECT(shim_catch_panic(irq_while_task_holds_it, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "a deadlock") != NULL);
	shim_irq(irq_takes_lock_a, NULL); /* a handler's lock is an interrupt-shared lock: */
	KT_EXPECT(shim_catch_panic(irq_takes_lock_a, NULL, msg, sizeof(msg)));
	KT_EXPECT(strstr(msg, "interrupt handler shares it") != NULL);
	lock_a.irq_shared = false;
	softirq_register(SOFTIRQ_TCP_TIMER, owner);
}

struct seen {
	unsigned lines;
	bool found;
};

static void look(const char *line, enum log_level level, void *arg)
{
	struct seen *s = arg;

	s->lines++;
	s->found |= level == LOG_WARN && strstr(line, "shim_test: 42 bad things") != NULL;
}

static void shim_test(void)
{
	pr_warn("shim_test: %d bad things", 42);
}

KTEST(shim, log_lines_can_be_asserted)
{
	struct seen s = { 0 };

	KT_EXPECT_NOT_LOGGED("bad things");
	shim_test();
	KT_EXPECT_LOGGED("42 bad things");
	KT_EXPECT_EQ(shim_log_count(LOG_WARN, "[0:"), 1);
	KT_EXPECT_EQ(shim_log_count(LOG_ERR, "bad things"), 0);
	KT_EXPECT_EQ(shim_log_count(SHIM_LOG_ANY, ":shim_test] "), 1); /* the prefix names the function */
	dmesg_for_each(look, &s);
	KT_EXPECT(s.found);
}

/* ------------------------------------ what the runner catches at the end */

static void *kept;
static struct ktimer kept_timer;

static void leaks_kmalloc(struct ktest_ctx *kt)
{
	kept = kmalloc(100);
}

static void leaks_pages(struct ktest_ctx *kt)
{
	kept = page_alloc(2);
}

static void keeps_a_spinlock(struct ktest_ctx *kt)
{
	spin_lock(&lock_a);
}

static void keeps_a_mutex(struct ktest_ctx *kt)
{
	mutex_lock(&mtx);
}

static void keeps_a_timer(struct ktest_ctx *kt)
{
	ktimer_init(&kept_timer, record, NULL);
	ktimer_start(&kept_timer, 5 * MS, 0);
}

static void keeps_a_forever_timer(struct ktest_ctx *kt)
{
	shim_forever_begin();
	ktimer_init(&kept_timer, record, NULL);
	ktimer_start(&kept_timer, 5 * MS, 0);
	shim_forever_end();
}

static struct waitq kept_wq;
static struct waitq_entry kept_entry;

static void keeps_a_wait_entry(struct ktest_ctx *kt)
{
	waitq_init(&kept_wq);
	waitq_prepare(&kept_wq, &kept_entry);
}

static void keeps_irqs_off(struct ktest_ctx *kt)
{
	cli();
}

static void keeps_a_softirq(struct ktest_ctx *kt)
{
	softirq_raise(SOFTIRQ_TCP_TIMER);
}

static void bugs_on(struct ktest_ctx *kt)
{
	BUG_ON(kt != NULL);
}

static void forever_is_no_leak(struct ktest_ctx *kt)
{
	shim_forever_begin();
	kept = kmalloc(64);
	shim_forever_end();
}

static void leaves_nothing(struct ktest_ctx *kt)
{
	spin_lock(&lock_a);
	kfree(kmalloc(10));
	spin_unlock(&lock_a);
}

KTEST(shim, the_runner_fails_a_test_for_what_it_leaves_behind)
{
	KT_EXPECT_EQ(shim_run_nested("leak", leaks_kmalloc, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "leak: kmalloc(100) still live") != NULL);
	KT_EXPECT(strstr(report, "tests/unit/host_shim.c:") != NULL); /* where it was made */
	kfree(kept);

	KT_EXPECT_EQ(shim_run_nested("pages", leaks_pages, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "leak: page_alloc(2)") != NULL);
	page_free(kept, 2);

	KT_EXPECT_EQ(shim_run_nested("spinlock", keeps_a_spinlock, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "spinlock 'lock-a' still held") != NULL);
	KT_EXPECT(!spin_held(&lock_a));

	mutex_init(&mtx, "kept-mutex");
	KT_EXPECT_EQ(shim_run_nested("mutex", keeps_a_mutex, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "mutex 'kept-mutex' still held") != NULL);
	KT_EXPECT(mutex_trylock(&mtx)); /* released for the next test */
	mutex_unlock(&mtx);

	KT_EXPECT_EQ(shim_run_nested("timer", keeps_a_timer, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "timer still armed") != NULL);
	KT_EXPECT(!ktimer_cancel(&kept_timer)); /* disarmed by the runner */

	KT_EXPECT_EQ(shim_run_nested("forever-timer", keeps_a_forever_timer, report,
				     sizeof(report)), 0);
	KT_EXPECT(ktimer_cancel(&kept_timer)); /* still armed: it was meant to be */

	KT_EXPECT_EQ(shim_run_nested("waitq", keeps_a_wait_entry, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "returned on a wait queue") != NULL);
	KT_EXPECT(list_empty(&kept_wq.waiters));
	KT_EXPECT_EQ(shim_test_task()->state, TASK_RUNNING);

	KT_EXPECT_EQ(shim_run_nested("irqs", keeps_irqs_off, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "interrupts still off") != NULL);
	KT_EXPECT(strstr(report, "tests/unit/host_shim.c:") != NULL); /* the test's own place */

	KT_EXPECT_EQ(shim_run_nested("softirq", keeps_a_softirq, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "SoftIrq 'tcp-timer' raised and never run") != NULL);

	KT_EXPECT_EQ(shim_run_nested("bug", bugs_on, report, sizeof(report)), 1);
	KT_EXPECT(strstr(report, "panic: BUG at tests/unit/host_shim.c") != NULL);

	KT_EXPECT_EQ(shim_run_nested("forever", forever_is_no_leak, report, sizeof(report)), 0);
	kfree(kept);

	KT_EXPECT_EQ(shim_run_nested("clean", leaves_nothing, report, sizeof(report)), 0);
	KT_EXPECT_STREQ(report, "");
	KT_EXPECT_EQ(shim_mem_live(), 0);
}
