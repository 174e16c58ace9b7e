/*
 * format.c — the formatter behind format.h.
 *
 * A conversion goes through three steps.  fmt_parse() reads one "%..."
 * specification into a struct fmt_spec (flags, width, precision, length,
 * conversion letter), taking '*' values from the argument list.  The
 * conversion's argument is then fetched at the width the length modifier
 * names and widened to 64 bits.  Finally one of the emitters lays out the
 * field: fmt_number() for integers and pointers, fmt_text() for %s and %c.
 *
 * All output goes through struct fmt_out, which knows the buffer's size and
 * counts every byte it is asked to write, stored or not.  That single
 * counter is what vsnprintf() returns, so truncation needs no special path:
 * the emitters behave the same whether the buffer is large, small or
 * absent, and padding a huge width costs one addition once the buffer is
 * full, not one loop step per byte.
 *
 * A number's field is built from four parts, always in this order:
 *
 *     [spaces] [sign or 0x] [zeros] digits [spaces]
 *
 * where the leading spaces (right-justified) or trailing spaces ('-') fill
 * the width, and the zeros come from the precision (minimum digits) or,
 * with the '0' flag and no precision, from the width.
 */
#include "lib/format.h"
#include "lib/string.h"

#define INT_LIMIT 0x7fffffff

enum {
	FL_LEFT = 1 << 0,  /* '-' */
	FL_PLUS = 1 << 1,  /* '+' */
	FL_SPACE = 1 << 2, /* ' ' */
	FL_ZERO = 1 << 3,  /* '0' */
	FL_HASH = 1 << 4,  /* '#' */
};

struct fmt_spec {
	unsigned flags;
	int width;  /* >= 0 */
	int prec;   /* -1 when not given */
	char len;   /* 0, 'H' (hh), 'h', 'l', 'L' (ll), 'z', 'j', 't' */
	char conv;  /* conversion letter, or '\0' if the format ended early */
};

struct fmt_out {
	char *buf;
	size_t size;
	size_t len; /* bytes produced so far, stored or not */
};

/* ---- output ------------------------------------------------------------- */

/* Store what fits of @n copies of @c (keeping a byte for the NUL), count all. */
static void out_fill(struct fmt_out *o, char c, size_t n)
{
	while (n && o->len + 1 < o->size) {
		o->buf[o->len++] = c;
		n--;
	}
	o->len += n;
}

/* Store what fits of the @n bytes at @s, count all. */
static void out_mem(struct fmt_out *o, const char *s, size_t n)
{
	while (n && o->len + 1 < o->size) {
		o->buf[o->len++] = *s++;
		n--;
	}
	o->len += n;
}

static void out_char(struct fmt_out *o, char c)
{
	out_mem(o, &c, 1);
}

/* ---- parsing a specification -------------------------------------------- */

static unsigned fmt_flag(char c)
{
	switch (c) {
	case '-': return FL_LEFT;
	case '+': return FL_PLUS;
	case ' ': return FL_SPACE;
	case '0': return FL_ZERO;
	case '#': return FL_HASH;
	default: return 0;
	}
}

/* Read a run of decimal digits at *@pp, saturating at INT_LIMIT. */
static int fmt_atoi(const char **pp)
{
	const char *p = *pp;
	int v = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		int d = *p - '0';

		v = v > (INT_LIMIT - d) / 10 ? INT_LIMIT : v * 10 + d;
	}
	*pp = p;
	return v;
}

static const char *fmt_parse_width(const char *p, struct fmt_spec *sp, va_list *ap)
{
	if (*p != '*') {
		sp->width = fmt_atoi(&p);
		return p;
	}
	sp->width = va_arg(*ap, int);
	if (sp->width < 0) {
		sp->flags |= FL_LEFT;
		/* -INT_MIN does not exist; such a width is absurd anyway. */
		sp->width = sp->width < -INT_LIMIT ? INT_LIMIT : -sp->width;
	}
	return p + 1;
}

