/*
 * ktest.c — the runner behind ktest.h.  It depends only on lib/format.c, so
 * the host build and the kernel share it; each supplies the output sink.
 */
#include "lib/ktest.h"
#include "lib/format.h"

extern const struct ktest *const __start_ktests[];
extern const struct ktest *const __stop_ktests[];

static ktest_wrap_fn wrap_fn; /* the host shim's per-test frame, or NULL */

void ktest_set_wrap(ktest_wrap_fn wrap)
{
	wrap_fn = wrap;
}

int ktest_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static void kt_vprint(struct ktest_ctx *kt, const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	kt->out(line, kt->out_arg);
}

static void kt_print(struct ktest_ctx *kt, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vprint(kt, fmt, ap);
	va_end(ap);
}

void ktest_fail(struct ktest_ctx *kt, const char *file, int line, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	kt->failures++;
	if (kt->failures > 10)
		return; /* one broken loop must not flood the log */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kt_print(kt, "  %s:%d: %s.%s: check failed: %s\n", file, line,
		 kt->test->suite, kt->test->name, msg);
}

void ktest_log(struct ktest_ctx *kt, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kt_print(kt, "  %s.%s: %s\n", kt->test->suite, kt->test->name, msg);
}

u64 ktest_rand(struct ktest_ctx *kt)
{
	/* xorshift64*: small, fast, good enough to drive reference models. */
	kt->rng ^= kt->rng >> 12;
	kt->rng ^= kt->rng << 25;
	kt->rng ^= kt->rng >> 27;
	return kt->rng * 0x2545F4914F6CDD1DULL;
}

static bool kt_matches(const struct ktest *t, const char *filter)
{
	char full[128];
	const char *h;
	size_t n;

	if (!filter || !*filter)
		return true;
	snprintf(full, sizeof(full), "%s.%s", t->suite, t->name);
	n = 0;
	while (filter[n])
		n++;
	for (h = full; *h; h++) {
		size_t i = 0;

		while (i < n && h[i] == filter[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

int ktest_run(const char *filter, ktest_out_fn out, void *arg, struct ktest_summary *sum)
{
	return ktest_run_until(filter, out, arg, NULL, sum);
}

int ktest_run_until(const char *filter, ktest_out_fn out, void *arg, bool (*stop)(void *arg),
		    struct ktest_summary *sum)
{
	const struct ktest *const *p;
	struct ktest_ctx kt = { .out = out, .out_arg = arg };
	unsigned skipped = 0;

	sum->passed = sum->failed = 0;
	for (p = __start_ktests; p < __stop_ktests; p++) {
		if (!kt_matches(*p, filter))
			continue;
		if (skipped || (stop && stop(arg))) {
			skipped++; /* counted, not run */
			continue;
		}
		kt.test = *p;
		kt.failures = 0;
		kt.rng = 0x9E3779B97F4A7C15ULL;
		if (wrap_fn)
			wrap_fn(&kt, (*p)->fn);
		else
			(*p)->fn(&kt);
		if (kt.failures) {
			sum->failed++;
			kt_print(&kt, "FAIL %s.%s\n", (*p)->suite, (*p)->name);
		} else {
			sum->passed++;
			kt_print(&kt, "ok %s.%s\n", (*p)->suite, (*p)->name);
		}
	}
	if (skipped)
		kt_print(&kt, "stopped: %u tests not run\n", skipped);
	kt_print(&kt, "%u passed, %u failed\n", sum->passed, sum->failed);
	return sum->failed ? -1 : skipped ? 1 : 0;
}
