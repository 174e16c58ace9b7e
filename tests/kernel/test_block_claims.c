/*
 * test_block_claims.c — boot tests of what the block layer does beside
 * requests: claims, registration, empty disks, and what the shell's disk
 * commands make of them, over the fake disks of blk_fake.h.
 *
 * Claims: a disk and its partitions exclude each other (rta against rta1
 * and rta3); a release by a stranger warns in dmesg and changes nothing;
 * tasks racing on every CPU to claim rta and its partitions never hold
 * overlapping claims.  Commands: a shell line runs in a server through a
 * session that captures its output; `disks` names the holder, diskwrite
 * and diskbench are refused on a claimed device, diskwrite's offset and
 * repeat forms fill a sector.  Registration: six disks registered from
 * several CPUs at once, four named by prefix (they must come out rra..rrd,
 * each once) and two asking for the same name (one gets it).  An empty
 * disk (rea): registered, no partition table read, all I/O refused.
 *
 * Registered disks stay for the boot, so the tests that add some do it on
 * the first run and only check again on later ones.
 */
#include "tests/kernel/blk_fake.h"
#include "block/blkdev_driver.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/smp.h"
#include "kernel/waitgroup.h"
#include "kernel/x86.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"

/* Every test starts here: the fakes are there, with no bad sector. */
#define SETUP()                                                                \
	do {                                                                   \
		KT_ASSERT_EQ(blk_fake_setup(), 0);                             \
	} while (0)

/* ------------------------------------------------------------------ claims */

/*
 * Holders are names (blkdev.h): what `disks` shows.  Arrays, not string
 * literals, so that two holders with the same text still differ.
 */
static const char holder_a[] = "ktest holder A";
static const char holder_b[] = "ktest holder B";

/* rta and its two partitions (rta1, rta3), found afresh by each test. */
struct family {
	struct blkdev *disk, *p1, *p3;
};

static bool family_get(struct ktest_ctx *kt, struct family *f)
{
	f->disk = &blk_fakes[FAKE_RTA]->disk;
	f->p1 = blkdev_find("rta1");
	f->p3 = blkdev_find("rta3");
	KT_EXPECT(f->p1 != NULL && f->p3 != NULL);
	return f->p1 && f->p3;
}

/* Nobody holds @d: it can be claimed, and is given back. */
static bool unclaimed(struct blkdev *d)
{
	static const char probe[] = "ktest probe";

	if (blkdev_claimed_by(d, NULL, 0) || blkdev_claim(d, probe))
		return false;
	blkdev_release(d, probe);
	return true;
}

KTEST(block, claims_exclude_a_disk_and_its_partitions)
{
	struct family f;

	SETUP();
	KT_ASSERT(family_get(kt, &f));
	KT_EXPECT_EQ(blkdev_claim(f.p1, NULL), -EINVAL);

	/* A partition claimed: its disk is busy, its sibling is not. */
	KT_ASSERT_EQ(blkdev_claim(f.p1, holder_a), 0);
	KT_EXPECT_EQ(blkdev_claim(f.disk, holder_b), -EBUSY);
	KT_EXPECT_EQ(blkdev_claim(f.p1, holder_b), -EBUSY);
	KT_EXPECT_EQ(blkdev_claim(f.p1, holder_a), -EBUSY); /* claims do not nest */
	KT_EXPECT_EQ(blkdev_claim(f.p3, holder_b), 0);
	KT_EXPECT_EQ(blkdev_claim(&blk_fakes[FAKE_RTB]->disk, holder_a), 0); /* another disk */
	blkdev_release(&blk_fakes[FAKE_RTB]->disk, holder_a);
	/* One partition given back: the other still keeps the disk busy. */
	blkdev_release(f.p1, holder_a);
	KT_EXPECT_EQ(blkdev_claim(f.disk, holder_a), -EBUSY);
	blkdev_release(f.p3, holder_b);

	/* The whole disk claimed: every partition is busy. */
	KT_ASSERT_EQ(blkdev_claim(f.disk, holder_a), 0);
	KT_EXPECT_EQ(blkdev_claim(f.p1, holder_b), -EBUSY);
	KT_EXPECT_EQ(blkdev_claim(f.p3, holder_a), -EBUSY);
	KT_EXPECT_EQ(blkdev_claim(f.disk, holder_b), -EBUSY);
	blkdev_release(f.disk, holder_a);
	KT_EXPECT_EQ(blkdev_claim(f.p1, holder_b), 0);
	blkdev_release(f.p1, holder_b);

	KT_EXPECT(unclaimed(f.disk) && unclaimed(f.p1) && unclaimed(f.p3));
}

