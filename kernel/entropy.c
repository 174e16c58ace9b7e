/*
 * entropy.c — the entropy-source registry and the `entropy` command.
 *
 * Sources are kept sorted by quality.  A read works on a snapshot of the
 * table taken under entropy_lock, so a source registering meanwhile (PCI
 * probing while the CSPRNG's reseed task reads) never shows a reader a
 * half-shifted table, and no source is called with the lock held.
 *
 * Every raw read has a deadline, checked between requests to a source,
 * and stops when the calling task is interrupted.  That is what keeps a
 * slow source from holding a reader hostage: a rate-limited virtio-rng
 * answers every request within its own timeout with a few bytes, so a
 * loop that only gave up on a *failed* request would never give up (4 KiB
 * at 4 bytes a second took 17 minutes, and Ctrl-C could not stop it).
 *
 * `random` is not here: it reads the CSPRNG (kernel/random.c), which never
 * waits for a source.  `entropy` shows the sources and reads raw bytes
 * from them, for a person who wants to see what a device really gives.
 */
#include "kernel/entropy.h"
#include "compiler.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/random.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "lib/parse.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define ENTROPY_CMD_MAX 4096
#define ENTROPY_CMD_TIMEOUT_S 3
#define NS_PER_S 1000000000ULL

static struct entropy_source *sources[ENTROPY_MAX_SOURCES]; /* [entropy_lock] */
static unsigned nsources;                                    /* [entropy_lock] */
static spinlock_t entropy_lock = SPINLOCK_INIT("entropy");

int entropy_register(struct entropy_source *src)
{
	u64 flags;
	unsigned i;

	if (!src || !src->read || !src->name)
		return -EINVAL;
	flags = spin_lock_irqsave(&entropy_lock);
	if (nsources == ENTROPY_MAX_SOURCES) {
		spin_unlock_irqrestore(&entropy_lock, flags);
		return -ENOSPC;
	}
	for (i = nsources; i > 0 && sources[i - 1]->quality < src->quality; i--)
		sources[i] = sources[i - 1];
	sources[i] = src;
	nsources++;
	spin_unlock_irqrestore(&entropy_lock, flags);
	pr_info("entropy: source %s (quality %u)", src->name, src->quality);
	return 0;
}

unsigned entropy_sources(struct entropy_source **out, unsigned max)
{
	u64 flags = spin_lock_irqsave(&entropy_lock);
	unsigned n = MIN(max, nsources);

	for (unsigned i = 0; i < n; i++)
		out[i] = sources[i];
	spin_unlock_irqrestore(&entropy_lock, flags);
	return n;
}

struct entropy_source *entropy_source_find(const char *prefix)
{
	struct entropy_source *snap[ENTROPY_MAX_SOURCES];
	unsigned n = entropy_sources(snap, ENTROPY_MAX_SOURCES);
	size_t plen = strlen(prefix);

	for (unsigned i = 0; plen && i < n; i++)
		if (!strncmp(snap[i]->name, prefix, plen))
			return snap[i];
	return NULL;
}

/*
 * One request; counts what it gave.  > 0 bytes, or -EIO for any failure
 * (a source's own -ETIMEDOUT must not read as the caller's deadline).
 */
static int ask(struct entropy_source *s, u8 *buf, size_t len)
{
	int n = s->read(s->ctx, buf, MIN(len, (size_t)0x7fffffff));

	if (n <= 0 || n > (int)len) /* failed, nothing, or more than it had room for */
		return -EIO;
	__atomic_fetch_add(&s->bytes, (u64)n, __ATOMIC_RELAXED);
	return n;
}

/*
 * Fill from @s until full, failed, past @deadline (0: none) or
 * interrupted; *@done counts the bytes in @buf so far.
 */
static int fill_from(struct entropy_source *s, u8 *buf, size_t len, u64 deadline,
		     size_t *done)
{
	while (*done < len) {
		int n;

		if (deadline && time_ns() >= deadline)
			return -ETIMEDOUT;
		if (deadline && task_interrupted())
			return -EINTR;
		n = ask(s, buf + *done, len - *done);
		if (n < 0)
			return n;
		*done += (size_t)n;
	}
	return 0;
}

int entropy_read_source(struct entropy_source *src, u8 *buf, size_t len, u64 timeout_ns,
			size_t *got)
{
	*got = 0;
	return fill_from(src, buf, len, time_ns() + MAX(timeout_ns, 1ULL), got);
}

/* Best first; a source that fails hands over to the next. */
static int read_from(struct entropy_source **snap, unsigned n, u8 *buf, size_t len,
		     u64 deadline, size_t *got)
{
	*got = 0;
	for (unsigned i = 0; i < n; i++) {
		int rc = fill_from(snap[i], buf, len, deadline, got);

		if (rc == 0 || rc == -ETIMEDOUT || rc == -EINTR)
			return rc;
	}
	return *got == len ? 0 : -ENODEV;
}

