/*
 * pvclock.c — reading the paravirtual clock record of pvclock.h.
 *
 * The read side of the version seqlock follows the usual shape: load the
 * version with bit 0 cleared, load the data, load the version again, and
 * accept only when the second load equals the first.  Clearing bit 0 up
 * front is what rejects an odd (in-progress) version: the second load
 * returns the odd value, which can never equal the even one kept.
 *
 * The acquire fences keep the data loads between the two version loads.
 * On x86 they cost nothing at run time (loads are not reordered with
 * loads) but they also stop the compiler from moving the loads, and they
 * keep the code right on a weaker memory model, e.g. in a host test.
 *
 * The TSC is read inside the window too: a TSC taken before a host update
 * and paired with the new record could lie before the new tsc_timestamp.
 */
#include "lib/pvclock.h"
#include "errno.h"

u64 pvclock_scale(u64 delta, u32 mul, s8 shift)
{
	if (shift >= 64 || shift <= -64)
		return 0;
	if (shift >= 0)
		delta <<= shift;
	else
		delta >>= -shift;
	return (u64)(((unsigned __int128)delta * mul) >> 32);
}

/* A snapshot of the fields of the record that the time depends on. */
struct pvclock_copy {
	u64 tsc_timestamp;
	u64 system_time;
	u32 mul;
	s8 shift;
	u8 flags;
};

static void pvclock_copy_fields(const volatile struct pvclock_vcpu_time_info *src,
				struct pvclock_copy *c)
{
	c->tsc_timestamp = src->tsc_timestamp;
	c->system_time = src->system_time;
	c->mul = src->tsc_to_system_mul;
	c->shift = src->tsc_shift;
	c->flags = src->flags;
}

/* Nanoseconds at @tsc from a consistent copy of the record. */
static u64 pvclock_copy_ns(const struct pvclock_copy *c, u64 tsc)
{
	u64 delta = tsc > c->tsc_timestamp ? tsc - c->tsc_timestamp : 0;

	return c->system_time + pvclock_scale(delta, c->mul, c->shift);
}

int pvclock_read(const volatile struct pvclock_vcpu_time_info *src, pvclock_tsc_fn read_tsc,
		 void *arg, u64 *ns, u8 *flags)
{
	struct pvclock_copy c;
	u32 version;
	u64 tsc;

	for (u32 tries = 0; tries < PVCLOCK_READ_TRIES; tries++) {
		version = src->version & ~1u;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		pvclock_copy_fields(src, &c);
		tsc = read_tsc(arg);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (src->version != version)
			continue;
		*ns = pvclock_copy_ns(&c, tsc);
		if (flags)
			*flags = c.flags;
		return 0;
	}
	return -EAGAIN;
}

u64 pvclock_monotonic(u64 *last, u64 now)
{
	u64 prev = __atomic_load_n(last, __ATOMIC_RELAXED);

	do {
		if (now <= prev)
			return prev;
	} while (!__atomic_compare_exchange_n(last, &prev, now, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return now;
}
