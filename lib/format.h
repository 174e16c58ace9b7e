/*
 * format.h — printf-style formatting into a caller's buffer.
 *
 * vsnprintf()/snprintf() follow C99: they never write more than @size bytes,
 * always NUL-terminate when @size > 0, and return the length the complete
 * output would have had (not counting the NUL), so "ret >= size" means the
 * output was truncated and snprintf(NULL, 0, ...) measures it.
 *
 * Conversions: %d %i %u %o %x %X %c %s %p %%.
 * Flags:       '-' left-justify, '0' zero-pad (numbers only; ignored with '-'
 *              or an explicit precision), '+' and ' ' sign for %d/%i,
 *              '#' adds 0x/0X to non-zero %x/%X and a leading 0 to %o.
 * Width and precision: decimal or '*' (taken from an int argument; a negative
 *              width means '-' plus its magnitude, a negative precision
 *              means none).  Precision is the minimum digit count for
 *              numbers (".0" prints nothing for zero) and the maximum byte
 *              count for %s, which then never reads beyond that many bytes.
 * Length:      hh h l ll z j t (hh/h narrow the value as C requires).
 * %s of NULL prints "(null)" (precision applies to that text); %p prints
 *              0x followed by lower-case hex, or "(nil)" for NULL, as glibc.
 *
 * Deliberately missing: floating point (the kernel is built without SSE) and
 * %n (writing through a format argument is an exploit primitive).  An
 * unknown conversion is copied to the output as written, e.g. "%-4y".
 *
 * Everything is reentrant and takes no locks; the only state is on the
 * caller's stack, so it may be used from any context including IRQs.
 *
 * Host builds (NOS_HOST) rename vsnprintf/snprintf to nos_vsnprintf and
 * nos_snprintf with macros so they never clash with libc; see lib/string.h
 * for the rule, including NOS_KEEP_LIBC_NAMES for a file that needs both.
 */
#ifndef NOS_LIB_FORMAT_H
#define NOS_LIB_FORMAT_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

#if defined(NOS_HOST) && !defined(NOS_KEEP_LIBC_NAMES)
#define vsnprintf nos_vsnprintf
#define snprintf nos_snprintf
#endif

#if defined(NOS_HOST) && defined(NOS_KEEP_LIBC_NAMES)
#define NOS_FMT_(name) nos_##name
#else
#define NOS_FMT_(name) name
#endif

/*
 * Format @fmt with @ap into @buf (@size bytes, may be NULL when @size is 0).
 * Returns the untruncated output length, capped at INT_MAX.
 */
int NOS_FMT_(vsnprintf)(char *buf, size_t size, const char *fmt, va_list ap)
	__printf(3, 0);
int NOS_FMT_(snprintf)(char *buf, size_t size, const char *fmt, ...)
	__printf(3, 4);

#undef NOS_FMT_

/*
 * Like vsnprintf()/snprintf() but return the number of characters actually
 * stored in @buf (excluding the NUL): 0 when @size is 0, at most @size - 1.
 * Handy for appending: "len += scnprintf(buf + len, size - len, ...)" never
 * runs past the end.
 */
int vscnprintf(char *buf, size_t size, const char *fmt, va_list ap) __printf(3, 0);
int scnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Buffer sizes that always hold a formatted address, NUL included. */
#define FORMAT_IPV4_MAX 16 /* "255.255.255.255" */
#define FORMAT_MAC_MAX 18  /* "aa:bb:cc:dd:ee:ff" */

/*
 * Write the host-order IPv4 address @addr (0x0a000201 = 10.0.2.1, the order
 * parse_ipv4() returns) as dotted decimal.  Returns as snprintf().
 */
int format_ipv4(char *buf, size_t size, u32 addr);
/* Write the 6-byte @mac as lower-case "aa:bb:cc:dd:ee:ff".  Returns as snprintf(). */
int format_mac(char *buf, size_t size, const u8 mac[6]);

#endif
