/*
 * entropy.c — the entropy-source registry, `random` and `entropy`.
 *
 * Sources are kept sorted by quality.  entropy_read() asks each in turn
 * until the buffer is full, so a source that fails (a device that
 * disappeared, RDRAND running dry) costs only a fallback.
 */
#include "kernel/entropy.h"
#include "compiler.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "kernel/spinlock.h"
#include "lib/parse.h"
#include "mm/kmalloc.h"

#define ENTROPY_MAX_SOURCES 8
#define RANDOM_MAX 4096

static struct entropy_source *sources[ENTROPY_MAX_SOURCES];
static unsigned nsources;
static spinlock_t entropy_lock = SPINLOCK_INIT("entropy"); /* sources, nsources */

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

unsigned entropy_source_count(void)
{
	return nsources;
}

const struct entropy_source *entropy_source_get(unsigned i)
{
	return i < nsources ? sources[i] : NULL;
}

/* Fill from one source; returns the bytes it gave. */
static size_t fill_from(struct entropy_source *s, u8 *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		int n = s->read(s->ctx, buf + done, len - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	s->bytes += done;
	return done;
}

int entropy_read(u8 *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < nsources && done < len; i++)
		done += fill_from(sources[i], buf + done, len - done);
	return done == len ? 0 : -ENODEV;
}

static int cmd_random(struct sh *sh, int argc, char **argv)
{
	u64 len = 32;
	u8 *buf;
	int rc;

	if (argc > 1 && parse_u64_range(argv[1], 1, RANDOM_MAX, &len))
		return sh_error(sh, "length must be 1-%d, not '%s'", RANDOM_MAX, argv[1]);
	buf = kmalloc((size_t)len); /* not static: sessions may run it at once */
	if (!buf)
		return -ENOMEM;
	rc = entropy_read(buf, (size_t)len);
	if (rc)
		sh_printf(sh, "random: no entropy source could provide %llu bytes\n",
			  (unsigned long long)len);
	for (u64 i = 0; !rc && i < len; i++)
		sh_printf(sh, "%02x%s", buf[i], (i % 32 == 31 || i + 1 == len) ? "\n" : "");
	kfree(buf);
	return rc;
}
SHELL_CMD("random", "[len]", "random bytes in hex from the best entropy source (len 1-4096)",
	  0, 1, cmd_random);

static int cmd_entropy(struct sh *sh, int argc, char **argv)
{
	for (unsigned i = 0; i < nsources; i++)
		sh_printf(sh, "%-24s quality %3u, %llu bytes delivered\n", sources[i]->name,
			  sources[i]->quality, (unsigned long long)sources[i]->bytes);
	sh_printf(sh, "%u sources\n", nsources);
	return 0;
}
SHELL_CMD("entropy", "", "list the entropy sources, best first, with bytes delivered", 0, 0,
	  cmd_entropy);
