/*
 * tools/nanofs/env/kernel/sched.h — the host tool's stand-in for the one
 * scheduler call the nanofs core makes: task_interrupted(), which long
 * loops (fsck's walk) poll for Ctrl-C.  The tool is a plain process that
 * SIGINT ends, so nothing ever marks it interrupted.
 */
#ifndef NOS_SCHED_H
#define NOS_SCHED_H

#include "types.h"

static inline bool task_interrupted(void)
{
	return false;
}

#endif