KTEST(block, claimed_by_copies_the_holders_name)
{
	struct family f;
	char name[8];

	SETUP();
	KT_ASSERT(family_get(kt, &f));
	memset(name, 'x', sizeof(name));
	KT_EXPECT(!blkdev_claimed_by(f.p3, name, sizeof(name)));
	KT_EXPECT_EQ(name[0], 'x'); /* nothing copied for no holder */
	KT_ASSERT_EQ(blkdev_claim(f.p3, holder_b), 0);
	KT_EXPECT(blkdev_claimed_by(f.p3, name, sizeof(name)));
	KT_EXPECT_STREQ(name, "ktest h"); /* cut to fit, NUL-terminated */
	KT_EXPECT(blkdev_claimed_by(f.p3, NULL, 0));
	KT_EXPECT(!blkdev_claimed_by(f.disk, name, sizeof(name))); /* the disk itself is not */
	blkdev_release(f.p3, holder_b);
	KT_EXPECT(!blkdev_claimed_by(f.p3, name, sizeof(name)));
}

/* dmesg lines that contain @needle. */
struct dmesg_count {
	const char *needle;
	unsigned n;
};

static void count_line(const char *line, enum log_level level, void *arg)
{
	struct dmesg_count *c = arg;

	(void)level;
	c->n += strstr(line, c->needle) != NULL;
}

static unsigned dmesg_count(const char *needle)
{
	struct dmesg_count c = { needle, 0 };

	dmesg_for_each(count_line, &c);
	return c.n;
}

KTEST(block, release_by_a_stranger_warns_and_changes_nothing)
{
	struct family f;
	unsigned before, before_disk;

	SETUP();
	KT_ASSERT(family_get(kt, &f));
	before = dmesg_count("rta1: released by");
	before_disk = dmesg_count("rta: released by");
	KT_ASSERT_EQ(blkdev_claim(f.p1, holder_a), 0);
	blkdev_release(f.p1, holder_b);
	KT_EXPECT_EQ(dmesg_count("rta1: released by"), before + 1);
	KT_EXPECT_EQ(blkdev_claim(f.p1, holder_b), -EBUSY);  /* still A's */
	KT_EXPECT_EQ(blkdev_claim(f.disk, holder_b), -EBUSY); /* and still counted */
	blkdev_release(f.disk, holder_a);                     /* A holds rta1, not rta */
	KT_EXPECT_EQ(dmesg_count("rta1: released by"), before + 1);
	KT_EXPECT_EQ(dmesg_count("rta: released by"), before_disk + 1);
	blkdev_release(f.p1, holder_a);
	blkdev_release(f.p1, holder_a); /* twice: nobody holds it now */
	KT_EXPECT_EQ(dmesg_count("rta1: released by"), before + 2);
	KT_EXPECT(unclaimed(f.disk) && unclaimed(f.p1) && unclaimed(f.p3));
}

/* ------------------------------------------------- the commands and claims */

#define OUT_MAX 8192

/* A shell line run in a server, with its output.  Static: a late run may still write. */
struct sh_run {
	const char *line;
	int rc;
	size_t len;
	bool overflow;
	char out[OUT_MAX];
};

static struct sh_run sh_runs;

static int run_sink(void *ctx, const char *buf, size_t len)
{
	struct sh_run *r = ctx;

	if (len > OUT_MAX - 1 - r->len) {
		r->overflow = true;
		len = OUT_MAX - 1 - r->len;
	}
	memcpy(r->out + r->len, buf, len);
	r->len += len;
	r->out[r->len] = 0;
	return 0;
}

static void run_line(void *arg)
{
	struct sh_run *r = arg;
	struct sh sh;

	sh_init(&sh, run_sink, r);
	r->rc = shell_exec(&sh, r->line);
}

