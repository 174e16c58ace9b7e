/*
 * compiler.h — attributes and small helpers that hide compiler syntax.
 *
 * Everything here works with clang and GCC, for the kernel and for the host
 * unit-test build alike.
 */
#ifndef NOS_COMPILER_H
#define NOS_COMPILER_H

#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __noreturn __attribute__((noreturn))
#define __unused __attribute__((unused))
#define __used __attribute__((used))
#define __section(s) __attribute__((section(s)))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __weak __attribute__((weak))
#define __noinline __attribute__((noinline))
#ifndef __always_inline /* glibc's <sys/cdefs.h> defines the same on the host */
#define __always_inline inline __attribute__((always_inline))
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/*
 * MIN and MAX evaluate each argument exactly once: an argument that reads
 * shared memory (READ_ONCE of a ring's head, a device register) must not be
 * read twice, once for the comparison and again for the result — the
 * second read may see a newer value than the one that was compared.
 * (That double read once let the serial ring copy a whole typed line into a
 * one-byte buffer on the shell's stack.)  Use MIN_CONST/MAX_CONST where a
 * constant expression is needed (array sizes, static initialisers).
 */
#define MIN(a, b) __extension__({ __typeof__(a) min_a_ = (a); __typeof__(b) min_b_ = (b); \
				 min_a_ < min_b_ ? min_a_ : min_b_; })
#define MAX(a, b) __extension__({ __typeof__(a) max_a_ = (a); __typeof__(b) max_b_ = (b); \
				 max_a_ > max_b_ ? max_a_ : max_b_; })
#define MIN_CONST(a, b) ((a) < (b) ? (a) : (b))
#define MAX_CONST(a, b) ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define CLANG_VERSION                                                          \
	STRINGIFY(__clang_major__) "." STRINGIFY(__clang_minor__) "." STRINGIFY(__clang_patchlevel__)
#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define barrier() __asm__ __volatile__("" ::: "memory")

#endif
