/*
 * panic.h — stopping the kernel with a report when it finds itself broken.
 *
 * panic() is for kernel bugs only — never for bad input from a user, a disk
 * or the network, which get an error return.  It prints the reason, the
 * registers and a symbolized backtrace on every console, then halts every
 * CPU; it never returns and never reboots.
 */
#ifndef NOS_PANIC_H
#define NOS_PANIC_H

#include "types.h"
#include "compiler.h"

struct regs;

__noreturn void panic(const char *fmt, ...) __printf(1, 2);
/* Panic for an exception: @reason plus the faulting context in @regs. */
__noreturn void panic_regs(const struct regs *regs, const char *fmt, ...) __printf(2, 3);

#define BUG_ON(cond)                                                            \
	do {                                                                   \
		if (unlikely(cond))                                            \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);  \
	} while (0)

/*
 * Print a backtrace through @print (used by panic, `bt` and tests): frame 0
 * is @rip (a return address when @rip_is_return), then the frame-pointer
 * chain from @rbp.  Returns the number of frames printed.
 */
unsigned backtrace_print(u64 rip, u64 rbp, bool rip_is_return,
			 void (*print)(const char *line, void *arg), void *arg);

#endif
