/*
 * probe.h — accesses that may fault, for tests of memory protection.
 *
 * Each returns 0 when the access worked and -EFAULT when it faulted; the
 * fault's details are in probe_last.  Only tests use these.
 */
#ifndef NOS_PROBE_H
#define NOS_PROBE_H

#include "types.h"

struct probe_fault {
	u64 vector, error, addr; /* exception, error code, CR2 */
};

extern struct probe_fault probe_last;

int probe_read(const void *addr);
int probe_write(void *addr, u8 value);
/* Call the code at @addr (which must return). */
int probe_exec(const void *addr);
/* Run @fn on the stack whose top is @stack_top; -EFAULT when it hit a guard. */
int probe_call_on_stack(u64 stack_top, void (*fn)(void));

struct regs;
/* Called by the exception handler: true when the fault was a probe's and
 * @r now resumes at the probe's fix-up. */
bool probe_fixup(struct regs *r, u64 cr2);

#endif
