/*
 * rdrand.c — the CPU's own random number instructions as entropy sources.
 *
 * RDSEED (CPUID 7.0 EBX bit 18) gives conditioned seed-grade output and is
 * preferred; RDRAND (CPUID 1 ECX bit 30) gives the output of the CPU's
 * DRBG.  Either may report "not ready" (carry clear) when drained; Intel
 * recommends retrying a few times, and a source that still has nothing
 * returns what it has so the registry falls back to the next source.
 * Both are nosleep sources: callable in any context, at boot included.
 */
#include "errno.h"
#include "kernel/entropy.h"
#include "kernel/x86.h"
#include "lib/string.h"

#define RETRIES 10
#define CPUID1_RDRAND (1u << 30)
#define CPUID7_RDSEED (1u << 18)

static bool rdrand64(u64 *v)
{
	u8 ok;

	__asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

static bool rdseed64(u64 *v)
{
	u8 ok;

	__asm__ __volatile__("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

static int read_with(bool (*insn)(u64 *), u8 *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		u64 v;
		unsigned tries = 0;

		while (!insn(&v))
			if (++tries == RETRIES)
				return done ? (int)done : -EAGAIN;
		memcpy(buf + done, &v, MIN(sizeof(v), len - done));
		done += MIN(sizeof(v), len - done);
	}
	return (int)done;
}

static int rdseed_read(void *ctx, u8 *buf, size_t len)
{
	return read_with(rdseed64, buf, MIN(len, (size_t)0x7FFFFFFF));
}

static int rdrand_read(void *ctx, u8 *buf, size_t len)
{
	return read_with(rdrand64, buf, MIN(len, (size_t)0x7FFFFFFF));
}

/* nosleep: an instruction never waits on a device, so the CSPRNG can seed from it at boot. */
static struct entropy_source rdseed_src = { .name = "rdseed", .quality = 80, .nosleep = true,
					    .read = rdseed_read };
static struct entropy_source rdrand_src = { .name = "rdrand", .quality = 60, .nosleep = true,
					    .read = rdrand_read };

void rdrand_init(void)
{
	if (cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & CPUID7_RDSEED))
		entropy_register(&rdseed_src);
	if (cpuid(1, 0).ecx & CPUID1_RDRAND)
		entropy_register(&rdrand_src);
}
