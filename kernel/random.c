/*
 * random.c — the kernel's CSPRNG: ChaCha20 with fast key erasure, a key
 * per CPU, reseeded from the entropy sources by a task of its own.
 *
 * Generating.  A generator is nothing but a 32-byte ChaCha20 key.  To hand
 * out n bytes (n <= RANDOM_CHUNK), run ChaCha20 under that key (nonce 0,
 * counter from 0): the first 32 bytes of keystream replace the key, the
 * next n go to the caller, the rest of the last block is wiped.  The old
 * key is gone before the caller sees a byte, so whoever later reads the
 * generator's memory cannot work back to anything it handed out (backtrack
 * resistance), and since the key changes on every draw, (key, nonce,
 * counter) never repeats.  A request longer than RANDOM_CHUNK is served in
 * chunks, each a draw of its own.
 *
 * Per CPU.  Each CPU draws from a key of its own, touched only by that CPU
 * with its interrupts off for the length of one chunk (a few microseconds:
 * four ChaCha20 blocks).  With interrupts off nothing else can run on the
 * CPU — no IRQ handler, no SoftIrq, no other task, no migration — so no
 * lock is needed, random_bytes() works in every context but NMI, and
 * CPUs never wait for each other.  A CPU's key is drawn from the *base*
 * generator (which is only ever used for that) the first time the CPU
 * draws and again after every seeding, so no two CPUs hold the same key
 * and no two callers anywhere get the same stream.
 *
 * Seeding.  Input is stirred into the base key in two steps.  First it is
 * compressed to 32 bytes without any lock: starting from a zero key, each
 * 32-byte piece is XORed into the key and the key replaced by the first 32
 * bytes of ChaCha20 under it (a nonce carrying "mix", the input length and
 * the piece number keeps this apart from drawing).  Then, under base_lock,
 * the digest is stirred into the base key the same way and the generation
 * bumps, which makes every CPU re-key on its next draw.  Why the step
 * K' = ChaCha20_K^D(...) with K^D = K XOR digest is enough:
 *   - an attacker who does not know K learns nothing from K', whatever
 *     input he chose: K^D is then as unknown as K, and ChaCha20's output
 *     under an unknown key is unpredictable;
 *   - an attacker who knows K (say he read memory) but not the input must
 *     guess the input's entropy to predict K' — reseeding heals the
 *     generator as soon as the input holds enough of it;
 *   - nothing here needs collision resistance: nobody gains from two inputs
 *     mapping to one key, and an input's unknown part stays unknown when
 *     later known pieces are XORed in (they cannot depend on a key the
 *     attacker does not have).
 * The same chain compresses the input, so one unpredictable piece anywhere
 * in it makes the digest unpredictable.
 *
 * Where the entropy comes from.  random_init() (kernel/main.c, once the
 * scheduler and the CPU's entropy instructions are up, before PCI) seeds
 * from the nosleep sources (RDSEED, RDRAND), the TSC and the clocks, and
 * starts the task "random".  That task reseeds after 1 s (by then PCI has
 * found any virtio-rng), then at doubling intervals up to every 64 s,
 * reading up to RANDOM_RESEED_BYTES from *every* source with a deadline of
 * half a second each, plus TSC stamps taken around each read.  Only that
 * task ever waits on a source, so a slow or dead one delays reseeding and
 * never a caller of random_bytes(); a source that lies does no harm, since
 * its bytes are stirred in with everything else.  Without any source the
 * generator runs on its boot seed, which is then only the clocks: that is
 * said once in dmesg.  Called before random_init(), random_bytes() seeds
 * itself from the TSC alone rather than fail.
 *
 * Locks: base_lock ("random", rank LOCK_RANK_RANDOM) guards the base
 * generator and its statistics; it is taken with interrupts off and takes
 * nothing inside, so it nests under any lock but dmesg and console.
 */
#include "kernel/random.h"
#include "compiler.h"
#include "errno.h"
#include "kernel/entropy.h"
#include "kernel/lock_order.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "lib/byteorder.h"
#include "lib/chacha20.h"
#include "lib/parse.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define RANDOM_CHUNK (3 * CHACHA20_BLOCK_SIZE + CHACHA20_KEY_SIZE) /* one draw: 4 blocks */
#define RESEED_FIRST_NS 1000000000ULL
#define RESEED_MAX_NS 64000000000ULL
#define RESEED_SOURCE_TIMEOUT_NS 500000000ULL
#define RANDOM_CMD_MAX 4096

