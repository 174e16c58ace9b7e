/*
 * parse.h — strict parsers for numbers, booleans, hex strings, IPv4 and MAC
 * addresses, for text that comes from users, the kernel command line or the
 * network.
 *
 * Every parser here holds to the same rules, so callers can rely on them
 * without reading each one:
 *  - The whole input must be consumed.  No leading or trailing spaces, no
 *    trailing junk, no partial results: "12abc" is an error, not 12.
 *  - A NULL or empty input is -EINVAL.
 *  - The output is written only on success; on error it is left untouched.
 *  - Results: 0, -EINVAL for text of the wrong shape, -ERANGE for a
 *    well-formed number outside the range asked for (or of the type), and
 *    -E2BIG where the caller's output buffer is too small.
 *  - Nothing allocates, locks or keeps state; any context may call them.
 *
 * Number syntax: decimal digits, or "0x"/"0X" followed by hex digits (either
 * case).  No octal — "010" is ten, as a person typing it means — and no sign
 * except the '-' that parse_s64() accepts in front of either form.
 *
 * IPv4 addresses are returned in host byte order: "10.0.2.15" is 0x0a00020f,
 * so masks and comparisons work on the plain integer; use htonl() (byteorder.h)
 * to put one in a packet.  format_ipv4() in format.h is the inverse.
 */
#ifndef NOS_LIB_PARSE_H
#define NOS_LIB_PARSE_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

/* Parse an unsigned 64-bit number; -ERANGE above 2^64 - 1. */
int parse_u64(const char *s, u64 *out);

/*
 * As parse_u64() over exactly the @len bytes at @s, which need not be
 * NUL-terminated (a NUL among them is an invalid character).  For numbers
 * inside larger buffers, e.g. a header value.
 */
int parse_u64n(const char *s, size_t len, u64 *out);

/* Parse a signed number ("-" then as parse_u64); -ERANGE outside s64. */
int parse_s64(const char *s, s64 *out);

/* parse_u64() and require @min <= value <= @max, else -ERANGE. */
int parse_u64_range(const char *s, u64 min, u64 max, u64 *out);

/* parse_u64() into an unsigned int; -ERANGE above UINT_MAX. */
int parse_uint(const char *s, unsigned int *out);

/*
 * Parse a boolean word, ignoring ASCII case: 1/y/yes/on/true and
 * 0/n/no/off/false.  Anything else is -EINVAL.
 */
int parse_bool(const char *s, bool *out);

/* The value of hex digit @c (0-9, a-f, A-F), or -1. */
int parse_hex_digit(int c);

/*
 * Decode a string of hex digit pairs ("deadBEEF" -> de ad be ef) into @out,
 * which has room for @cap bytes, and store the byte count in *@len.  The
 * digits must be contiguous: no "0x" prefix, no separators, no spaces (see
 * parse_mac() for the colon form).  An odd digit count or a non-hex
 * character is -EINVAL; more than @cap bytes is -E2BIG.
 */
int parse_hex_bytes(const char *s, u8 *out, size_t cap, size_t *len);

/*
 * Parse a dotted-quad IPv4 address "a.b.c.d" into *@out in host byte order.
 * Exactly four parts, each 1-3 decimal digits with a value 0..255 and no
 * leading zero (so "010" cannot be read as octal by anyone).  Anything else
 * — a missing or extra part, an empty part, a sign, a space — is -EINVAL.
 */
int parse_ipv4(const char *s, u32 *out);

/*
 * Parse a MAC address of six two-digit hex bytes separated by ':' or '-'
 * ("52:54:00:12:34:56", "52-54-00-12-34-56"); the separator must be the same
 * throughout.  Either letter case.  Anything else is -EINVAL.
 */
int parse_mac(const char *s, u8 mac[6]);

#endif
