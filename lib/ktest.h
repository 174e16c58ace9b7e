/*
 * ktest.h — the test framework shared by the host unit tests and the
 * in-kernel boot tests.
 *
 * A test is a function declared with KTEST(suite, name).  The macro places a
 * pointer to its descriptor in the "ktests" linker section, so a test exists
 * simply by being linked in: the host runner (tests/unit/main.c) and the
 * kernel's selftest runner (kernel/selftest.c) both walk the section between
 * __start_ktests and __stop_ktests and call ktest_run().
 *
 * Inside a test, KT_EXPECT*() records a failure and carries on; KT_ASSERT*()
 * records a failure and returns from the test.  Each test prints one result
 * line ("ok suite.name" or "FAIL suite.name") and the run ends with the line
 * "N passed, N failed" that CI and the boot-test harness read.
 *
 * Tests must be deterministic: ktest_rand() gives each test its own
 * xorshift sequence with a fixed seed, so a failing random case reproduces.
 *
 * Files under tests/unit/ are built for both the host and the kernel, so they
 * may use only lib/, this header and kernel interfaces the host shim also
 * provides (tests/unit/shim/shim.h lists them); host-only tests, and tests
 * that call the shim itself, live in tests/unit/host_*.c.
 *
 * On the host, the runner puts each test in the shim's frame (ktest_set_wrap):
 * a panic fails the test instead of ending the run, and so does anything the
 * test leaves behind (memory, a lock still held, a timer still armed).
 */
#ifndef NOS_KTEST_H
#define NOS_KTEST_H

/*
 * compiler.h goes before types.h.  On the host, types.h reaches glibc's
 * <sys/cdefs.h> through <stdint.h>; cdefs.h #undefs __always_inline before
 * defining its own, so it tolerates compiler.h coming first but not second.
 */
#include "compiler.h"
#include "types.h"

struct ktest_ctx;

struct ktest {
	const char *suite;
	const char *name;
	void (*fn)(struct ktest_ctx *kt);
};

/* Output sink: receives whole lines including the trailing '\n'. */
typedef void (*ktest_out_fn)(const char *line, void *arg);

struct ktest_ctx {
	const struct ktest *test;
	ktest_out_fn out;
	void *out_arg;
	unsigned failures;  /* failed checks in the current test */
	u64 rng;            /* ktest_rand() state */
};

struct ktest_summary {
	unsigned passed;
	unsigned failed;
};

#define KTEST(suite_, name_)                                                   \
	static void ktest_fn_##suite_##_##name_(struct ktest_ctx *kt);        \
	static const struct ktest ktest_desc_##suite_##_##name_ = {            \
		.suite = #suite_,                                              \
		.name = #name_,                                                \
		.fn = ktest_fn_##suite_##_##name_,                             \
	};                                                                     \
	static const struct ktest *const ktest_ptr_##suite_##_##name_          \
		__section("ktests") __used __aligned(8) =                     \
			&ktest_desc_##suite_##_##name_;                        \
	static void ktest_fn_##suite_##_##name_(struct ktest_ctx *kt)

void ktest_fail(struct ktest_ctx *kt, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);
void ktest_log(struct ktest_ctx *kt, const char *fmt, ...) __printf(2, 3);
u64 ktest_rand(struct ktest_ctx *kt);

#define KT_EXPECT(cond)                                                        \
	((cond) ? (void)0 : ktest_fail(kt, __FILE__, __LINE__, "%s", #cond))
#define KT_ASSERT(cond)                                                        \
	do {                                                                   \
		if (!(cond)) {                                                 \
			ktest_fail(kt, __FILE__, __LINE__, "%s", #cond);       \
			return;                                                \
		}                                                              \
	} while (0)

#define KT_CHECK_EQ_(a, b, on_fail)                                            \
	do {                                                                   \
		long long ka_ = (long long)(a), kb_ = (long long)(b);          \
		if (ka_ != kb_) {                                              \
			ktest_fail(kt, __FILE__, __LINE__,                     \
				   "%s == %s (%lld != %lld)", #a, #b, ka_, kb_); \
			on_fail;                                               \
		}                                                              \
	} while (0)
#define KT_EXPECT_EQ(a, b) KT_CHECK_EQ_(a, b, (void)0)
#define KT_ASSERT_EQ(a, b) KT_CHECK_EQ_(a, b, return)

#define KT_CHECK_STREQ_(a, b, on_fail)                                         \
	do {                                                                   \
		const char *ka_ = (a), *kb_ = (b);                             \
		if (!ka_ || !kb_ || ktest_strcmp(ka_, kb_) != 0) {             \
			ktest_fail(kt, __FILE__, __LINE__,                     \
				   "%s == %s (\"%s\" != \"%s\")", #a, #b,      \
				   ka_ ? ka_ : "(null)", kb_ ? kb_ : "(null)"); \
			on_fail;                                               \
		}                                                              \
	} while (0)
#define KT_EXPECT_STREQ(a, b) KT_CHECK_STREQ_(a, b, (void)0)
#define KT_ASSERT_STREQ(a, b) KT_CHECK_STREQ_(a, b, return)

int ktest_strcmp(const char *a, const char *b);

/*
 * Run every linked test whose "suite.name" contains @filter (NULL or "" runs
 * all), printing through @out.  Fills @sum and prints the closing
 * "N passed, N failed" line.  Returns 0 when nothing failed, else -1.
 */
int ktest_run(const char *filter, ktest_out_fn out, void *arg, struct ktest_summary *sum);

/*
 * Host runner hook: once set, ktest_run() calls @wrap(kt, fn) for each test
 * instead of fn(kt).  The wrapper must call @fn and may add failures for what
 * it checks around it (ktest_fail()).  The kernel never sets one.
 */
typedef void (*ktest_wrap_fn)(struct ktest_ctx *kt, void (*fn)(struct ktest_ctx *kt));
void ktest_set_wrap(ktest_wrap_fn wrap);

/*
 * The same, but @stop(@arg) (NULL: never) is asked before each test; once it
 * says true no further test starts, and "stopped: N tests not run" comes before
 * the closing line.  Returns -1 when a test failed, else 1 when stopped,
 * else 0.  (The shell's `selftest` stops this way on Ctrl-C.)
 */
int ktest_run_until(const char *filter, ktest_out_fn out, void *arg, bool (*stop)(void *arg),
		    struct ktest_summary *sum);

#endif
