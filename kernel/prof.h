/*
 * prof.h — a sampling profiler of the kernel: where the CPUs spend their
 * time, by function (`prof`, kernel/prof.c).
 */
#ifndef NOS_PROF_H
#define NOS_PROF_H

#include "kernel/regs.h"

/* From each CPU's timer tick: record where @r was interrupted, if on. */
void prof_tick(const struct regs *r);

#endif
