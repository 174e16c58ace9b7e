/*
 * regs.h — the register frame isr.asm builds on an interrupt or exception,
 * lowest address first.
 */
#ifndef NOS_REGS_H
#define NOS_REGS_H

#include "types.h"

struct regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

_Static_assert(sizeof(struct regs) == 22 * 8, "isr.asm frame layout");

#endif