/* Legend: [b] base_lock; [a] read without it (written under it). */
static struct {
	spinlock_t lock;
	u8 key[CHACHA20_KEY_SIZE]; /* [b] */
	bool seeded;               /* [b] */
	u64 generation;            /* [b][a] */
	struct random_stats stats; /* [b] (random_get_stats() fills in its generation) */
} base = { .lock = SPINLOCK_INIT_RANKED("random", LOCK_RANK_RANDOM) };

/* Legend: [L] only the owning CPU, with its interrupts off. */
struct random_cpu {
	u8 key[CHACHA20_KEY_SIZE]; /* [L] */
	u64 generation;            /* [L] base generation it was drawn at; 0: never */
} __aligned(64);

static struct random_cpu cpu_rng[CONFIG_MAX_CPUS];

static const u8 draw_nonce[CHACHA20_NONCE_SIZE]; /* all zero */

/* Fast key erasure: replace @key from its own stream, then @len bytes to @out. */
static void draw(u8 key[CHACHA20_KEY_SIZE], u8 *out, size_t len)
{
	struct chacha20 c;

	chacha20_init(&c, key, draw_nonce, 0);
	chacha20_keystream(&c, key, CHACHA20_KEY_SIZE);
	chacha20_keystream(&c, out, len);
	chacha20_wipe(&c);
}

/* key = ChaCha20 under (key XOR piece), piece by piece over @in. */
static void absorb(u8 key[CHACHA20_KEY_SIZE], const u8 *in, size_t len)
{
	u8 nonce[CHACHA20_NONCE_SIZE] = { 'm', 'i', 'x' }, block[CHACHA20_BLOCK_SIZE];
	size_t at = 0;

	put_le32(nonce + 4, (u32)len);
	do {
		size_t n = MIN(len - at, (size_t)CHACHA20_KEY_SIZE);

		for (size_t i = 0; i < n; i++)
			key[i] ^= in[at + i];
		put_le32(nonce + 8, (u32)(at / CHACHA20_KEY_SIZE));
		chacha20_block(key, 0, nonce, block);
		memcpy(key, block, CHACHA20_KEY_SIZE);
		at += n;
	} while (at < len);
	chacha20_memzero(block, sizeof(block));
}

/* The first draw before random_init(): seed from the TSC alone.  [b] held. */
static void seed_early_locked(void)
{
	u64 tsc[2] = { rdtsc(), this_cpu()->cpu };

	absorb(base.key, (const u8 *)tsc, sizeof(tsc));
	base.seeded = true;
	__atomic_store_n(&base.generation, base.generation + 1, __ATOMIC_RELEASE);
}

/* Give this CPU a key of its own from the base generator.  Interrupts off. */
static void cpu_rekey(struct random_cpu *rc)
{
	u64 flags = spin_lock_irqsave(&base.lock);

	if (!base.seeded)
		seed_early_locked();
	draw(base.key, rc->key, sizeof(rc->key));
	rc->generation = base.generation;
	spin_unlock_irqrestore(&base.lock, flags);
}

void random_bytes(void *buf, size_t len)
{
	u8 *p = buf;

	while (len) {
		size_t n = MIN(len, (size_t)RANDOM_CHUNK);
		u64 flags = read_rflags();
		struct random_cpu *rc;

		cli();
		rc = &cpu_rng[this_cpu()->cpu];
		if (!rc->generation ||
		    rc->generation != __atomic_load_n(&base.generation, __ATOMIC_ACQUIRE))
			cpu_rekey(rc);
		draw(rc->key, p, n);
		if (flags & RFLAGS_IF)
			sti();
		p += n;
		len -= n;
	}
}

u32 random_u32(void)
{
	u32 v;

	random_bytes(&v, sizeof(v));
	return v;
}

u64 random_u64(void)
{
	u64 v;

	random_bytes(&v, sizeof(v));
	return v;
}

u32 random_below(u32 n)
{
	u32 floor, x;

	if (n == 0)
		return 0;
	/* 2^32 mod n: the values below it would make the low results likelier */
	floor = (u32)(0u - n) % n;
	do
		x = random_u32();
	while (x < floor);
	return x % n;
}

enum stir_kind { STIR_INPUT, STIR_BOOT, STIR_RESEED };

/*
 * Stir @len bytes into the base key; a boot seed or reseed also records
 * that @src_bytes came from @nsrc sources.
 */
