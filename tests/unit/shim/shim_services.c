/*
 * shim_services.c — kernel services that code compiled for the host calls
 * (fs/nanofs_vfs.c, the nanofs VFS glue, first) but that the simulated
 * machine of shim.h has no use for, each answered the way the kernel
 * answers when it lacks the thing:
 *
 *  - task_create(): the host runs one test task and the SoftIrq task, no
 *    others, so it returns NULL, as the kernel does when memory or stack
 *    slots run out.  A caller must cope with that already (the glue then
 *    logs that volumes commit at sync and unmount only — which is what a
 *    test wants: no commit at a time it did not choose).
 *  - time_wall(): the wall clock was never set: -ENODATA.
 *  - random_bytes(): a fixed xorshift sequence, so a run reproduces; it
 *    still never hands the same bytes twice within a run.
 */
#include "tests/unit/shim/shim_priv.h"
#include "errno.h"
#include "kernel/random.h"
#include "kernel/sched.h"
#include "kernel/time.h"

struct task *task_create(const char *name, task_fn entry, void *arg, int affinity)
{
	return NULL;
}

int time_wall(s64 *unix_ns)
{
	return -ENODATA;
}

void random_bytes(void *buf, size_t len)
{
	static u64 x = 0x6A09E667F3BCC908ULL;
	u8 *p = buf;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (u8)(x >> 24);
	}
}