static const char *fmt_parse_prec(const char *p, struct fmt_spec *sp, va_list *ap)
{
	if (*p != '.')
		return p;
	p++;
	if (*p != '*') {
		sp->prec = fmt_atoi(&p);
		return p;
	}
	sp->prec = va_arg(*ap, int);
	if (sp->prec < 0)
		sp->prec = -1;
	return p + 1;
}

static const char *fmt_parse_len(const char *p, struct fmt_spec *sp)
{
	switch (*p) {
	case 'h':
	case 'l':
		sp->len = *p++;
		if (*p == sp->len) {
			sp->len = sp->len == 'h' ? 'H' : 'L';
			p++;
		}
		return p;
	case 'z':
	case 'j':
	case 't':
		sp->len = *p;
		return p + 1;
	default:
		return p;
	}
}

/*
 * Parse the specification that follows a '%' at @p.  Returns a pointer to
 * the conversion letter (which is '\0' if the format ends first).
 */
static const char *fmt_parse(const char *p, struct fmt_spec *sp, va_list *ap)
{
	unsigned f;

	sp->flags = 0;
	sp->width = 0;
	sp->prec = -1;
	sp->len = 0;
	while ((f = fmt_flag(*p)) != 0) {
		sp->flags |= f;
		p++;
	}
	p = fmt_parse_width(p, sp, ap);
	p = fmt_parse_prec(p, sp, ap);
	p = fmt_parse_len(p, sp);
	sp->conv = *p;
	return p;
}

/* ---- fetching arguments ------------------------------------------------- */

static s64 fmt_arg_signed(const struct fmt_spec *sp, va_list *ap)
{
	switch (sp->len) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z': return (s64)va_arg(*ap, size_t);
	case 'j': return va_arg(*ap, intmax_t);
	case 't': return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

static u64 fmt_arg_unsigned(const struct fmt_spec *sp, va_list *ap)
{
	switch (sp->len) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned int);
	case 'h': return (unsigned short)va_arg(*ap, unsigned int);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	case 'j': return va_arg(*ap, uintmax_t);
	case 't': return (u64)va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, unsigned int);
	}
}

/* ---- emitters ----------------------------------------------------------- */

/* Lay out @n bytes of @s in a field of the spec's width. */
static void fmt_field(struct fmt_out *o, const struct fmt_spec *sp,
		      const char *s, size_t n)
{
	size_t pad = (size_t)sp->width > n ? (size_t)sp->width - n : 0;

	if (!(sp->flags & FL_LEFT))
		out_fill(o, ' ', pad);
	out_mem(o, s, n);
	if (sp->flags & FL_LEFT)
		out_fill(o, ' ', pad);
}

static void fmt_string(struct fmt_out *o, const struct fmt_spec *sp, const char *s)
{
	if (!s)
		s = "(null)";
	fmt_field(o, sp, s, sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s));
}

/* Write @v's digits ending just before @end; returns how many. */
static size_t fmt_digits(char *end, u64 v, unsigned base, bool upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t n = 0;

	for (; v; v /= base, n++)
		*--end = set[v % base];
	return n;
}

/*
 * Emit the integer @mag (a magnitude) in @base with @prefix (sign and/or
 * 0x, may be empty) laid out as the spec asks.
 */
static void fmt_number(struct fmt_out *o, const struct fmt_spec *sp, u64 mag,
		       unsigned base, const char *prefix)
{
	char tmp[24]; /* 22 octal digits hold 2^64 - 1 */
	size_t nd = fmt_digits(tmp + sizeof(tmp), mag, base, sp->conv == 'X');
	size_t min = sp->prec < 0 ? 1 : (size_t)sp->prec;
	size_t zeros = min > nd ? min - nd : 0;
	size_t plen = strlen(prefix);
	size_t body, pad;

	if (base == 8 && (sp->flags & FL_HASH) && zeros == 0)
		zeros = 1; /* '#' for %o: the first digit must be 0 */
	body = plen + zeros + nd;
	pad = (size_t)sp->width > body ? (size_t)sp->width - body : 0;
	if (!(sp->flags & FL_LEFT) && (sp->flags & FL_ZERO) && sp->prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!(sp->flags & FL_LEFT))
		out_fill(o, ' ', pad);
	out_mem(o, prefix, plen);
	out_fill(o, '0', zeros);
	out_mem(o, tmp + sizeof(tmp) - nd, nd);
	if (sp->flags & FL_LEFT)
		out_fill(o, ' ', pad);
}