/* Run @line in a server; its output (NUL-terminated), or NULL on a timeout. */
static const char *shell(struct ktest_ctx *kt, const char *line, int *rc)
{
	struct sh_run *r = &sh_runs;
	struct fake_job j = { .kind = FAKE_JOB_FN, .fn = run_line, .arg = r };
	int ran;

	r->line = line;
	r->len = 0;
	r->out[0] = 0;
	r->overflow = false;
	r->rc = 1;
	ran = fake_job_run(&j);
	KT_EXPECT_EQ(ran, 0);
	if (ran)
		return NULL;
	KT_EXPECT(!r->overflow);
	if (rc)
		*rc = r->rc;
	return r->out;
}

/* The row of `disks` output @out for device @name (up to its newline, copied into @row). */
static bool disks_row(const char *out, const char *name, char *row, size_t cap)
{
	size_t n = strlen(name);

	for (const char *l = out; *l; ) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);

		if (!strncmp(l, name, n) && l[n] == ' ' && len < cap) {
			memcpy(row, l, len);
			row[len] = 0;
			return true;
		}
		l += len + (end != NULL);
	}
	return false;
}

KTEST(block, disks_shows_who_claimed_what)
{
	struct family f;
	const char *out;
	char row[160];
	int rc;

	SETUP();
	KT_ASSERT(family_get(kt, &f));
	KT_ASSERT_EQ(blkdev_claim(f.p3, holder_a), 0);
	out = shell(kt, "disks", &rc);
	blkdev_release(f.p3, holder_a);
	KT_ASSERT(out != NULL);
	KT_EXPECT_EQ(rc, 0);
	KT_ASSERT(disks_row(out, "rta3", row, sizeof(row)));
	KT_EXPECT(strstr(row, ", start 256, claimed by ktest holder A") != NULL);
	KT_ASSERT(disks_row(out, "rta1", row, sizeof(row)));
	KT_EXPECT(strstr(row, "claimed") == NULL);
	KT_ASSERT(disks_row(out, "rta", row, sizeof(row)));
	KT_EXPECT(strstr(row, "claimed") == NULL);
	/* Released: rta3's row says nothing of a claim again.  Only the fake
	 * family's rows are looked at: a real disk may be claimed by a mount
	 * on the machine that runs selftest. */
	out = shell(kt, "disks", &rc);
	KT_ASSERT(out != NULL);
	KT_ASSERT(disks_row(out, "rta3", row, sizeof(row)));
	KT_EXPECT(strstr(row, "claimed") == NULL);
}

/* @line prints exactly @want (then a newline) and returns @want_rc. */
static void expect_line(struct ktest_ctx *kt, const char *line, const char *want, int want_rc)
{
	int rc = 0;
	const char *out = shell(kt, line, &rc);

	if (!out)
		return;
	KT_EXPECT_EQ(rc, want_rc);
	if (strncmp(out, want, strlen(want)) || out[strlen(want)] != '\n')
		ktest_fail(kt, __FILE__, __LINE__, "'%s' said '%s', not '%s'", line, out, want);
}

KTEST(block, writing_commands_respect_claims)
{
	struct fake *rta;
	struct family f;
	u8 before[FAKE_SECTOR];

	SETUP();
	KT_ASSERT(family_get(kt, &f));
	rta = blk_fakes[FAKE_RTA];
	memcpy(before, fake_at(rta, 64), FAKE_SECTOR);
	KT_ASSERT_EQ(blkdev_claim(f.p1, holder_a), 0);
	expect_line(kt, "diskwrite rta1 0 ff", "diskwrite: rta1 is in use (claimed by ktest holder A)",
		    -EBUSY);
	expect_line(kt, "diskwrite rta 64 ff",
		    "diskwrite: rta is in use (a partition of it is claimed; see 'disks')", -EBUSY);
	blkdev_release(f.p1, holder_a);
	KT_ASSERT_EQ(blkdev_claim(f.disk, holder_b), 0);
	expect_line(kt, "diskwrite rta1 0 ff",
		    "diskwrite: rta1 is in use (its disk rta is claimed by ktest holder B)", -EBUSY);
	blkdev_release(f.disk, holder_b);
	KT_EXPECT(!memcmp(before, fake_at(rta, 64), FAKE_SECTOR)); /* nothing written */
	/* Unclaimed, the same write goes through, and gives its claim back. */
	expect_line(kt, "diskwrite rta1 0 ff", "wrote 1 bytes to rta1 sector 0", 0);
	KT_EXPECT_EQ(fake_at(rta, 64)[0], 0xFF);
	KT_EXPECT(!memcmp(before + 1, fake_at(rta, 64) + 1, FAKE_SECTOR - 1));
	KT_EXPECT(unclaimed(f.disk) && unclaimed(f.p1) && unclaimed(f.p3));
}

