/*
 * udpshell_task.c — the tasks behind the UDP shell: USH_RUN_MAX runners
 * that run commands, and one that resends stored replies (and, every
 * USH_REAP_NS, frees the replies of expired sessions).  This is the
 * kernel's struct ush_ops; the host tests put a stand-in of their own in
 * its place (the shim has no tasks to join), so the file is kernel-only.
 *
 * The pool lives as long as a server: ush_pool_open() creates the tasks
 * when the server starts, ush_pool_close() makes them finish and joins
 * them when it stops.  A runner waits for a job, runs it (ush_job_run:
 * the shell line and the end of its reply) and waits again; a job that
 * was queued before a stop still ends properly — it is not run, but its
 * (empty) last chunk goes out and its slot is released — because the
 * runners leave only once the queue is empty.  Since the session layer
 * never hands out more jobs than there are runners, a queued job always
 * has a runner about to take it.
 *
 * Interrupting a job (the server stops) is task_interrupt() on the runner
 * that has it; one that lands on a runner between jobs is harmless, the
 * next job clears the mark before it starts.
 *
 * Lock: "udpshell pool" (pool.lock) guards [p]; a leaf, taken in the
 * SoftIrq (start, kick) and in tasks, never held while waking, running or
 * joining.  [c]: the "udpshell ctl" mutex, held by whoever opens or closes.
 */
#ifdef NOS_KERNEL

#include "net/udpshell_priv.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/waitq.h"
#include "lib/format.h"

static struct {
	spinlock_t lock;
	struct ush_job *queue[USH_RUN_MAX]; /* [p] jobs waiting for a runner */
	unsigned nqueued;                   /* [p] */
	struct ush_job *current[USH_RUN_MAX]; /* [p] what runner i runs */
	bool open;                          /* [p] taking jobs */
	bool quit;                          /* [p] runners and the resender leave when idle */
	bool resend;                        /* [p] ush_resend_work() is due */
	struct task *runners[USH_RUN_MAX];  /* [c] */
	struct task *resender;              /* [c] */
	struct waitq jobs_wait, resend_wait;
} pool = { .lock = SPINLOCK_INIT("udpshell pool") };

static bool ush_runner_cond(void *arg)
{
	return __atomic_load_n(&pool.nqueued, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&pool.quit, __ATOMIC_ACQUIRE);
}

/* The next job for runner @i, or NULL when it is time to leave. */
static struct ush_job *ush_runner_take(unsigned i)
{
	struct ush_job *job = NULL;

	for (;;) {
		waitq_wait_timeout(&pool.jobs_wait, ush_runner_cond, NULL, 0);
		spin_lock(&pool.lock);
		if (pool.nqueued)
			job = pool.queue[--pool.nqueued];
		pool.current[i] = job;
		if (job || pool.quit) {
			spin_unlock(&pool.lock);
			return job;
		}
		spin_unlock(&pool.lock);
	}
}

static void ush_runner(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	struct ush_job *job;

	while ((job = ush_runner_take(i)))
		ush_job_run(job);
}

static bool ush_resender_cond(void *arg)
{
	return __atomic_load_n(&pool.resend, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&pool.quit, __ATOMIC_ACQUIRE);
}

static void ush_resender(void *arg)
{
	bool due, quit;

	for (;;) {
		/* woken to resend, to leave, or every USH_REAP_NS to free expired replies */
		int rc = waitq_wait_timeout(&pool.resend_wait, ush_resender_cond, NULL,
					    USH_REAP_NS);

		spin_lock(&pool.lock);
		due = pool.resend;
		pool.resend = false;
		quit = pool.quit;
		spin_unlock(&pool.lock);
		if (due)
			ush_resend_work();
		else if (quit)
			return;
		else if (rc == -ETIMEDOUT)
			ush_reap_expired(time_ns());
	}
}

static int ush_pool_start(struct ush_job *job)
{
	int rc = -EAGAIN;

	spin_lock(&pool.lock);
	if (pool.open && pool.nqueued < USH_RUN_MAX) {
		pool.queue[pool.nqueued] = job;
		__atomic_store_n(&pool.nqueued, pool.nqueued + 1, __ATOMIC_RELEASE);
		rc = 0;
	}
	spin_unlock(&pool.lock);
	if (!rc)
		waitq_wake_one(&pool.jobs_wait);
	return rc;
}

static void ush_pool_interrupt(struct ush_job *job)
{
	struct task *t = NULL;

	spin_lock(&pool.lock);
	for (unsigned i = 0; i < USH_RUN_MAX; i++)
		if (pool.current[i] == job)
			t = pool.runners[i];
	spin_unlock(&pool.lock);
	if (t)
		task_interrupt(t); /* joined only in ush_pool_close(), after this */
}

static void ush_pool_kick(void)
{
	spin_lock(&pool.lock);
	__atomic_store_n(&pool.resend, true, __ATOMIC_RELEASE);
	spin_unlock(&pool.lock);
	waitq_wake_all(&pool.resend_wait);
}

static void ush_pool_close(void)
{
	spin_lock(&pool.lock);
	pool.open = false;
	__atomic_store_n(&pool.quit, true, __ATOMIC_RELEASE);
	spin_unlock(&pool.lock);
	waitq_wake_all(&pool.jobs_wait);
	waitq_wake_all(&pool.resend_wait);
	for (unsigned i = 0; i < USH_RUN_MAX; i++) {
		if (pool.runners[i])
			task_join(pool.runners[i]);
		pool.runners[i] = NULL;
	}
	if (pool.resender)
		task_join(pool.resender);
	pool.resender = NULL;
}

static int ush_pool_open(void)
{
	char name[TASK_NAME_MAX];

	waitq_init(&pool.jobs_wait);
	waitq_init(&pool.resend_wait);
	spin_lock(&pool.lock);
	pool.nqueued = 0;
	pool.quit = pool.resend = false;
	pool.open = true;
	spin_unlock(&pool.lock);
	for (unsigned i = 0; i < USH_RUN_MAX; i++) {
		snprintf(name, sizeof(name), "udpsh/%u", i);
		pool.runners[i] = task_create(name, ush_runner, (void *)(uintptr_t)i, TASK_ANY_CPU);
		if (!pool.runners[i])
			goto fail;
	}
	pool.resender = task_create("udpsh-resend", ush_resender, NULL, TASK_ANY_CPU);
	if (pool.resender)
		return 0;
fail:
	ush_pool_close();
	return -ENOMEM;
}

static const struct ush_ops ush_task_ops = {
	.open = ush_pool_open,
	.start = ush_pool_start,
	.interrupt = ush_pool_interrupt,
	.kick = ush_pool_kick,
	.close = ush_pool_close,
	.wall_ns = time_wall,
};

/* Is the calling task one of the runners (a command the UDP shell runs)? */
static bool ush_in_runner(void)
{
	struct task *me = task_current();
	bool found = false;

	spin_lock(&pool.lock);
	for (unsigned i = 0; i < USH_RUN_MAX; i++)
		found = found || (pool.runners[i] && pool.runners[i] == me);
	spin_unlock(&pool.lock);
	return found;
}

int udpshell_start(u16 port)
{
	return ush_start_with(port, &ush_task_ops);
}

int udpshell_stop(void)
{
	if (ush_in_runner())
		return -EBUSY;
	return ush_stop_server();
}

#endif /* NOS_KERNEL */
