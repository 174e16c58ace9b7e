/*
 * shim_test.c — the host shim's frame around each test, panics, and the
 * simulated CPU's interrupt flag, GS segment and contexts (see shim.h).
 *
 * The runner hands every test to shim_wrap() (ktest_set_wrap()).  It opens
 * a frame, calls the test under a catch point, and closes the frame with
 * the checks of every part of the shim.  A panic — panic(), a failed
 * BUG_ON, or one of the shim's own checks — records its message and
 * longjmps to the innermost catch point: the test's frame, or a
 * shim_catch_panic() inside the test.  The catch puts the CPU back as it
 * was at the catch point (locks taken since are dropped, the interrupt
 * flag, preemption, context and the test task's sleep restored, timers
 * armed since disarmed, a wait entry unlinked), so the frame's checks that
 * follow see the state the test itself left, not the wreckage of the panic.
 *
 * A report names the code to blame.  Spinlocks know the file and line that
 * took them; everything else (allocations, mutexes, panics) keeps a return
 * address, turned into file:line by the sanitizer runtime's symbolizer when
 * a report is printed.
 */
#define _POSIX_C_SOURCE 200809L /* getcwd */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/shim_priv.h"
#include "kernel/percpu.h"
#include "lib/format.h"

#include <sanitizer/common_interface_defs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RELAX_MAX 1000000u

struct shim_catch {
	struct shim_catch *outer;
	jmp_buf jb;
	struct shim_ctx_save saved;
	struct shim_cleanup *cleanups; /* the cleanup stack at the catch point */
	u64 timer_seq;
	char msg[SHIM_MSG_MAX];
	char where[160];    /* "file:line" of the panic */
	bool expected;      /* shim_catch_panic(): no backtrace */
};

struct shim_cpu shim_cpu = { .irq_on = true, .ctx = SHIM_CTX_TASK };

static struct shim_catch *catch_top;
static struct shim_cleanup *cleanup_top;
static struct shim_frame *frame_top;
static unsigned frame_ids;
static unsigned forever_depth;

struct shim_frame *shim_frame_top(void)
{
	return frame_top;
}

unsigned shim_frame_id(void)
{
	return frame_top ? frame_top->id : 0;
}

/* ------------------------------------------------------------ locations */

static const char *strip_cwd(const char *path)
{
	static char cwd[512];
	size_t n;

	if (!cwd[0] && !getcwd(cwd, sizeof(cwd)))
		return path;
	n = strlen(cwd);
	if (!strncmp(path, cwd, n) && path[n] == '/')
		return path + n + 1;
	return path;
}

void shim_where(const void *pc, char *buf, size_t size)
{
	char sym[512], *file, *line, *func;

	if (!pc) {
		snprintf(buf, size, "?");
		return;
	}
	/* A return address points past the call; the call is one byte before. */
	__sanitizer_symbolize_pc((void *)((uintptr_t)pc - 1), "%s|%l|%f", sym, sizeof(sym));
	file = sym;
	line = strchr(file, '|');
	func = line ? strchr(line + 1, '|') : NULL;
	if (!line || !func) {
		snprintf(buf, size, "%p", pc);
		return;
	}
	*line++ = 0;
	*func++ = 0;
	if (strcmp(line, "0") && strcmp(file, "<null>"))
		snprintf(buf, size, "%s:%s", strip_cwd(file), line);
	else
		snprintf(buf, size, "%s", func);
}

/* Split "file:line" in @buf for ktest_fail(); the line is 0 when absent. */
static int split_where(char *buf)
{
	char *colon = strrchr(buf, ':');

	if (!colon)
		return 0;
	*colon = 0;
	return atoi(colon + 1);
}

void shim_report(struct ktest_ctx *kt, const char *file, int line, const void *pc,
		 const char *fmt, ...)
{
	char msg[SHIM_MSG_MAX], where[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!file) {
		shim_where(pc, where, sizeof(where));
		line = split_where(where);
		file = where;
	}
	ktest_fail(kt, file, line, "%s", msg);
}

/* --------------------------------------------------------------- panics */

