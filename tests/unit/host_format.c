/*
 * host_format.c — nos_snprintf() held to the host libc's snprintf().
 *
 * Host only: it calls libc.  lib/format.h is included with
 * NOS_KEEP_LIBC_NAMES, so "snprintf" here is libc's and ours is called by
 * its real name, nos_snprintf.
 *
 * Two kinds of case:
 *  - a table of hand-picked format/argument pairs covering every
 *    conversion, flag, width, precision and length modifier, and the
 *    corners (INT_MIN, 0 with precision 0, '#' on zero, ...);
 *  - thousands of specifications built at random from the same parts,
 *    with random values.
 * Each is formatted by both implementations at every buffer size from 0 to
 * one past the full length, and the bytes and return values must agree.
 *
 * Left out on purpose, because C leaves them undefined or glibc's choice
 * is not ours: '#' on d/u/c/s, '0' with %s/%c/%p, flags and precision on
 * %p, and a precision on %s of NULL.
 */
#define NOS_KEEP_LIBC_NAMES
#include "lib/ktest.h"
#include "lib/format.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

enum arg_kind {
	A_NONE,
	A_INT,
	A_UINT,
	A_LONG,
	A_ULONG,
	A_LLONG,
	A_ULLONG,
	A_SIZE,
	A_STR,
	A_PTR,
	A_W_INT,   /* '*' width, then an int */
	A_WP_INT,  /* '*' width, '*' precision, then an int */
	A_WP_STR,  /* '*' width, '*' precision, then a string */
};

struct fmt_case {
	const char *fmt;
	enum arg_kind kind;
	long long v;    /* integer argument (converted to the kind's type) */
	const char *s;  /* string argument */
	int w, p;       /* '*' arguments */
};

#define I(f, x) { f, A_INT, (x), NULL, 0, 0 }
#define U(f, x) { f, A_UINT, (long long)(x), NULL, 0, 0 }
#define L(f, x) { f, A_LONG, (x), NULL, 0, 0 }
#define UL(f, x) { f, A_ULONG, (long long)(x), NULL, 0, 0 }
#define LL(f, x) { f, A_LLONG, (x), NULL, 0, 0 }
#define ULL(f, x) { f, A_ULLONG, (long long)(x), NULL, 0, 0 }
#define Z(f, x) { f, A_SIZE, (long long)(x), NULL, 0, 0 }
#define S(f, x) { f, A_STR, 0, (x), 0, 0 }
#define P(f, x) { f, A_PTR, (long long)(x), NULL, 0, 0 }
#define N(f) { f, A_NONE, 0, NULL, 0, 0 }
#define WI(f, w, x) { f, A_W_INT, (x), NULL, (w), 0 }
#define WPI(f, w, p, x) { f, A_WP_INT, (x), NULL, (w), (p) }
#define WPS(f, w, p, x) { f, A_WP_STR, 0, (x), (w), (p) }