/* diskwrite's offset and repeat forms fill a whole sector from one line. */
KTEST(block, diskwrite_fills_a_sector_from_an_offset)
{
	struct fake *rta;
	u8 *s;

	SETUP();
	rta = blk_fakes[FAKE_RTA];
	s = fake_at(rta, 9);
	fake_pat_fill(s, 700, 9, 1);
	expect_line(kt, "diskwrite rta 9 a5*512", "wrote 512 bytes to rta sector 9", 0);
	for (unsigned i = 0; i < FAKE_SECTOR; i++)
		KT_EXPECT_EQ(s[i], 0xA5);
	expect_line(kt, "diskwrite rta 9 510 0102", "wrote 2 bytes to rta sector 9", 0);
	expect_line(kt, "diskwrite rta 9 256 00ff*128", "wrote 256 bytes to rta sector 9", 0);
	KT_EXPECT(s[255] == 0xA5 && s[256] == 0x00 && s[257] == 0xFF && s[510] == 0x00);
	expect_line(kt, "diskwrite rta 9 511 0102", "diskwrite: 2 bytes do not fit: at most 1 "
		    "from offset 511", -EINVAL);
	expect_line(kt, "diskwrite rta 9 00*513", "diskwrite: N must be 1-512, not '513'", -EINVAL);
	expect_line(kt, "diskwrite rta 9 512 00", "diskwrite: offset must be 0-511, not '512'",
		    -EINVAL);
	KT_EXPECT(s[511] == 0xFF && s[0] == 0xA5);
}

/*
 * Tasks on every CPU claim rta and its partitions at once: no overlap ever.
 * Each racer stops after RACE_WINS claims (or RACE_ROUNDS tries) and waits
 * a little after each release, so the others get their turn.
 */
#define RACERS 4
#define RACE_WINS 200
#define RACE_ROUNDS 200000
#define RACE_PAUSE 64

struct claim_racer {
	struct blkdev *dev;
	unsigned which;        /* 0 rta, 1 rta1, 2 rta3 */
	char name[16];         /* the holder */
	unsigned wins, busy;
};

static struct claim_racer claim_racers[RACERS];
static unsigned inside[3];     /* [a] claims held now, per device */
static unsigned overlaps;      /* [a] */
static struct waitgroup race_go;