static void save_ctx(struct shim_ctx_save *s)
{
	s->ctx = shim_cpu.ctx;
	s->curr = shim_cpu.curr;
	s->irq_on = shim_cpu.irq_on;
	s->nheld = shim_cpu.nheld;
	s->preempt_off = shim_cpu.preempt_off;
	shim_sched_save(&s->sleep);
}

static void restore_ctx(const struct shim_ctx_save *s)
{
	shim_sched_restore(&s->sleep); /* a sleep it panicked in is over */
	shim_cpu.ctx = s->ctx;
	shim_cpu.curr = s->curr;
	shim_cpu.irq_on = s->irq_on;
	shim_cpu.preempt_off = s->preempt_off;
}

static __noreturn void raise_panic(const char *where, const char *msg)
{
	struct shim_catch *c = catch_top;

	printk(LOG_ERR, "panic", "*** KERNEL PANIC: %s (at %s)", msg, where);
	if (!c) {
		fprintf(stderr, "unit-tests: panic outside any test: %s (at %s)\n", msg, where);
		abort();
	}
	if (!c->expected) { /* the kernel's panic prints a backtrace; so does this */
		fflush(stdout);
		fprintf(stderr, "panic: %s\n", msg);
		__sanitizer_print_stack_trace();
	}
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	snprintf(c->where, sizeof(c->where), "%s", where);
	/* Unwind while the frames being jumped over still exist. */
	while (cleanup_top != c->cleanups) {
		struct shim_cleanup *top = cleanup_top;

		cleanup_top = top->prev;
		top->fn(top->arg);
	}
	shim_timers_disarm_after(c->timer_seq);
	shim_lock_release_above(c->saved.nheld);
	longjmp(c->jb, 1);
}

void shim_cleanup_push(struct shim_cleanup *c, void (*fn)(void *arg), void *arg)
{
	c->fn = fn;
	c->arg = arg;
	c->prev = cleanup_top;
	cleanup_top = c;
}

void shim_cleanup_pop(struct shim_cleanup *c)
{
	if (cleanup_top != c)
		shim_panic_at(NULL, 0, "shim: cleanups popped out of order");
	cleanup_top = c->prev;
}

void panic(const char *fmt, ...)
{
	char msg[SHIM_MSG_MAX], where[160];
	va_list ap;

	va_start(ap, fmt);
	nos_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	shim_where(__builtin_return_address(0), where, sizeof(where));
	raise_panic(where, msg);
}