static const struct fmt_case cases[] = {
	N(""), N("plain text"), N("100%%"), N("%%d"), N("a%%b%%c"),
	I("%d", 0), I("%d", 1), I("%d", -1), I("%d", INT_MAX), I("%d", INT_MIN),
	I("%i", 12345), I("%i", -12345), I("[%5d]", 42), I("[%-5d]", 42),
	I("[%05d]", 42), I("[%05d]", -42), I("[%+d]", 42), I("[%+d]", -42),
	I("[% d]", 42), I("[% d]", -42), I("[%+ d]", 7), I("[%-05d]", 42),
	I("[%.3d]", 7), I("[%.3d]", -7), I("[%8.3d]", -7), I("[%-8.3d]", -7),
	I("[%08.3d]", 7), I("[%.0d]", 0), I("[%5.0d]", 0), I("[%+.0d]", 0),
	I("[% .0d]", 0), I("[%.0d]", 3), I("[%1d]", 123456), I("[%+05d]", 3),
	I("[% 05d]", 3), I("[%.10d]", INT_MIN), I("[%20d]", INT_MIN),
	I("[%hhd]", 300), I("[%hhd]", 128), I("[%hhu]", -1), I("[%hd]", 70000),
	I("[%hu]", -2), I("[%hhx]", 0x1ff), I("[%hx]", 0x12345),
	U("%u", 0), U("%u", 4294967295u), U("[%10u]", 99), U("[%-10u|]", 99),
	U("[%010u]", 99), U("[%+u]", 5), U("[% u]", 5), U("[%.4u]", 12),
	U("%x", 0), U("%x", 0xdeadbeef), U("%X", 0xdeadbeef), U("%#x", 0),
	U("%#x", 1), U("%#X", 0xabc), U("[%#10x]", 0xabc), U("[%#-10x]", 0xabc),
	U("[%#010x]", 0xabc), U("[%010x]", 0xabc), U("[%#.6x]", 0xabc),
	U("[%#.0x]", 0), U("[%.0x]", 0), U("[%#12.6X]", 0xabc),
	U("%o", 0), U("%o", 8), U("%#o", 0), U("%#o", 8), U("[%#.3o]", 8),
	U("[%#.0o]", 0), U("[%08o]", 0777), U("[%#8o]", 0777),
	L("%ld", 0), L("%ld", LONG_MAX), L("%ld", LONG_MIN), L("[%+20ld]", 12),
	UL("%lu", ULONG_MAX), UL("%lx", ULONG_MAX), UL("%#lX", 0xfeedfacecafe),
	LL("%lld", LLONG_MIN), LL("%lld", LLONG_MAX), LL("[%-25lld|]", -1),
	LL("[%025lld]", LLONG_MIN), LL("[%.20lld]", -5), LL("%lli", 77),
	ULL("%llu", ULLONG_MAX), ULL("%llx", 0x0123456789abcdefULL),
	ULL("%llX", 0x0123456789abcdefULL), ULL("%#llo", 01234567),
	ULL("[%30llu]", ULLONG_MAX),
	Z("%zu", 0), Z("%zu", SIZE_MAX), Z("%zx", 0x4000), Z("[%-8zu|]", 3),
	S("%s", ""), S("%s", "hello"), S("%s", (const char *)NULL),
	S("[%10s]", "hi"), S("[%-10s]", "hi"), S("[%.1s]", "hi"),
	S("[%.0s]", "hi"), S("[%.5s]", "hi"), S("[%7.3s]", "abcdef"),
	S("[%-7.3s]", "abcdef"), S("[%1s]", "wide"), S("[%10s]", (const char *)NULL),
	S("%s and %%", "text"),
	P("%p", 0x1), P("%p", 0xdeadbeef), P("%p", 0xffff800000001000ULL),
	P("[%20p]", 0x1234), P("[%-20p]", 0x1234), P("%p", 0),
	WI("[%*d]", 6, 42), WI("[%*d]", -6, 42), WI("[%*d]", 0, 42),
	WI("[%-*d]", 6, -42), WI("[%0*d]", 6, -42), WI("[%*x]", 10, 0xbeef),
	WPI("[%*.*d]", 8, 4, 42), WPI("[%*.*d]", -8, 4, 42),
	WPI("[%*.*d]", 8, -1, 42), WPI("[%*.*d]", 3, 0, 0),
	WPI("[%0*.*d]", 8, 3, 42), WPI("[%*.*x]", 12, 8, 0xabc),
	WPS("[%*.*s]", 10, 3, "abcdef"), WPS("[%*.*s]", -10, 3, "abcdef"),
	WPS("[%*.*s]", 2, -1, "abcdef"), WPS("[%*.*s]", 0, 0, "abcdef"),
};

/* The two sides of one comparison: libc's snprintf and ours. */
typedef int (*fmt_fn)(char *buf, size_t size, const char *fmt, ...);

static int run_case(fmt_fn fn, char *buf, size_t size, const struct fmt_case *c)
{
	switch (c->kind) {
	case A_NONE: return fn(buf, size, c->fmt, 0);
	case A_INT: return fn(buf, size, c->fmt, (int)c->v);
	case A_UINT: return fn(buf, size, c->fmt, (unsigned int)c->v);
	case A_LONG: return fn(buf, size, c->fmt, (long)c->v);
	case A_ULONG: return fn(buf, size, c->fmt, (unsigned long)c->v);
	case A_LLONG: return fn(buf, size, c->fmt, c->v);
	case A_ULLONG: return fn(buf, size, c->fmt, (unsigned long long)c->v);
	case A_SIZE: return fn(buf, size, c->fmt, (size_t)c->v);
	case A_STR: return fn(buf, size, c->fmt, c->s);
	case A_PTR: return fn(buf, size, c->fmt, (void *)(uintptr_t)c->v);
	case A_W_INT: return fn(buf, size, c->fmt, c->w, (int)c->v);
	case A_WP_INT: return fn(buf, size, c->fmt, c->w, c->p, (int)c->v);
	case A_WP_STR: return fn(buf, size, c->fmt, c->w, c->p, c->s);
	}
	return -1;
}

