/*
 * string.h — memory and C-string routines for the kernel and the host tests.
 *
 * Two families live here.
 *
 * The six hot routines — memset, memcpy, memcmp, strlen, strcmp, strstr —
 * are written in assembly for the kernel (lib/string_asm.asm) around the
 * x86 string instructions: `rep stosq` / `rep movsq` move eight bytes per
 * step and a `rep stosb` / `rep movsb` finishes the tail, `repe cmpsb`
 * compares and `repne scasb` finds a terminating NUL.  Each also has a plain
 * C version with a _c suffix (memset_c, ...), built everywhere, which is the
 * reference the boot test holds the assembly to.  The C versions are compiled
 * so that clang cannot recognise their loops and turn them back into calls to
 * the very routine they stand in for.
 *
 * The rest (memmove, memchr, strncmp, strchr, ...) are C only and carry their
 * standard names and meanings.
 *
 * Host builds (NOS_HOST).  The unit tests link against the host libc, and a
 * kernel symbol named memcpy would interpose libc's for the whole process
 * (ASan's runtime included).  So under NOS_HOST this header turns every
 * standard name below into a macro for the same name with a "nos_" prefix
 * (memmove -> nos_memmove), and lib/string.c, which includes this header,
 * therefore defines nos_memmove and friends.  On the host the six assembly
 * names are small C functions that call the _c versions.  The effect is that
 * lib code and tests call our implementations on the host as well, under the
 * sanitizers, while libc keeps its own symbols.
 *
 * The one rule that follows: a host-only file that wants libc's versions
 * (tests/unit/host_*.c comparing against libc) includes the libc header and
 * not this one — or includes this one only after defining NOS_KEEP_LIBC_NAMES,
 * which declares the nos_ names without the macros.
 *
 * Direction flag: the assembly relies on DF = 0 at entry, as the System V ABI
 * guarantees; interrupt entry code must not hand a routine DF = 1.
 */
#ifndef NOS_LIB_STRING_H
#define NOS_LIB_STRING_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

#if defined(NOS_HOST) && !defined(NOS_KEEP_LIBC_NAMES)
#define memset nos_memset
#define memcpy nos_memcpy
#define memcmp nos_memcmp
#define strlen nos_strlen
#define strcmp nos_strcmp
#define strstr nos_strstr
#define memmove nos_memmove
#define memchr nos_memchr
#define strnlen nos_strnlen
#define strncmp nos_strncmp
#define strcasecmp nos_strcasecmp
#define strncasecmp nos_strncasecmp
#define strchr nos_strchr
#define strrchr nos_strrchr
#define strspn nos_strspn
#define strcspn nos_strcspn
#define strlcpy nos_strlcpy
#define strlcat nos_strlcat
#endif

#if defined(NOS_HOST) && defined(NOS_KEEP_LIBC_NAMES)
#define NOS_STR_(name) nos_##name
#else
#define NOS_STR_(name) name
#endif

/* ---- assembly in the kernel, C on the host ---------------------------- */

/* Fill @n bytes at @dst with the byte @c.  Returns @dst. */
void *NOS_STR_(memset)(void *dst, int c, size_t n);
/* Copy @n bytes from @src to @dst; the areas must not overlap.  Returns @dst. */
void *NOS_STR_(memcpy)(void *dst, const void *src, size_t n);
/*
 * Compare @n bytes as unsigned chars.  Returns <0, 0 or >0 as @a sorts
 * before, equal to or after @b.
 */
int NOS_STR_(memcmp)(const void *a, const void *b, size_t n);
/* Length of the NUL-terminated string @s, not counting the NUL. */
size_t NOS_STR_(strlen)(const char *s);
/* Compare two NUL-terminated strings as unsigned chars; <0, 0 or >0. */
int NOS_STR_(strcmp)(const char *a, const char *b);
/*
 * First occurrence of @needle in @hay.  Returns a pointer into @hay, @hay
 * itself when @needle is empty, or NULL when there is none.
 */
char *NOS_STR_(strstr)(const char *hay, const char *needle);

/* ---- C reference versions of the six, in every build ------------------ */

void *memset_c(void *dst, int c, size_t n);
void *memcpy_c(void *dst, const void *src, size_t n);
int memcmp_c(const void *a, const void *b, size_t n);
size_t strlen_c(const char *s);
int strcmp_c(const char *a, const char *b);
char *strstr_c(const char *hay, const char *needle);

/* ---- C only ------------------------------------------------------------ */

/* Copy @n bytes from @src to @dst; the areas may overlap.  Returns @dst. */
void *NOS_STR_(memmove)(void *dst, const void *src, size_t n);
/* First byte equal to (u8)@c in the @n bytes at @s, or NULL. */
void *NOS_STR_(memchr)(const void *s, int c, size_t n);
/* Length of @s, but at most @max: never reads past s[max - 1]. */
size_t NOS_STR_(strnlen)(const char *s, size_t max);
/* strcmp() over at most @n characters. */
int NOS_STR_(strncmp)(const char *a, const char *b, size_t n);
/* strcmp()/strncmp() with ASCII letters folded to lower case. */
int NOS_STR_(strcasecmp)(const char *a, const char *b);
int NOS_STR_(strncasecmp)(const char *a, const char *b, size_t n);
/*
 * First / last occurrence of (char)@c in @s, or NULL.  The terminating NUL
 * counts as part of the string, so strchr(s, 0) points at it.
 */
char *NOS_STR_(strchr)(const char *s, int c);
char *NOS_STR_(strrchr)(const char *s, int c);
/*
 * Length of the leading run of @s made only of characters in @accept
 * (strspn) / only of characters not in @reject (strcspn).
 */
size_t NOS_STR_(strspn)(const char *s, const char *accept);
size_t NOS_STR_(strcspn)(const char *s, const char *reject);
/*
 * Copy @src into the @size-byte buffer @dst, truncating if need be; @dst is
 * NUL-terminated whenever @size > 0.  Returns strlen(@src): a result >= @size
 * means the copy was truncated.
 */
size_t NOS_STR_(strlcpy)(char *dst, const char *src, size_t size);
/*
 * Append @src to the string in the @size-byte buffer @dst, truncating if need
 * be and keeping @dst NUL-terminated.  Returns the length the whole string
 * would have had (initial length of @dst + strlen(@src)); a result >= @size
 * means truncation.  If @dst holds no NUL within @size bytes nothing is
 * written and the result is @size + strlen(@src).
 */
size_t NOS_STR_(strlcat)(char *dst, const char *src, size_t size);

#undef NOS_STR_

#endif