void shim_panic_at(const char *file, int line, const char *fmt, ...)
{
	char msg[SHIM_MSG_MAX], where[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (file)
		snprintf(where, sizeof(where), "%s:%d", file, line);
	else /* the caller of the shim function that found the problem; the host
	      * build keeps frame pointers, so one frame up is safe to read */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wframe-address"
		shim_where(__builtin_return_address(1), where, sizeof(where));
#pragma clang diagnostic pop
	raise_panic(where, msg);
}

/*
 * Call @fn(@arg) with @c as the innermost catch point: true when it
 * panicked (c->msg, c->where), with the CPU put back as it was.
 */
static bool catch_run(struct shim_catch *c, void (*fn)(void *arg), void *arg)
{
	c->outer = catch_top;
	save_ctx(&c->saved);
	c->cleanups = cleanup_top;
	c->timer_seq = shim_timer_seq();
	catch_top = c;
	if (setjmp(c->jb)) {
		catch_top = c->outer;
		restore_ctx(&c->saved);
		shim_time_after_panic();
		return true;
	}
	fn(arg);
	catch_top = c->outer;
	return false;
}

bool shim_catch_panic(void (*fn)(void *arg), void *arg, char *msg, size_t size)
{
	struct shim_catch c = { .expected = true };
	bool panicked = catch_run(&c, fn, arg);

	if (msg && size)
		snprintf(msg, size, "%s", panicked ? c.msg : "");
	return panicked;
}

/* --------------------------------------------------------------- frames */

static void frame_begin(struct shim_frame *f, struct ktest_ctx *kt)
{
	if (!frame_top) { /* a fresh CPU for every top-level test */
		shim_cpu.irq_on = true;
		shim_cpu.ctx = SHIM_CTX_TASK;
		shim_cpu.curr = shim_test_task();
		shim_cpu.relax = 0;
	}
	shim_timers_note(); /* what is armed now is not this frame's */
	f->outer = frame_top;
	f->kt = kt;
	f->id = ++frame_ids;
	f->held_base = shim_cpu.nheld;
	f->log_base = shim_log_size();
	f->forever_depth = forever_depth;
	frame_top = f;
}

static void frame_end(struct shim_frame *f)
{
	struct ktest_ctx *kt = f->kt;

	shim_lock_frame_end(f);
	if (!shim_cpu.irq_on) {
		shim_report_test(kt, "interrupts still off at the end of the test");
		shim_cpu.irq_on = true;
	}
	if (forever_depth != f->forever_depth) {
		shim_report_test(kt, "shim_forever_begin() without shim_forever_end()");
		forever_depth = f->forever_depth;
	}
	shim_sched_frame_end(f);
	shim_time_frame_end(f);
	shim_mem_frame_end(f);
	shim_log_frame_end(f, !f->outer && kt->failures);
	frame_top = f->outer;
}

struct test_call {
	void (*fn)(struct ktest_ctx *kt);
	struct ktest_ctx *kt;
};

static void test_trampoline(void *arg)
{
	struct test_call *call = arg;

	call->fn(call->kt);
}

/* Run @fn as a test in a frame; a nested run's panics are expected (no backtrace). */
static void run_framed(struct ktest_ctx *kt, void (*fn)(struct ktest_ctx *kt), bool nested)
{
	struct test_call call = { fn, kt };
	struct shim_frame f;
	struct shim_catch c = { .expected = nested };

	frame_begin(&f, kt);
	if (catch_run(&c, test_trampoline, &call)) {
		int line = split_where(c.where);

		ktest_fail(kt, c.where, line, "panic: %s", c.msg);
	}
	frame_end(&f);
}

static void shim_wrap(struct ktest_ctx *kt, void (*fn)(struct ktest_ctx *kt))
{
	run_framed(kt, fn, false);
}

struct nested_out {
	char *buf;
	size_t size, len;
};

static void nested_sink(const char *line, void *arg)
{
	struct nested_out *o = arg;

	if (o->buf && o->len < o->size)
		o->len += (size_t)snprintf(o->buf + o->len, o->size - o->len, "%s", line);
	if (o->len > o->size)
		o->len = o->size;
}

unsigned shim_run_nested(const char *name, void (*fn)(struct ktest_ctx *kt), char *report,
			 size_t size)
{
	struct ktest t = { .suite = "nested", .name = name, .fn = fn };
	struct nested_out o = { report, size, 0 };
	struct ktest_ctx kt = { .test = &t, .out = nested_sink, .out_arg = &o,
				.rng = 0x9E3779B97F4A7C15ULL };

	if (report && size)
		report[0] = 0;
	run_framed(&kt, fn, true);
	return kt.failures;
}

void shim_install(void)
{
	shim_time_init();
	ktest_set_wrap(shim_wrap);
}

void shim_forever_begin(void)
{
	shim_timers_note();
	forever_depth++;
}

void shim_forever_end(void)
{
	if (!forever_depth)
		shim_panic_at(NULL, 0, "shim_forever_end() without shim_forever_begin()");
	shim_timers_note();
	forever_depth--;
}

bool shim_forever_now(void)
{
	return forever_depth > 0;
}

/* ------------------------------------------------- the simulated CPU */

/* CPU 0, as cpu_init_tables() leaves it: its GS base is its struct percpu. */
struct percpu percpu_area[CONFIG_MAX_CPUS] = {
	[0] = { .self = &percpu_area[0], .cpu = 0, .state = CPU_ONLINE },
};

u64 shim_read_gs_qword0(void)
{
	return (u64)(uintptr_t)percpu_area[0].self; /* %gs:0 is the self field */
}

u64 shim_read_rflags(void)
{
	return 0x2 | (shim_cpu.irq_on ? RFLAGS_IF : 0);
}

void shim_irq_set(bool on)
{
	shim_cpu.irq_on = on;
}

void shim_cpu_relax(void)
{
	if (++shim_cpu.relax > RELAX_MAX)
		shim_panic_at(NULL, 0, "cpu_relax(): %u spins in one test; on the host nothing "
				       "else runs, so this busy-wait never ends", RELAX_MAX);
}

enum shim_ctx shim_context(void)
{
	return shim_cpu.ctx;
}

static const char *ctx_name(enum shim_ctx c)
{
	return c == SHIM_CTX_TASK ? "task" : c == SHIM_CTX_SOFTIRQ ? "SoftIrq" : "hard-IRQ";
}

void shim_check_may_sleep(const char *what)
{
	const struct shim_held *h = NULL;

	for (unsigned i = shim_cpu.nheld; i-- > 0;)
		if (!shim_cpu.held[i].mutex) {
			h = &shim_cpu.held[i];
			break;
		}
	if (shim_cpu.ctx != SHIM_CTX_TASK)
		shim_panic_at(NULL, 0, "%s in %s context: only a task may sleep", what,
			      ctx_name(shim_cpu.ctx));
	if (h && h->file)
		shim_panic_at(NULL, 0, "%s with spinlock '%s' held (taken at %s:%d)", what, h->name,
			      h->file, h->line);
	if (h)
		shim_panic_at(NULL, 0, "%s with spinlock '%s' held", what, h->name);
	if (!shim_cpu.irq_on)
		shim_panic_at(NULL, 0, "%s with interrupts off", what);
	if (shim_cpu.preempt_off)
		shim_panic_at(NULL, 0, "%s with preemption disabled", what);
}

void shim_check_world(const char *what)
{
	if (shim_cpu.ctx != SHIM_CTX_TASK)
		shim_panic_at(NULL, 0, "%s in %s context: call it from the test", what,
			      ctx_name(shim_cpu.ctx));
	for (unsigned i = 0; i < shim_cpu.nheld; i++)
		if (!shim_cpu.held[i].mutex)
			shim_panic_at(NULL, 0, "%s with spinlock '%s' held: no SoftIrq or timer "
					       "runs on a CPU that holds a spinlock",
				      what, shim_cpu.held[i].name);
}

void shim_enter_softirq(struct shim_ctx_save *s)
{
	save_ctx(s);
	shim_cpu.ctx = SHIM_CTX_SOFTIRQ;
	shim_cpu.curr = shim_softirq_task();
	shim_cpu.irq_on = true;
}

void shim_leave_softirq(const struct shim_ctx_save *s, const char *what)
{
	if (shim_cpu.nheld != s->nheld)
		shim_panic_at(NULL, 0, "%s returned holding '%s'", what,
			      shim_cpu.held[shim_cpu.nheld - 1].name);
	if (!shim_cpu.irq_on)
		shim_panic_at(NULL, 0, "%s returned with interrupts off", what);
	shim_cpu.ctx = s->ctx;
	shim_cpu.curr = s->curr;
	shim_cpu.irq_on = s->irq_on;
}

void shim_irq(void (*fn)(void *arg), void *arg)
{
	struct shim_ctx_save s;

	if (!shim_cpu.irq_on)
		shim_panic_at(NULL, 0, "shim_irq(): interrupts are off, no interrupt arrives now");
	if (shim_cpu.ctx == SHIM_CTX_IRQ)
		shim_panic_at(NULL, 0, "shim_irq(): already in an interrupt handler");
	save_ctx(&s);
	shim_cpu.ctx = SHIM_CTX_IRQ;
	shim_cpu.irq_on = false;
	fn(arg);
	if (shim_cpu.nheld != s.nheld)
		shim_panic_at(NULL, 0, "interrupt handler returned holding '%s'",
			      shim_cpu.held[shim_cpu.nheld - 1].name);
	if (shim_cpu.irq_on)
		shim_panic_at(NULL, 0, "interrupt handler turned interrupts on");
	shim_cpu.ctx = s.ctx;
	shim_cpu.irq_on = s.irq_on;
}