/*
 * Format @c with both implementations at every buffer size up to one past
 * the full length; returns false (after logging) at the first difference.
 */
static bool compare_case(struct ktest_ctx *kt, const struct fmt_case *c)
{
	char want[256], got[256];
	int full = run_case(snprintf, want, sizeof(want), c);
	size_t size;

	if (full < 0 || (size_t)full >= sizeof(want)) {
		ktest_fail(kt, __FILE__, __LINE__, "case too long: \"%s\"", c->fmt);
		return false;
	}
	for (size = 0; size <= (size_t)full + 1; size++) {
		int rw, rg;

		memset(want, 0x55, sizeof(want));
		memset(got, 0x55, sizeof(got));
		rw = run_case(snprintf, want, size, c);
		rg = run_case(nos_snprintf, got, size, c);
		if (rw != rg || memcmp(want, got, sizeof(want)) != 0) {
			ktest_fail(kt, __FILE__, __LINE__,
				   "\"%s\" size %zu: libc %d \"%.60s\", nos %d \"%.60s\"",
				   c->fmt, size, rw, size ? want : "", rg,
				   size ? got : "");
			return false;
		}
	}
	return true;
}

KTEST(host_format, table_matches_libc)
{
	size_t i;

	KT_EXPECT(ARRAY_SIZE(cases) >= 100);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		compare_case(kt, &cases[i]);
}

/* ---- random specifications ------------------------------------------------ */

/* Append one random conversion to @fmt; fill @c's kind and arguments. */
static void random_spec(struct ktest_ctx *kt, char *fmt, struct fmt_case *c)
{
	static const char convs[] = "diuxXosp";
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "z" };
	static const char *const strs[] = { "", "a", "hello", "0123456789abcdef" };
	char conv = convs[ktest_rand(kt) % (sizeof(convs) - 1)];
	const char *len = conv == 's' || conv == 'p' ? "" : lens[ktest_rand(kt) % 6];
	bool num = conv != 's' && conv != 'p';
	bool sign = conv == 'd' || conv == 'i';
	char *p = fmt + strlen(fmt);

	*p++ = '%';
	if (conv != 'p') {
		if (ktest_rand(kt) % 4 == 0) *p++ = '-';
		if (sign && ktest_rand(kt) % 4 == 0) *p++ = '+';
		if (sign && ktest_rand(kt) % 4 == 0) *p++ = ' ';
		if (num && ktest_rand(kt) % 4 == 0) *p++ = '0';
		if ((conv == 'x' || conv == 'X' || conv == 'o') && ktest_rand(kt) % 3 == 0)
			*p++ = '#';
	}
	if (ktest_rand(kt) % 2)
		p += sprintf(p, "%d", (int)(ktest_rand(kt) % 30));
	if (conv != 'p' && ktest_rand(kt) % 2)
		p += sprintf(p, ".%d", (int)(ktest_rand(kt) % 25));
	p += sprintf(p, "%s%c", len, conv);
	*p = '\0';

	c->v = (long long)ktest_rand(kt);
	if (ktest_rand(kt) % 3 == 0)
		c->v >>= ktest_rand(kt) % 64; /* small values too */
	c->s = strs[ktest_rand(kt) % 4];
	if (conv == 's')
		c->kind = A_STR;
	else if (conv == 'p')
		c->kind = A_PTR;
	else if (!strcmp(len, "l"))
		c->kind = sign ? A_LONG : A_ULONG;
	else if (!strcmp(len, "ll"))
		c->kind = sign ? A_LLONG : A_ULLONG;
	else if (!strcmp(len, "z"))
		c->kind = A_SIZE;
	else
		c->kind = sign ? A_INT : A_UINT;
}

KTEST(host_format, random_specs_match_libc)
{
	char fmt[64];
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		struct fmt_case c = { .fmt = fmt };

		strcpy(fmt, iter % 2 ? "<" : "");
		random_spec(kt, fmt, &c);
		strcat(fmt, iter % 3 ? ">" : "");
		if (!compare_case(kt, &c))
			return;
	}
}