int entropy_read(u8 *buf, size_t len, u64 timeout_ns, size_t *got)
{
	struct entropy_source *snap[ENTROPY_MAX_SOURCES];
	unsigned n = entropy_sources(snap, ENTROPY_MAX_SOURCES);

	return read_from(snap, n, buf, len, time_ns() + MAX(timeout_ns, 1ULL), got);
}

int entropy_read_nosleep(u8 *buf, size_t len, size_t *got)
{
	struct entropy_source *snap[ENTROPY_MAX_SOURCES];
	unsigned n = entropy_sources(snap, ENTROPY_MAX_SOURCES), k = 0;

	for (unsigned i = 0; i < n; i++)
		if (snap[i]->nosleep)
			snap[k++] = snap[i];
	return read_from(snap, k, buf, len, 0, got);
}

/* ---- the `entropy` command ----------------------------------------------- */

void entropy_print_hex(struct sh *sh, const u8 *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char line[2 * 32 + 1];

	for (size_t at = 0; at < len; at += 32) {
		size_t n = MIN(len - at, (size_t)32);

		for (size_t i = 0; i < n; i++) {
			line[2 * i] = digits[buf[at + i] >> 4];
			line[2 * i + 1] = digits[buf[at + i] & 15];
		}
		line[2 * n] = '\n';
		sh_write(sh, line, 2 * n + 1);
	}
}

static void list_sources(struct sh *sh)
{
	struct entropy_source *snap[ENTROPY_MAX_SOURCES];
	unsigned n = entropy_sources(snap, ENTROPY_MAX_SOURCES);
	struct random_stats st;

	for (unsigned i = 0; i < n; i++)
		sh_printf(sh, "%-24s quality %3u, %llu bytes delivered\n", snap[i]->name,
			  snap[i]->quality,
			  (unsigned long long)__atomic_load_n(&snap[i]->bytes, __ATOMIC_RELAXED));
	sh_printf(sh, "%u sources\n", n);
	random_get_stats(&st);
	sh_printf(sh, "csprng: ChaCha20, last seeded %llu s ago from %u bytes of %u sources, "
		  "%llu reseeds since boot\n",
		  (unsigned long long)((time_ns() - st.last_seed_ns) / NS_PER_S), st.last_bytes,
		  st.last_sources, (unsigned long long)st.reseeds);
}

/* Say why @got of @len bytes is all there is. */
static void report_short(struct sh *sh, int rc, size_t got, u64 len)
{
	unsigned long long g = got, l = len;

	if (rc == -ETIMEDOUT)
		sh_printf(sh, "entropy: only %llu of %llu bytes in %d s: the source is slow "
			  "(raw reads stop after %d s; `random` never waits)\n",
			  g, l, ENTROPY_CMD_TIMEOUT_S, ENTROPY_CMD_TIMEOUT_S);
	else if (rc == -EINTR)
		sh_printf(sh, "entropy: interrupted after %llu of %llu bytes\n", g, l);
	else
		sh_printf(sh, "entropy: no source could provide more than %llu of %llu bytes (%s)\n",
			  g, l, errno_name(rc));
}

static int read_raw(struct sh *sh, u64 len, const char *name)
{
	struct entropy_source *src = name ? entropy_source_find(name) : NULL;
	u64 timeout = ENTROPY_CMD_TIMEOUT_S * NS_PER_S;
	size_t got = 0;
	u8 *buf;
	int rc;

	if (name && !src)
		return sh_error(sh, "no source named '%s' (`entropy` lists them)", name);
	buf = kmalloc((size_t)len); /* not static: sessions may run it at once */
	if (!buf)
		return -ENOMEM;
	if (src)
		rc = entropy_read_source(src, buf, (size_t)len, timeout, &got);
	else
		rc = entropy_read(buf, (size_t)len, timeout, &got);
	entropy_print_hex(sh, buf, got);
	if (rc)
		report_short(sh, rc, got, len);
	kfree(buf);
	return rc;
}

static int cmd_entropy(struct sh *sh, int argc, char **argv)
{
	u64 len;

	if (argc == 1) {
		list_sources(sh);
		return 0;
	}
	if (parse_u64_range(argv[1], 1, ENTROPY_CMD_MAX, &len))
		return sh_error(sh, "length must be 1-%d, not '%s'", ENTROPY_CMD_MAX, argv[1]);
	return read_raw(sh, len, argc > 2 ? argv[2] : NULL);
}
SHELL_CMD("entropy", "[len [source]]",
	  "list the entropy sources, or read len raw bytes (1-4096, at most 3 s) from them", 0, 2,
	  cmd_entropy);
