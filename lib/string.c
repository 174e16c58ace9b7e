/*
 * string.c — the C side of lib/string.h.
 *
 * Everything here is written as the plainest byte loop that is obviously
 * right.  The _c versions of the six assembly routines are references, not
 * fast paths: the boot test compares lib/string_asm.asm against them, so
 * their value lies in being easy to check by eye.  The C-only routines are
 * called on short strings (command lines, names, headers) where a byte loop
 * costs nothing that matters.
 *
 * STR_PLAIN marks every function with clang's no_builtin attribute.  Without
 * it the optimiser may recognise "for (i...) d[i] = c" as a memset idiom and
 * emit a call to memset — inside memset_c that would make the reference test
 * the assembly against itself, and inside a function that *is* memmove it
 * would recurse forever.  The kernel's -fno-builtin already prevents this,
 * but the host build does not use that flag, and the attribute keeps the
 * guarantee in the source rather than in the command line.
 *
 * Under NOS_HOST the standard names are macros for nos_ names (see
 * string.h), so the definitions below produce nos_memmove and so on; the
 * block at the end gives the host the six routines that the kernel takes
 * from assembly.
 */
#include "compiler.h"
#include "lib/string.h"

#define STR_PLAIN __attribute__((no_builtin))

/* ---- C references for the assembly routines --------------------------- */

STR_PLAIN void *memset_c(void *dst, int c, size_t n)
{
	u8 *d = dst;

	while (n--)
		*d++ = (u8)c;
	return dst;
}

STR_PLAIN void *memcpy_c(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

STR_PLAIN int memcmp_c(const void *a, const void *b, size_t n)
{
	const u8 *p = a, *q = b;

	for (; n; n--, p++, q++) {
		if (*p != *q)
			return *p - *q;
	}
	return 0;
}

STR_PLAIN size_t strlen_c(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

STR_PLAIN int strcmp_c(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (u8)*a - (u8)*b;
}

/* True when @needle is a prefix of @s. */
STR_PLAIN static bool str_starts_with(const char *s, const char *needle)
{
	while (*needle) {
		if (*s++ != *needle++)
			return false;
	}
	return true;
}

STR_PLAIN char *strstr_c(const char *hay, const char *needle)
{
	for (;; hay++) {
		if (str_starts_with(hay, needle))
			return (char *)hay;
		if (!*hay)
			return NULL;
	}
}

/* ---- C only ------------------------------------------------------------ */

STR_PLAIN void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if ((uintptr_t)d - (uintptr_t)s >= n) {
		/* @dst is below @src or past its end: forward is safe. */
		while (n--)
			*d++ = *s++;
	} else {
		/* @dst overlaps the tail of @src: copy from the top down. */
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

STR_PLAIN void *memchr(const void *s, int c, size_t n)
{
	const u8 *p = s;

	for (; n; n--, p++) {
		if (*p == (u8)c)
			return (void *)p;
	}
	return NULL;
}

STR_PLAIN size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

STR_PLAIN int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			break;
	}
	return 0;
}

static int str_fold(char c)
{
	u8 u = (u8)c;

	return (u >= 'A' && u <= 'Z') ? u + ('a' - 'A') : u;
}

STR_PLAIN int strncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int d = str_fold(*a) - str_fold(*b);

		if (d)
			return d;
		if (!*a)
			break;
	}
	return 0;
}

STR_PLAIN int strcasecmp(const char *a, const char *b)
{
	return strncasecmp(a, b, SIZE_MAX);
}

STR_PLAIN char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

STR_PLAIN char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

/* True when @c (not NUL) occurs in the string @set. */
static bool str_in_set(char c, const char *set)
{
	for (; *set; set++) {
		if (*set == c)
			return true;
	}
	return false;
}

STR_PLAIN size_t strspn(const char *s, const char *accept)
{
	size_t n = 0;

	while (s[n] && str_in_set(s[n], accept))
		n++;
	return n;
}

STR_PLAIN size_t strcspn(const char *s, const char *reject)
{
	size_t n = 0;

	while (s[n] && !str_in_set(s[n], reject))
		n++;
	return n;
}

STR_PLAIN size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = MIN(len, size - 1);

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

STR_PLAIN size_t strlcat(char *dst, const char *src, size_t size)
{
	size_t have = strnlen(dst, size);

	/* With no NUL in @dst, have == size and strlcpy() gets size 0. */
	return have + strlcpy(dst + have, src, size - have);
}

/* ---- host stand-ins for the assembly ----------------------------------- */

#ifdef NOS_HOST
void *memset(void *dst, int c, size_t n)
{
	return memset_c(dst, c, n);
}

void *memcpy(void *dst, const void *src, size_t n)
{
	return memcpy_c(dst, src, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
	return memcmp_c(a, b, n);
}

size_t strlen(const char *s)
{
	return strlen_c(s);
}

int strcmp(const char *a, const char *b)
{
	return strcmp_c(a, b);
}

char *strstr(const char *hay, const char *needle)
{
	return strstr_c(hay, needle);
}
#endif
