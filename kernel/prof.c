/*
 * prof.c — `prof start`, `prof stop`, `prof [-n N]`: a sampling profiler.
 *
 * While it is on, every CPU's timer tick (TIME_TICK_HZ a second) records
 * the address it interrupted, until PROF_SAMPLES are taken.  `prof` groups
 * the samples by function (ksyms) and prints the most sampled with their
 * share and the CPUs they were seen on; idle CPUs show as the idle loop.
 * Code that runs with interrupts off is never interrupted by the tick, so
 * its time is charged to wherever interrupts come back on — a function that
 * ends a long interrupts-off section (spin_unlock_irqrestore) stands for
 * that section.
 *
 * One profile for the whole kernel: a second `prof start` restarts it.
 * The samples are written with one atomic increment each and read only
 * while the profiler is off or after they were all taken (`count` is
 * published with release order after each slot is written).
 */
#include "errno.h"
#include "kernel/ksyms.h"
#include "kernel/percpu.h"
#include "kernel/prof.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "lib/parse.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define PROF_SAMPLES 32768u  /* 5 minutes of two CPUs at 100 Hz */
#define PROF_FUNCS 1024u     /* distinct functions counted */
#define PROF_SHOW 20u

struct prof_sample {
	u64 rip;
	u32 cpu;
	u32 written;          /* the slot is complete */
};

static struct prof_sample samples[PROF_SAMPLES];
static u32 next_slot;          /* [a] slots claimed (may run past PROF_SAMPLES) */
static bool running;           /* [a] */
static u64 started_ns, stopped_ns;

void prof_tick(const struct regs *r)
{
	u32 i;

	if (!__atomic_load_n(&running, __ATOMIC_ACQUIRE) || !r)
		return;
	i = __atomic_fetch_add(&next_slot, 1, __ATOMIC_RELAXED);
	if (i >= PROF_SAMPLES)
		return;
	samples[i].rip = r->rip;
	samples[i].cpu = this_cpu()->cpu;
	__atomic_store_n(&samples[i].written, 1, __ATOMIC_RELEASE);
}

/* One function's samples. */
struct prof_func {
	u64 start;            /* 0: an empty slot; ~0: outside any function */
	const char *name;
	u32 count;
	u32 cpus;             /* bit per CPU that was seen in it */
};

/* The slot of the function at @start in the open-addressed table @f. */
static struct prof_func *func_slot(struct prof_func *f, u64 start)
{
	u32 h = (u32)((start * 0x9e3779b97f4a7c15ull) >> 40) % PROF_FUNCS;

	for (u32 k = 0; k < PROF_FUNCS; k++, h = (h + 1) % PROF_FUNCS)
		if (!f[h].start || f[h].start == start)
			return &f[h];
	return NULL;
}

/* Count the taken samples into @f: how many there were. */
static u32 prof_group(struct prof_func *f)
{
	u32 n = MIN(__atomic_load_n(&next_slot, __ATOMIC_ACQUIRE), PROF_SAMPLES), taken = 0;

	for (u32 i = 0; i < n; i++) {
		const struct prof_sample *s = &samples[i];
		u64 off = 0, size = 0, start;
		const char *name;
		struct prof_func *slot;

		if (!__atomic_load_n(&s->written, __ATOMIC_ACQUIRE))
			continue;
		name = ksyms_lookup(s->rip, &off, &size);
		start = name ? s->rip - off : ~0ull;
		slot = func_slot(f, start);
		taken++;
		if (!slot)
			continue; /* more functions than the table: counted in the total only */
		slot->start = start;
		slot->name = name ? name : "(outside the kernel's functions)";
		slot->count++;
		slot->cpus |= 1u << (s->cpu & 31);
	}
	return taken;
}

/* Move the @k most sampled functions of @f to its front, most first. */
static void prof_top(struct prof_func *f, u32 k)
{
	for (u32 i = 0; i < k && i < PROF_FUNCS; i++) {
		u32 best = i;

		for (u32 j = i + 1; j < PROF_FUNCS; j++)
			if (f[j].count > f[best].count)
				best = j;
		if (best != i) {
			struct prof_func t = f[i];

			f[i] = f[best];
			f[best] = t;
		}
	}
}

static void prof_print_cpus(struct sh *sh, u32 cpus)
{
	const char *sep = "  cpu ";

	for (u32 c = 0; c < 32; c++) {
		if (cpus & (1u << c)) {
			sh_printf(sh, "%s%u", sep, c);
			sep = ",";
		}
	}
}

static int prof_show(struct sh *sh, u32 k)
{
	struct prof_func *f = kzalloc(PROF_FUNCS * sizeof(*f));
	bool on = __atomic_load_n(&running, __ATOMIC_ACQUIRE);
	u64 ns = (on ? time_ns() : stopped_ns) - started_ns;
	u32 taken;

	if (!f) {
		sh_printf(sh, "prof: out of memory\n");
		return -ENOMEM;
	}
	taken = prof_group(f);
	sh_printf(sh, "prof: %u samples over %llu ms (%s, %u Hz per CPU)%s\n", taken,
		  (unsigned long long)(started_ns ? ns / 1000000 : 0), on ? "running" : "stopped",
		  TIME_TICK_HZ, taken >= PROF_SAMPLES ? ", full" : "");
	prof_top(f, k);
	for (u32 i = 0; i < k && f[i].count && !sh_output_error(sh); i++) {
		u32 tenths = (u32)((u64)f[i].count * 1000 / taken);

		sh_printf(sh, "%6u %3u.%u%%  %-32s", f[i].count, tenths / 10, tenths % 10, f[i].name);
		prof_print_cpus(sh, f[i].cpus);
		sh_printf(sh, "\n");
	}
	kfree(f);
	return sh_output_error(sh);
}

static int cmd_prof(struct sh *sh, int argc, char **argv)
{
	unsigned k = PROF_SHOW;

	if (argc == 2 && !strcmp(argv[1], "start")) {
		__atomic_store_n(&running, false, __ATOMIC_RELEASE);
		memset(samples, 0, sizeof(samples));
		started_ns = time_ns();
		__atomic_store_n(&next_slot, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&running, true, __ATOMIC_RELEASE);
		sh_printf(sh, "prof: sampling every CPU at %u Hz (up to %u samples)\n", TIME_TICK_HZ,
			  PROF_SAMPLES);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "stop")) {
		if (__atomic_exchange_n(&running, false, __ATOMIC_ACQ_REL))
			stopped_ns = time_ns();
		return prof_show(sh, k);
	}
	if (argc == 3 && !strcmp(argv[1], "-n")) {
		if (parse_uint(argv[2], &k) || !k || k > PROF_FUNCS) {
			sh_printf(sh, "prof: -n takes 1 to %u functions\n", PROF_FUNCS);
			return -EINVAL;
		}
	} else if (argc != 1) {
		sh_printf(sh, "usage: prof [start | stop | -n N]\n");
		return -EINVAL;
	}
	return prof_show(sh, k);
}
SHELL_CMD("prof", "[start | stop | -n N]",
	  "sampling profiler: start, stop (and show), or show the N most sampled functions", 0, 2,
	  cmd_prof);