static unsigned load(const unsigned *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void claim_racer_fn(void *arg)
{
	struct claim_racer *r = arg;

	waitgroup_wait(&race_go, 0);
	for (unsigned i = 0; i < RACE_ROUNDS && r->wins < RACE_WINS; i++) {
		if (blkdev_claim(r->dev, r->name)) {
			r->busy++;
			continue;
		}
		r->wins++;
		__atomic_add_fetch(&inside[r->which], 1, __ATOMIC_SEQ_CST);
		if (load(&inside[r->which]) > 1 ||
		    (r->which ? load(&inside[0]) : load(&inside[1]) + load(&inside[2])))
			__atomic_add_fetch(&overlaps, 1, __ATOMIC_SEQ_CST);
		cpu_relax();
		__atomic_sub_fetch(&inside[r->which], 1, __ATOMIC_SEQ_CST);
		blkdev_release(r->dev, r->name);
		for (unsigned k = 0; k < RACE_PAUSE; k++)
			cpu_relax();
	}
}

/* A server for racer @i: on CPU i modulo the CPUs there are. */
static struct fake_server *racer_server(unsigned i)
{
	return fake_server_get((int)(i % smp_cpu_count()), 10 + i);
}

/*
 * Post @fn(@args[i]) (@size bytes apart) to @n servers, let them all go at
 * once, and wait for them.  Whether all @n ran.
 */
static bool race(struct ktest_ctx *kt, void (*fn)(void *), void *args, size_t size, unsigned n)
{
	struct fake_server *s[8];
	unsigned posted = 0, done = 0;

	waitgroup_init(&race_go);
	waitgroup_add(&race_go, 1);
	for (; posted < n && posted < ARRAY_SIZE(s); posted++) {
		struct fake_job j = { .kind = FAKE_JOB_FN, .fn = fn, .arg = (u8 *)args + posted * size };

		s[posted] = racer_server(posted);
		if (!s[posted])
			break;
		fake_server_post(s[posted], &j);
	}
	waitgroup_done(&race_go); /* whatever was posted must not wait for ever */
	for (unsigned i = 0; i < posted; i++) {
		struct fake_job j;

		done += fake_server_wait(s[i], &j) == 0;
	}
	KT_EXPECT_EQ(done, n);
	return done == n;
}

KTEST(block, claims_race_between_cpus)
{
	static const unsigned which[RACERS] = { 0, 1, 2, 0 };
	struct family f;

	SETUP();
	KT_ASSERT(family_get(kt, &f));
	overlaps = 0;
	for (unsigned i = 0; i < RACERS; i++) {
		struct blkdev *devs[3] = { f.disk, f.p1, f.p3 };

		claim_racers[i] = (struct claim_racer){ .dev = devs[which[i]], .which = which[i] };
		snprintf(claim_racers[i].name, sizeof(claim_racers[i].name), "racer %u", i);
	}
	KT_ASSERT(race(kt, claim_racer_fn, claim_racers, sizeof(claim_racers[0]), RACERS));
	KT_EXPECT_EQ(load(&overlaps), 0);
	for (unsigned i = 0; i < RACERS; i++)
		KT_EXPECT(claim_racers[i].wins > 0);
	KT_EXPECT(unclaimed(f.disk) && unclaimed(f.p1) && unclaimed(f.p3));
}

/* ------------------------------------------------------------ registration */

/*
 * Disks registered from several CPUs at once, each named by the registry:
 * four with the prefix "rr" and two that both ask for the name "rrz".  Once
 * per boot (there is no unregister): later runs check what the first did.
 */
#define REG_RACERS 6

struct reg_racer {
	struct fake *f;
	int rc;
};

static struct reg_racer reg_racers[REG_RACERS];
static int reg_raced = 1; /* 1: not yet; else 0 or why the fakes are missing */

static void reg_racer_fn(void *arg)
{
	struct reg_racer *r = arg;

	waitgroup_wait(&race_go, 0);
	r->rc = blkdev_register(&r->f->disk, "rr");
}

static int reg_race(struct ktest_ctx *kt)
{
	for (unsigned i = 0; i < REG_RACERS; i++) {
		reg_racers[i] = (struct reg_racer){ .f = fake_make(8), .rc = 1 };
		if (!reg_racers[i].f)
			return -ENOMEM;
		if (i >= 4)
			strlcpy(reg_racers[i].f->disk.name, "rrz", BLK_NAME_MAX);
	}
	return race(kt, reg_racer_fn, reg_racers, sizeof(reg_racers[0]), REG_RACERS) ? 0 :
									      -ETIMEDOUT;
}

KTEST(block, concurrent_registration_names_each_disk_once)
{
	char seen[4] = { 0 };
	unsigned named = 0, explicit_ok = 0;

	SETUP();
	if (reg_raced == 1)
		reg_raced = reg_race(kt);
	KT_ASSERT_EQ(reg_raced, 0);
	for (unsigned i = 0; i < REG_RACERS; i++) {
		struct reg_racer *r = &reg_racers[i];
		const char *name = blkdev_name(&r->f->disk);

		if (i >= 4) { /* the same name asked twice: one gets it */
			KT_EXPECT(r->rc == 0 || r->rc == -EEXIST);
			explicit_ok += r->rc == 0;
			if (r->rc == 0)
				KT_EXPECT(blkdev_find("rrz") == &r->f->disk);
			continue;
		}
		KT_EXPECT_EQ(r->rc, 0);
		if (r->rc)
			continue;
		KT_EXPECT(blkdev_find(name) == &r->f->disk); /* nobody else is called so */
		KT_EXPECT(strlen(name) == 3 && !strncmp(name, "rr", 2) && name[2] >= 'a' &&
			  name[2] <= 'd');
		if (name[2] >= 'a' && name[2] <= 'd') {
			KT_EXPECT(!seen[name[2] - 'a']);
			seen[name[2] - 'a'] = 1;
			named++;
		}
	}
	KT_EXPECT_EQ(named, 4);
	KT_EXPECT_EQ(explicit_ok, 1);
	for (unsigned i = 0; i < REG_RACERS; i++)
		KT_EXPECT_EQ(fake_count(&reg_racers[i].f->violations), 0);
}

/* --------------------------------------------------------------- empty disk */

static struct fake *empty_fake;
static int empty_rc = 1;          /* 1: not yet registered */
static struct blk_req empty_req;  /* static: it outlives the test should the layer take it */

static void register_empty(void *arg)
{
	(void)arg;
	empty_rc = blkdev_register(&empty_fake->disk, "re");
}

KTEST(block, an_empty_disk_registers_and_refuses_io)
{
	struct blkdev *d;
	u8 buf[FAKE_SECTOR];

	SETUP();
	if (empty_rc == 1) {
		struct fake_job j = { .kind = FAKE_JOB_FN, .fn = register_empty };

		empty_fake = fake_make(0);
		KT_ASSERT(empty_fake != NULL);
		KT_ASSERT_EQ(fake_job_run(&j), 0);
	}
	KT_ASSERT_EQ(empty_rc, 0);
	d = &empty_fake->disk;
	KT_EXPECT_STREQ(blkdev_name(d), "rea");
	KT_EXPECT_EQ(blkdev_sectors(d), 0);
	KT_EXPECT_EQ(blkdev_bytes(d), 0);
	KT_EXPECT(blkdev_next(d) == NULL || !blkdev_is_partition(blkdev_next(d)));
	KT_EXPECT_EQ(fake_count(&empty_fake->accepted), 0); /* no partition table was read */
	empty_req = (struct blk_req){ .op = BLK_READ, .count = 1, .buf = buf };
	KT_EXPECT_EQ(blk_submit(d, &empty_req), -EINVAL);
	KT_EXPECT_EQ(fake_io(d, BLK_READ, 0, 1, buf), -EINVAL);
	KT_EXPECT_EQ(fake_io(d, BLK_WRITE, 0, 1, buf), -EINVAL);
	expect_line(kt, "diskread rea 0", "diskread: rea is empty (0 sectors)", -ENXIO);
	expect_line(kt, "diskwrite rea 0 00", "diskwrite: rea is empty (0 sectors)", -ENXIO);
	expect_line(kt, "diskbench rea", "diskbench: rea is empty (0 sectors)", -ENXIO);
	KT_EXPECT_EQ(fake_count(&empty_fake->accepted), 0);
	KT_EXPECT_EQ(fake_count(&empty_fake->violations), 0);
}

/* A disk whose name ends in a digit gets "p" before its partition numbers,
 * so that its partition 1 can never take the name of a disk "<name>1". */
KTEST(block, partitions_of_a_disk_named_with_a_digit)
{
	static bool registered;

	if (!registered) {
		struct fake *f = fake_make(1024);

		KT_ASSERT(f);
		fake_write_mbr(f->mem, true);
		strlcpy(f->disk.name, "rd7", BLK_NAME_MAX);
		KT_ASSERT_EQ(blkdev_register(&f->disk, "rd"), 0);
		registered = true;
	}
	KT_EXPECT(blkdev_find("rd7p1") != NULL);
	KT_EXPECT(blkdev_find("rd7p3") != NULL);
	KT_EXPECT(blkdev_find("rd71") == NULL);
	KT_ASSERT_EQ(blk_fake_setup(), 0);
	KT_EXPECT(blkdev_find("rta1") != NULL); /* a name ending in a letter: no "p" */
}