static void fmt_signed(struct fmt_out *o, const struct fmt_spec *sp, s64 v)
{
	/* Negate in unsigned arithmetic so INT64_MIN has a magnitude too. */
	u64 mag = v < 0 ? 0 - (u64)v : (u64)v;
	const char *sign = "";

	if (v < 0)
		sign = "-";
	else if (sp->flags & FL_PLUS)
		sign = "+";
	else if (sp->flags & FL_SPACE)
		sign = " ";
	fmt_number(o, sp, mag, 10, sign);
}

static void fmt_unsigned(struct fmt_out *o, const struct fmt_spec *sp, u64 v)
{
	const char *prefix = "";
	unsigned base = 10;

	if (sp->conv == 'o') {
		base = 8;
	} else if (sp->conv == 'x' || sp->conv == 'X') {
		base = 16;
		if ((sp->flags & FL_HASH) && v)
			prefix = sp->conv == 'x' ? "0x" : "0X";
	}
	fmt_number(o, sp, v, base, prefix);
}

static void fmt_pointer(struct fmt_out *o, const struct fmt_spec *sp, const void *p)
{
	if (!p)
		fmt_field(o, sp, "(nil)", 5);
	else
		fmt_number(o, sp, (uintptr_t)p, 16, "0x");
}

/*
 * Emit one conversion whose letter is at @p (after fmt_parse()); @start is
 * the '%' that began it, echoed with the whole specification if the letter
 * is unknown.
 */
static void fmt_convert(struct fmt_out *o, const struct fmt_spec *sp,
			const char *start, const char *p, va_list *ap)
{
	char c;

	switch (sp->conv) {
	case 'd':
	case 'i':
		fmt_signed(o, sp, fmt_arg_signed(sp, ap));
		break;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		fmt_unsigned(o, sp, fmt_arg_unsigned(sp, ap));
		break;
	case 'p':
		fmt_pointer(o, sp, va_arg(*ap, void *));
		break;
	case 's':
		fmt_string(o, sp, va_arg(*ap, const char *));
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		fmt_field(o, sp, &c, 1);
		break;
	case '%':
		out_char(o, '%');
		break;
	default:
		out_mem(o, start, (size_t)(p - start) + (sp->conv != '\0'));
		break;
	}
}

/* ---- entry points ------------------------------------------------------- */

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size, .len = 0 };
	struct fmt_spec sp;
	va_list args;
	const char *p;

	va_copy(args, ap);
	for (p = fmt; *p; p++) {
		const char *start = p;

		if (*p != '%') {
			out_char(&o, *p);
			continue;
		}
		p = fmt_parse(p + 1, &sp, &args);
		fmt_convert(&o, &sp, start, p, &args);
		if (!sp.conv)
			break; /* the format ended inside a specification */
	}
	va_end(args);
	if (size)
		buf[MIN(o.len, size - 1)] = '\0';
	return o.len > INT_LIMIT ? INT_LIMIT : (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vscnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	if (!size)
		return 0;
	return (size_t)n >= size ? (int)(size - 1) : n;
}

int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vscnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int format_ipv4(char *buf, size_t size, u32 addr)
{
	return snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(addr >> 24),
			(unsigned)(addr >> 16) & 0xff, (unsigned)(addr >> 8) & 0xff,
			(unsigned)addr & 0xff);
}

int format_mac(char *buf, size_t size, const u8 mac[6])
{
	return snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
			mac[1], mac[2], mac[3], mac[4], mac[5]);
}