static void stir(const void *in, size_t len, enum stir_kind kind, unsigned src_bytes,
		 unsigned nsrc)
{
	u8 digest[CHACHA20_KEY_SIZE] = { 0 };
	u64 flags;

	absorb(digest, in, len); /* the long part, without the lock */
	flags = spin_lock_irqsave(&base.lock);
	absorb(base.key, digest, sizeof(digest));
	base.seeded = true;
	__atomic_store_n(&base.generation, base.generation + 1, __ATOMIC_RELEASE);
	if (kind != STIR_INPUT) {
		base.stats.reseeds += kind == STIR_RESEED && nsrc > 0;
		base.stats.last_seed_ns = time_ns();
		base.stats.last_bytes = src_bytes;
		base.stats.last_sources = nsrc;
	}
	spin_unlock_irqrestore(&base.lock, flags);
	chacha20_memzero(digest, sizeof(digest));
}

void random_add_entropy(const void *buf, size_t len)
{
	stir(buf, len, STIR_INPUT, 0, 0);
}

void random_get_stats(struct random_stats *st)
{
	u64 flags = spin_lock_irqsave(&base.lock);

	*st = base.stats;
	st->generation = base.generation;
	spin_unlock_irqrestore(&base.lock, flags);
}

int random_reseed(void)
{
	struct entropy_source *src[ENTROPY_MAX_SOURCES];
	struct {
		u8 bytes[ENTROPY_MAX_SOURCES * RANDOM_RESEED_BYTES];
		u64 tsc[ENTROPY_MAX_SOURCES + 1]; /* when each read started and the last ended */
	} seed;
	unsigned n = entropy_sources(src, ENTROPY_MAX_SOURCES), used = 0;
	size_t total = 0;

	memset(&seed, 0, sizeof(seed));
	for (unsigned i = 0; i < n; i++) {
		size_t got;

		seed.tsc[i] = rdtsc();
		entropy_read_source(src[i], seed.bytes + total, RANDOM_RESEED_BYTES,
				    RESEED_SOURCE_TIMEOUT_NS, &got);
		total += got;
		used += got > 0;
	}
	seed.tsc[n] = rdtsc();
	stir(&seed, sizeof(seed), STIR_RESEED, (unsigned)total, used);
	chacha20_memzero(&seed, sizeof(seed));
	return (int)total;
}

static void reseed_task(void *arg)
{
	u64 interval = RESEED_FIRST_NS;
	bool told = false;

	for (;;) {
		int got;

		sched_sleep_ns(interval);
		got = random_reseed();
		if (!told && got > 0)
			pr_info("random: reseeded from %d bytes of the entropy sources", got);
		told |= got > 0;
		interval = MIN(interval * 2, RESEED_MAX_NS);
	}
}

void random_init(void)
{
	struct {
		u64 tsc, ns, tsc_hz;
		s64 wall;
		u8 hw[2 * CHACHA20_KEY_SIZE];
	} seed;
	size_t got = 0;

	memset(&seed, 0, sizeof(seed));
	seed.tsc = rdtsc();
	seed.ns = time_ns();
	seed.tsc_hz = time_tsc_hz();
	time_boot_wall(&seed.wall);
	entropy_read_nosleep(seed.hw, sizeof(seed.hw), &got);
	stir(&seed, sizeof(seed), STIR_BOOT, (unsigned)got, got > 0);
	chacha20_memzero(&seed, sizeof(seed));
	if (got)
		pr_info("random: ChaCha20 CSPRNG seeded from %zu bytes of RDSEED/RDRAND and the clocks",
			got);
	else
		pr_warn("random: no CPU entropy instruction; seeded from the clocks only until a "
			"source answers the reseed task");
	if (!task_create("random", reseed_task, NULL, TASK_ANY_CPU))
		pr_err("random: cannot start the reseed task; the boot seed stays");
}

/* ---- the `random` command ------------------------------------------------ */

static int cmd_random(struct sh *sh, int argc, char **argv)
{
	u64 len = 32;
	u8 *buf;

	if (argc > 1 && parse_u64_range(argv[1], 1, RANDOM_CMD_MAX, &len))
		return sh_error(sh, "length must be 1-%d, not '%s'", RANDOM_CMD_MAX, argv[1]);
	buf = kmalloc((size_t)len); /* not static: sessions may run it at once */
	if (!buf)
		return -ENOMEM;
	random_bytes(buf, (size_t)len);
	entropy_print_hex(sh, buf, (size_t)len);
	chacha20_memzero(buf, (size_t)len);
	kfree(buf);
	return 0;
}
SHELL_CMD("random", "[len]", "random bytes in hex from the kernel's CSPRNG (len 1-4096)", 0, 1,
	  cmd_random);
