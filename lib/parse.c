/*
 * parse.c — the strict parsers of parse.h.
 *
 * The number parsers share one core, parse_digits(), which reads a base
 * prefix and digits over an explicit length.  It checks every character
 * before it reports overflow, so that a string which is both too long and
 * malformed ("99999999999999999999z") is called malformed: the shape of the
 * input is judged first, its value second.
 *
 * The address parsers walk the string with a cursor, one field at a time,
 * and check the terminator last; each writes its result only once the
 * whole input has been accepted.
 */
#include "lib/parse.h"
#include "lib/string.h"
#include "errno.h"

#define U64_MAX_VALUE 0xffffffffffffffffULL
#define UINT_MAX_VALUE 0xffffffffu

int parse_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read "0x"/"0X" off the front of the @len bytes at *@s; returns the base. */
static unsigned parse_base(const char **s, size_t *len)
{
	const char *p = *s;

	if (*len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		*s += 2;
		*len -= 2;
		return 16;
	}
	return 10;
}

/* Parse a whole unsigned number of @len bytes (see the file comment). */
static int parse_digits(const char *s, size_t len, u64 *out)
{
	unsigned base = parse_base(&s, &len);
	bool overflow = false;
	u64 v = 0;

	if (!len)
		return -EINVAL;
	for (; len; len--, s++) {
		int d = parse_hex_digit(*s);

		if (d < 0 || (unsigned)d >= base)
			return -EINVAL;
		if (v > (U64_MAX_VALUE - (unsigned)d) / base)
			overflow = true;
		v = v * base + (unsigned)d;
	}
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u64n(const char *s, size_t len, u64 *out)
{
	if (!s)
		return -EINVAL;
	return parse_digits(s, len, out);
}

int parse_u64(const char *s, u64 *out)
{
	if (!s)
		return -EINVAL;
	return parse_digits(s, strlen(s), out);
}

int parse_s64(const char *s, s64 *out)
{
	const u64 limit = 1ULL << 63; /* magnitude of INT64_MIN */
	bool neg;
	u64 mag;
	int err;

	if (!s)
		return -EINVAL;
	neg = *s == '-';
	err = parse_u64(s + neg, &mag);
	if (err)
		return err;
	if (mag > limit - !neg)
		return -ERANGE;
	if (!neg)
		*out = (s64)mag;
	else
		*out = mag == limit ? INT64_MIN : -(s64)mag;
	return 0;
}

int parse_u64_range(const char *s, u64 min, u64 max, u64 *out)
{
	u64 v;
	int err = parse_u64(s, &v);

	if (err)
		return err;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_uint(const char *s, unsigned int *out)
{
	u64 v;
	int err = parse_u64_range(s, 0, UINT_MAX_VALUE, &v);

	if (err)
		return err;
	*out = (unsigned int)v;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "y", "yes", "on", "true" };
	static const char *const no[] = { "0", "n", "no", "off", "false" };
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* Decode the two hex digits at @p into *@out; false if either is not hex. */
static bool hex_pair(const char *p, u8 *out)
{
	int hi = parse_hex_digit(p[0]);
	int lo = hi < 0 ? -1 : parse_hex_digit(p[1]);

	if (lo < 0)
		return false;
	*out = (u8)(hi << 4 | lo);
	return true;
}

int parse_hex_bytes(const char *s, u8 *out, size_t cap, size_t *len)
{
	size_t n, i;
	u8 b;

	if (!s)
		return -EINVAL;
	n = strlen(s);
	if (!n || n % 2)
		return -EINVAL;
	for (i = 0; i < n; i += 2) {
		if (!hex_pair(s + i, &b))
			return -EINVAL;
	}
	if (n / 2 > cap)
		return -E2BIG;
	for (i = 0; i < n / 2; i++)
		hex_pair(s + 2 * i, &out[i]);
	*len = n / 2;
	return 0;
}

/*
 * Read one IPv4 part at @p into *@part.  Returns the cursor after it, or
 * NULL unless it is 1-3 digits, without a leading zero, at most 255.
 */
static const char *ipv4_part(const char *p, u32 *part)
{
	u32 v = 0;
	int n;

	for (n = 0; n < 3 && p[n] >= '0' && p[n] <= '9'; n++)
		v = v * 10 + (u32)(p[n] - '0');
	if (n == 0 || (p[n] >= '0' && p[n] <= '9'))
		return NULL; /* empty, or a fourth digit */
	if ((n > 1 && p[0] == '0') || v > 255)
		return NULL;
	*part = v;
	return p + n;
}

int parse_ipv4(const char *s, u32 *out)
{
	u32 addr = 0, part;
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return -EINVAL;
		s = ipv4_part(s, &part);
		if (!s)
			return -EINVAL;
		addr = addr << 8 | part;
	}
	if (*s)
		return -EINVAL;
	*out = addr;
	return 0;
}

int parse_mac(const char *s, u8 mac[6])
{
	u8 tmp[6];
	char sep;
	int i;

	if (!s || strnlen(s, 18) != 17)
		return -EINVAL;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (i < 5 && s[3 * i + 2] != sep)
			return -EINVAL;
		if (!hex_pair(s + 3 * i, &tmp[i]))
			return -EINVAL;
	}
	memcpy(mac, tmp, sizeof(tmp));
	return 0;
}
