/*
 * test_acpi.c — the ACPI table parser (drivers/acpi_tables.c) against the
 * tables QEMU really builds, and against hostile copies of them.
 *
 * The real tables come from tests/unit/acpi_data.h (captured by
 * scripts/capture-acpi.py from `-machine pc -smp 4` and `-machine q35
 * -smp 2,maxcpus=4`).  A test rebuilds the machine's physical memory as a
 * list of regions {name, phys, bytes, len}; fake_map() serves a range only
 * when it lies wholly inside one region, exactly as a careful kernel glue
 * would refuse to map what is not there.
 *
 * Hostile copies are written into the tail of a dedicated static buffer
 * (tight_copy()), so the byte after the copy is the end of a global object:
 * on the host ASan reports any read past it as a global-buffer-overflow,
 * which turns "the parser never reads out of bounds" into a checked fact.
 * Each slot is its own global because ASan puts redzones between globals,
 * not between the rows of one array.
 *
 * Expected values were read off the captured bytes: IO APIC 0 at 0xFEC00000
 * GSI 0, ISA overrides IRQ0->GSI2 and IRQ5/9/10/11 level-high, LAPIC
 * 0xFEE00000, PM1a_CNT 0x604, q35 reset register I/O 0xCF9 value 0x0F (not
 * 0x06), \_S5 = Package(4){0, 0, 0, 0}.
 *
 * No malloc, no libc: the file also runs inside the kernel at boot.
 */
#include "drivers/acpi_tables.h"
#include "drivers/acpi_wire.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "tests/unit/acpi_data.h"

/* ---- fake physical memory ----------------------------------------------- */

#define FAKE_MAX_REGIONS 16

struct fake_region {
	const char *name;
	u64 phys;
	const u8 *data;
	size_t len;
};

static struct fake_region regions[FAKE_MAX_REGIONS];
static unsigned nregions;

static const void *fake_map(void *ctx, u64 phys, size_t len)
{
	unsigned i;

	for (i = 0; i < nregions; i++) {
		const struct fake_region *r = &regions[i];

		if (phys >= r->phys && phys - r->phys <= r->len &&
		    len <= r->len - (phys - r->phys))
			return r->data + (phys - r->phys);
	}
	return NULL;
}

/* Replace the region called @name, or add it. */
static void fake_set(const char *name, u64 phys, const u8 *data, size_t len)
{
	unsigned i;

	for (i = 0; i < nregions; i++)
		if (!strcmp(regions[i].name, name))
			break;
	if (i == nregions && nregions < FAKE_MAX_REGIONS)
		nregions++;
	if (i < FAKE_MAX_REGIONS)
		regions[i] = (struct fake_region){ name, phys, data, len };
}

static void fake_drop(const char *name)
{
	unsigned i;

	for (i = 0; i < nregions; i++) {
		if (!strcmp(regions[i].name, name)) {
			regions[i] = regions[--nregions];
			return;
		}
	}
}

static const struct acpi_test_blob *blob(const struct acpi_test_machine *m, const char *name)
{
	unsigned i;

	for (i = 0; i < m->nblobs; i++)
		if (!strcmp(m->blobs[i].name, name))
			return &m->blobs[i];
	return NULL;
}

static void load(const struct acpi_test_machine *m)
{
	unsigned i;

	nregions = 0;
	for (i = 0; i < m->nblobs; i++)
		fake_set(m->blobs[i].name, m->blobs[i].phys, m->blobs[i].data, m->blobs[i].len);
}

/* ---- tight copies ------------------------------------------------------- */

#define TIGHT_MAX 9216 /* the largest captured table (q35 DSDT) fits */

static u8 tight0[TIGHT_MAX], tight1[TIGHT_MAX], tight2[TIGHT_MAX], tight3[TIGHT_MAX];
static u8 *const tight_slots[] = { tight0, tight1, tight2, tight3 };

/* @len bytes ending exactly at the end of slot @slot, zeroed. */
static u8 *tight_alloc(unsigned slot, size_t len)
{
	u8 *p = tight_slots[slot] + TIGHT_MAX - len;

	memset(p, 0, len);
	return p;
}

/* The first @len bytes of @src (zero-padded past @src_len) in slot @slot. */
static u8 *tight_copy(unsigned slot, const u8 *src, size_t src_len, size_t len)
{
	u8 *p = tight_alloc(slot, len);

	memcpy(p, src, MIN(src_len, len));
	return p;
}

static void fix_checksum(u8 *t, size_t len)
{
	t[9] = 0;
	t[9] = (u8)-acpi_checksum(t, len);
}

static void set_length(u8 *t, u32 len)
{
	put_le32(t + 4, len);
}

/* A writable tight copy of a machine's table, installed in fake memory. */
static u8 *install_copy(unsigned slot, const struct acpi_test_machine *m, const char *name,
			size_t len)
{
	const struct acpi_test_blob *b = blob(m, name);
	u8 *t = tight_copy(slot, b->data, b->len, len);

	fake_set(b->name, b->phys, t, len);
	return t;
}

/* ---- running the parser ------------------------------------------------- */

struct warns {
	unsigned n;
	char text[2048]; /* every line, '\n'-separated (truncated when long) */
};

static struct warns warns;
static struct acpi_info info;

static void collect(void *arg, const char *msg)
{
	struct warns *w = arg;

	w->n++;
	strlcat(w->text, msg, sizeof(w->text));
	strlcat(w->text, "\n", sizeof(w->text));
}

static bool warned(const char *needle)
{
	return strstr(warns.text, needle) != NULL;
}

static int parse_with(const u8 *rsdp, size_t rsdp_len)
{
	struct acpi_mem mem = { fake_map, NULL };

	memset(&warns, 0, sizeof(warns));
	return acpi_parse(&mem, rsdp, rsdp_len, &info, collect, &warns);
}

static int parse(const struct acpi_test_machine *m)
{
	const struct acpi_test_blob *r = blob(m, "RSDP");

	return parse_with(r->data, r->len);
}

static const struct acpi_table_rec *table(const char *sig)
{
	unsigned i;

	for (i = 0; i < info.ntables; i++)
		if (!strcmp(info.tables[i].signature, sig))
			return &info.tables[i];
	return NULL;
}

static const struct acpi_irq_override *override_of(u8 irq)
{
	unsigned i;

	for (i = 0; i < info.noverrides; i++)
		if (info.overrides[i].source_irq == irq)
			return &info.overrides[i];
	return NULL;
}

/* Every count within its cap and every decoded value in range. */
static bool info_sane(void)
{
	return info.ntables <= ACPI_MAX_TABLES && info.ncpus <= ACPI_MAX_CPUS &&
	       info.ncpus_enabled <= info.ncpus && info.nioapics <= ACPI_MAX_IOAPICS &&
	       info.noverrides <= ACPI_MAX_OVERRIDES &&
	       info.nnmi_sources <= ACPI_MAX_NMI_SOURCES &&
	       info.nlapic_nmis <= ACPI_MAX_LAPIC_NMIS && info.nmcfg <= ACPI_MAX_MCFG &&
	       info.slp_typa <= 7 && info.slp_typb <= 7 &&
	       (info.have_s5 == (info.s5_status == 0)) &&
	       warns.n <= ACPI_MAX_WARNINGS + 1;
}

/* ---- the machines as QEMU built them ------------------------------------ */

/* What the pc and q35 MADTs share: QEMU builds both the same way. */
static void expect_qemu_madt(struct ktest_ctx *kt, const struct acpi_test_machine *m)
{
	const struct acpi_irq_override *o;
	unsigned i;

	KT_EXPECT(info.have_madt);
	KT_EXPECT_EQ(info.lapic_addr, 0xFEE00000u);
	KT_EXPECT(info.pcat_compat);
	KT_EXPECT_EQ(info.ncpus_enabled, m->cpus_enabled);
	KT_EXPECT_EQ(info.ncpus + info.ncpus_ignored, m->cpus);
	for (i = 0; i < info.ncpus; i++) {
		KT_EXPECT_EQ(info.cpus[i].apic_id, i);
		KT_EXPECT_EQ(info.cpus[i].uid, i);
		KT_EXPECT(!info.cpus[i].x2apic);
	}
	KT_ASSERT_EQ(info.nioapics, 1);
	KT_EXPECT_EQ(info.ioapics[0].id, 0);
	KT_EXPECT_EQ(info.ioapics[0].address, 0xFEC00000u);
	KT_EXPECT_EQ(info.ioapics[0].gsi_base, 0);
	KT_EXPECT_EQ(info.noverrides, 5);
	o = override_of(0);
	KT_ASSERT(o);
	KT_EXPECT_EQ(o->gsi, 2);
	KT_EXPECT_EQ(o->bus, 0);
	KT_EXPECT_EQ(o->flags, 0);
	o = override_of(9);
	KT_ASSERT(o);
	KT_EXPECT_EQ(o->gsi, 9);
	KT_EXPECT_EQ(o->flags & ACPI_INTI_POLARITY_MASK, ACPI_INTI_POLARITY_HIGH);
	KT_EXPECT_EQ(o->flags & ACPI_INTI_TRIGGER_MASK, ACPI_INTI_TRIGGER_LEVEL);
	KT_EXPECT(override_of(5) && override_of(10) && override_of(11));
	KT_EXPECT_EQ(info.nnmi_sources, 0);
	KT_ASSERT_EQ(info.nlapic_nmis, 1);
	KT_EXPECT_EQ(info.lapic_nmis[0].uid, ACPI_UID_ALL);
	KT_EXPECT_EQ(info.lapic_nmis[0].lint, 1);
}

static void expect_qemu_fadt_common(struct ktest_ctx *kt)
{
	const struct acpi_fadt_info *f = &info.fadt;

	KT_EXPECT(info.have_fadt);
	KT_EXPECT_EQ(f->dsdt_phys, 0x1ffe0040u);
	KT_EXPECT_EQ(f->facs_phys, 0x1ffe0000u);
	KT_EXPECT_EQ(f->sci_irq, 9);
	KT_EXPECT_EQ(f->smi_cmd, 0xB2);
	KT_EXPECT_EQ(f->pm1a_evt_port, 0x600);
	KT_EXPECT_EQ(f->pm1a_cnt_port, 0x604);
	KT_EXPECT_EQ(f->pm1b_evt_port, 0);
	KT_EXPECT_EQ(f->pm1b_cnt_port, 0);
	KT_EXPECT_EQ(f->pm_tmr_port, 0x608);
	KT_EXPECT_EQ(f->pm1_evt_len, 4);
	KT_EXPECT_EQ(f->pm1_cnt_len, 2);
	KT_EXPECT_EQ(f->pm_tmr_len, 4);
	KT_EXPECT(!f->pm_tmr_32bit); /* a 24-bit PM timer */
	KT_EXPECT(!f->hw_reduced);
	KT_EXPECT(info.have_s5);
	KT_EXPECT_EQ(info.s5_status, 0);
	KT_EXPECT_EQ(info.slp_typa, 0);
	KT_EXPECT_EQ(info.slp_typb, 0);
	KT_EXPECT(info.have_hpet);
	KT_EXPECT_EQ(info.hpet_addr, 0xFED00000u);
	KT_EXPECT_EQ(info.hpet_block_id, 0x8086A201u);
}

KTEST(acpi, qemu_pc)
{
	const struct acpi_fadt_info *f = &info.fadt;

	load(&acpi_machine_pc);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(warns.n, 0);
	KT_EXPECT_EQ(info.warnings, 0);
	KT_EXPECT_EQ(info.rsdp_revision, 0);
	KT_EXPECT_STREQ(info.rsdp_oem_id, "BOCHS");
	KT_EXPECT_EQ(info.rsdp_phys, 0); /* a copy was passed */
	KT_EXPECT_STREQ(info.root_sig, "RSDT");
	KT_EXPECT_EQ(info.root_phys, blob(&acpi_machine_pc, "RSDT")->phys);
	expect_qemu_madt(kt, &acpi_machine_pc);
	KT_EXPECT_EQ(info.ncpus, 4);
	KT_EXPECT_EQ(info.ncpus_ignored, 0);
	expect_qemu_fadt_common(kt);
	/* QEMU's pc FADT is the 116-byte ACPI 1.0 one: no reset register. */
	KT_EXPECT_EQ(f->revision, 1);
	KT_EXPECT_EQ(f->length, 116);
	KT_EXPECT_EQ(f->acpi_enable, 0xF1);  /* PIIX4 */
	KT_EXPECT_EQ(f->acpi_disable, 0xF0);
	KT_EXPECT(!f->reset_reg_present);
	KT_EXPECT(!f->reset_supported);
	KT_EXPECT(!f->boot_arch_valid);
	KT_EXPECT(f->has_8042);
	KT_EXPECT(!f->vga_not_present);
	KT_EXPECT(!info.have_mcfg);
}

KTEST(acpi, qemu_q35)
{
	const struct acpi_fadt_info *f = &info.fadt;

	load(&acpi_machine_q35);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT_EQ(warns.n, 0);
	expect_qemu_madt(kt, &acpi_machine_q35);
	/* -smp 2,maxcpus=4: two CPUs listed with neither flag set. */
	KT_EXPECT_EQ(info.ncpus, 2);
	KT_EXPECT_EQ(info.ncpus_ignored, 2);
	expect_qemu_fadt_common(kt);
	KT_EXPECT_EQ(f->revision, 3);
	KT_EXPECT_EQ(f->length, 244);
	KT_EXPECT_EQ(f->acpi_enable, 0x02);  /* ICH9 */
	KT_EXPECT_EQ(f->acpi_disable, 0x03);
	KT_EXPECT(f->reset_reg_present);
	KT_EXPECT(f->reset_supported);
	KT_EXPECT_EQ(f->reset_reg.space_id, ACPI_GAS_IO);
	KT_EXPECT_EQ(f->reset_reg.bit_width, 8);
	KT_EXPECT_EQ(f->reset_reg.address, 0xCF9);
	KT_EXPECT_EQ(f->reset_value, 0x0F);
	KT_EXPECT(f->boot_arch_valid);
	KT_EXPECT_EQ(f->iapc_boot_arch, ACPI_BOOT_8042);
	KT_EXPECT(f->has_8042);
	KT_EXPECT(!f->vga_not_present);
	KT_ASSERT(info.have_mcfg);
	KT_ASSERT_EQ(info.nmcfg, 1);
	KT_EXPECT_EQ(info.mcfg[0].base, 0xB0000000u);
	KT_EXPECT_EQ(info.mcfg[0].segment, 0);
	KT_EXPECT_EQ(info.mcfg[0].start_bus, 0);
	KT_EXPECT_EQ(info.mcfg[0].end_bus, 255);
}

KTEST(acpi, table_list)
{
	static const char *const order[] = { "RSDT", "FACP", "APIC", "HPET", "WAET", "DSDT" };
	unsigned i;

	load(&acpi_machine_pc);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_ASSERT_EQ(info.ntables, ARRAY_SIZE(order));
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		const struct acpi_table_rec *t = &info.tables[i];
		const struct acpi_test_blob *b = blob(&acpi_machine_pc, order[i]);

		KT_EXPECT_STREQ(t->signature, order[i]);
		KT_EXPECT_EQ(t->phys, b->phys);
		KT_EXPECT_EQ(t->length, b->len);
		KT_EXPECT_EQ(t->revision, b->data[8]);
		KT_EXPECT_STREQ(t->oem_id, "BOCHS");
		KT_EXPECT_EQ(t->status, 0);
	}
	KT_EXPECT_STREQ(table("APIC")->oem_table_id, "BXPC");
}

KTEST(acpi, scan_bios_area)
{
	load(&acpi_machine_pc);
	KT_ASSERT_EQ(parse_with(NULL, 0), 0);
	KT_EXPECT_EQ(warns.n, 0);
	KT_EXPECT_EQ(info.rsdp_phys, acpi_machine_pc.rsdp_phys);
	KT_EXPECT_EQ(info.ncpus, 4);
	KT_EXPECT_EQ(info.fadt.pm1a_cnt_port, 0x604);

	load(&acpi_machine_q35);
	KT_ASSERT_EQ(parse_with(NULL, 0), 0);
	KT_EXPECT_EQ(info.rsdp_phys, acpi_machine_q35.rsdp_phys);
	KT_EXPECT(info.have_mcfg);
}

KTEST(acpi, scan_ebda_first_and_decoys)
{
	static u8 bda[2];
	const struct acpi_test_blob *r = blob(&acpi_machine_pc, "RSDP");
	u8 *decoy, *in_ebda;

	load(&acpi_machine_pc);
	/* A signature with a bad checksum in the BIOS area is passed over. */
	decoy = install_copy(0, &acpi_machine_pc, "RSDP", r->len);
	decoy[8] ^= 1;
	fake_set("decoy", 0xE0000, decoy, r->len);
	fake_set("RSDP", r->phys, r->data, r->len);
	KT_ASSERT_EQ(parse_with(NULL, 0), 0);
	KT_EXPECT_EQ(info.rsdp_phys, r->phys);
	KT_EXPECT(warned("RSDP at 0xe0000: bad checksum"));

	/* An RSDP in the EBDA's first KiB wins over the BIOS area's. */
	put_le16(bda, 0x9FC0);
	fake_set("BDA40E", 0x40E, bda, sizeof(bda));
	in_ebda = tight_copy(1, r->data, r->len, r->len);
	fake_set("ebda", 0x9FC00 + 0x3F0, in_ebda, r->len);
	KT_ASSERT_EQ(parse_with(NULL, 0), 0);
	KT_EXPECT_EQ(info.rsdp_phys, 0x9FC00 + 0x3F0);

	/* Past the first KiB it is not looked at. */
	fake_set("ebda", 0x9FC00 + 0x400, in_ebda, r->len);
	KT_ASSERT_EQ(parse_with(NULL, 0), 0);
	KT_EXPECT_EQ(info.rsdp_phys, r->phys);
}

KTEST(acpi, no_rsdp_anywhere)
{
	load(&acpi_machine_pc);
	fake_drop("RSDP");
	KT_EXPECT_EQ(parse_with(NULL, 0), -ENOENT);
	KT_EXPECT(warned("no RSDP"));
	nregions = 0;
	KT_EXPECT_EQ(parse_with(NULL, 0), -ENOENT);
	KT_EXPECT_EQ(info.ncpus, 0);
}

KTEST(acpi, null_arguments)
{
	struct acpi_mem none = { NULL, NULL }, mem = { fake_map, NULL };
	const u8 *rsdp = blob(&acpi_machine_pc, "RSDP")->data;

	KT_EXPECT_EQ(acpi_parse(NULL, NULL, 0, &info, NULL, NULL), -EINVAL);
	KT_EXPECT_EQ(acpi_parse(&none, NULL, 0, &info, NULL, NULL), -EINVAL);
	KT_EXPECT_EQ(acpi_parse(&none, NULL, 0, NULL, NULL, NULL), -EINVAL);
	/* No warn callback: problems are only counted. */
	load(&acpi_machine_pc);
	fake_drop("APIC");
	KT_EXPECT_EQ(acpi_parse(&mem, rsdp, 20, &info, NULL, NULL), 0);
	KT_EXPECT_EQ(info.warnings, 1);
	KT_EXPECT(!info.have_madt);
}

/* ---- bad checksums, lengths, signatures --------------------------------- */

KTEST(acpi, bad_checksum_madt)
{
	const struct acpi_table_rec *rec;
	u8 *t;

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "APIC", 144);
	t[50] ^= 0x40;
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(!info.have_madt);
	KT_EXPECT_EQ(info.ncpus, 0);
	KT_EXPECT(warned("APIC at 0x1ffe1acb: bad checksum; skipped"));
	rec = table("APIC");
	KT_ASSERT(rec);
	KT_EXPECT_EQ(rec->status, -EBADMSG);
	KT_EXPECT(info.have_fadt); /* the others are still used */
	KT_EXPECT(info.have_s5);
}

KTEST(acpi, bad_checksum_fadt)
{
	u8 *t;

	load(&acpi_machine_q35);
	t = install_copy(0, &acpi_machine_q35, "FACP", 244);
	t[0x80] = 0x06;  /* a "friendlier" reset value, checksum left alone */
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT(!info.have_fadt);
	KT_EXPECT(!info.fadt.reset_supported);
	KT_EXPECT(warned("FACP at 0x1ffe2193: bad checksum"));
	/* Without a FADT there is no DSDT, hence no \_S5. */
	KT_EXPECT(!info.have_s5);
	KT_EXPECT_EQ(info.s5_status, -ENOENT);
	KT_EXPECT(info.have_madt && info.have_mcfg);
}

KTEST(acpi, bad_checksum_rsdt_and_rsdp)
{
	const struct acpi_test_blob *r = blob(&acpi_machine_pc, "RSDP");
	u8 *t, *rsdp;

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "RSDT", 52);
	t[40] += 1;
	KT_EXPECT_EQ(parse(&acpi_machine_pc), -EINVAL);
	KT_EXPECT(warned("RSDT at 0x1ffe1bbb: bad checksum"));
	KT_EXPECT_EQ(info.ncpus, 0);
	KT_EXPECT(!info.have_fadt);

	load(&acpi_machine_pc);
	rsdp = tight_copy(1, r->data, r->len, r->len);
	rsdp[19] ^= 0x01;
	KT_EXPECT_EQ(parse_with(rsdp, r->len), -EINVAL);
	KT_EXPECT(warned("bad checksum"));
	/* The same corruption in memory: the scan finds nothing it may use. */
	fake_set("RSDP", r->phys, rsdp, r->len);
	KT_EXPECT_EQ(parse_with(NULL, 0), -ENOENT);
	/* Too short a copy, and a copy that is not an RSDP at all. */
	KT_EXPECT_EQ(parse_with(r->data, 19), -EINVAL);
	KT_EXPECT_EQ(parse_with(blob(&acpi_machine_pc, "RSDT")->data, 20), -EINVAL);
}

KTEST(acpi, length_past_readable_memory)
{
	u8 *t;

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "APIC", 144);
	set_length(t, 144 + 100);
	fix_checksum(t, 144);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(!info.have_madt);
	KT_EXPECT(warned("APIC at 0x1ffe1acb: length 244 runs past readable memory"));
	KT_EXPECT_EQ(table("APIC")->status, -EFAULT);

	/* The root table itself running past memory. */
	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "RSDT", 52);
	set_length(t, 56);
	KT_EXPECT_EQ(parse(&acpi_machine_pc), -EINVAL);
	KT_EXPECT(warned("RSDT at 0x1ffe1bbb: length 56 runs past"));

	/* A root entry pointing nowhere. */
	load(&acpi_machine_pc);
	fake_drop("HPET");
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(warned("header not readable"));
	KT_EXPECT(!info.have_hpet && info.have_madt);
}

/*
 * Found by tests/fuzz/fuzz_acpi.c: the header is read through one mapping
 * (36 bytes) and the table through another (its whole length), and the
 * decoders took the length from the second, which had never been checked.
 * Here the longer range is served by a second region whose header claims
 * far more than it holds (the bytes at one address differ between the two
 * reads, as memory changing under the parser would make them); the table
 * must be skipped, and nothing read past either copy (ASan on the host).
 */
KTEST(acpi, header_that_differs_between_reads_is_skipped)
{
	const struct acpi_test_blob *b;
	u8 *t;

	load(&acpi_machine_pc);
	b = blob(&acpi_machine_pc, "RSDT");
	install_copy(0, &acpi_machine_pc, "RSDT", 40);  /* the header; says 52 */
	t = tight_copy(1, b->data, b->len, b->len);
	set_length(t, 4000);
	fix_checksum(t, b->len);
	fake_set("RSDT again", b->phys, t, b->len);     /* the 52 bytes, saying 4000 */
	KT_EXPECT_EQ(parse(&acpi_machine_pc), -EINVAL);
	KT_EXPECT(warned("RSDT at 0x1ffe1bbb: header changed while it was read; skipped"));
	KT_EXPECT_EQ(table("RSDT")->status, -EFAULT);

	/* The same for a table the root lists: the MADT's entries past its end. */
	load(&acpi_machine_pc);
	b = blob(&acpi_machine_pc, "APIC");
	install_copy(0, &acpi_machine_pc, "APIC", 40);
	t = tight_copy(1, b->data, b->len, b->len);
	set_length(t, 2000);
	fix_checksum(t, b->len);
	fake_set("APIC again", b->phys, t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(!info.have_madt && info.ncpus == 0);
	KT_EXPECT(warned("APIC at 0x1ffe1acb: header changed while it was read"));
	KT_EXPECT_EQ(table("APIC")->status, -EFAULT);
	KT_EXPECT(info.have_fadt && info.have_hpet);    /* the others still decoded */
}

KTEST(acpi, length_shorter_than_header_or_fixed_part)
{
	static const u32 lens[] = { 0, 1, 20, 35, 36, 40, 43 };
	unsigned i;
	u8 *t;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		load(&acpi_machine_pc);
		t = install_copy(0, &acpi_machine_pc, "APIC", 144);
		set_length(t, lens[i]);
		fix_checksum(t, 144);
		KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
		KT_EXPECT(!info.have_madt);
		KT_EXPECT(warned("is shorter than its fixed part (44)"));
	}
	/* A FADT shorter than the ACPI 1.0 116 bytes. */
	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "FACP", 100);
	set_length(t, 100);
	fix_checksum(t, 100);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(!info.have_fadt);
	KT_EXPECT(warned("FACP at 0x1ffe1a57: length 100 is shorter than its fixed part (116)"));
	/* A root table shorter than a header. */
	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "RSDT", 52);
	set_length(t, 30);
	fix_checksum(t, 52);
	KT_EXPECT_EQ(parse(&acpi_machine_pc), -EINVAL);
}

KTEST(acpi, length_implausibly_large)
{
	u8 *t;

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "APIC", 144);
	set_length(t, 0x80000000u);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(!info.have_madt);
	KT_EXPECT(warned("implausibly large"));
	KT_EXPECT_EQ(table("APIC")->status, -EFBIG);
}

KTEST(acpi, wrong_signature_for_dsdt_and_root)
{
	u8 *t;

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "DSDT", blob(&acpi_machine_pc, "DSDT")->len);
	memcpy(t, "SSDT", 4);
	fix_checksum(t, blob(&acpi_machine_pc, "DSDT")->len);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(!info.have_s5);
	KT_EXPECT(warned("signature \"SSDT\", expected DSDT"));

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "RSDT", 52);
	t[0] = 0x01; /* unprintable: shown as '?' */
	fix_checksum(t, 52);
	KT_EXPECT_EQ(parse(&acpi_machine_pc), -EINVAL);
	KT_EXPECT(warned("signature \"?SDT\", expected RSDT"));
}

KTEST(acpi, duplicate_tables_first_wins)
{
	const struct acpi_test_blob *r = blob(&acpi_machine_pc, "RSDT");
	u8 *rsdt;

	load(&acpi_machine_pc);
	rsdt = tight_copy(0, r->data, r->len, r->len + 4);
	put_le32(rsdt + r->len, blob(&acpi_machine_pc, "APIC")->phys);
	set_length(rsdt, r->len + 4);
	fix_checksum(rsdt, r->len + 4);
	fake_set("RSDT", r->phys, rsdt, r->len + 4);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(info.ncpus, 4);          /* not 4 + 4 duplicates */
	KT_EXPECT_EQ(info.ntables, 7);
	KT_EXPECT_EQ(info.tables[5].status, -EEXIST);
	KT_EXPECT(warned("a second APIC; ignored"));
}

/* ---- MADT entries ------------------------------------------------------- */

KTEST(acpi, madt_entry_length_zero)
{
	u8 *t;

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "APIC", 144);
	t[44 + 2 * 8 + 1] = 0; /* the third local APIC entry */
	fix_checksum(t, 144);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(info.have_madt);
	KT_EXPECT_EQ(info.ncpus, 2); /* what came before is kept */
	KT_EXPECT_EQ(info.nioapics, 0);
	KT_EXPECT(warned("MADT: entry at offset 60 has length 0"));

	t[44 + 2 * 8 + 1] = 1;
	fix_checksum(t, 144);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(info.ncpus, 2);
	KT_EXPECT(warned("has length 1"));
}

KTEST(acpi, madt_entry_past_end)
{
	u8 *t;

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "APIC", 144);
	t[138 + 1] = 7; /* the last entry, the 6-byte local APIC NMI */
	fix_checksum(t, 144);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(info.ncpus, 4);
	KT_EXPECT_EQ(info.noverrides, 5);
	KT_EXPECT_EQ(info.nlapic_nmis, 0);
	KT_EXPECT(warned("type 4 entry at offset 138 (length 7) runs past the end (144)"));

	/* A table that ends in the middle of an entry. */
	t = install_copy(0, &acpi_machine_pc, "APIC", 44 + 8 + 5);
	set_length(t, 44 + 8 + 5);
	fix_checksum(t, 44 + 8 + 5);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(info.ncpus, 1);
	KT_EXPECT(warned("runs past the end (57)"));

	/* One stray byte after the last entry. */
	t = install_copy(0, &acpi_machine_pc, "APIC", 44 + 8 + 1);
	set_length(t, 44 + 8 + 1);
	fix_checksum(t, 44 + 8 + 1);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(info.ncpus, 1);
	KT_EXPECT(warned("1 stray byte"));
}

/* Build a table in tight slot @slot: header + @body, checksummed. */
static u8 *build_table(unsigned slot, const char *sig, u8 rev, const u8 *body, size_t blen)
{
	size_t len = sizeof(struct acpi_sdt_header) + blen;
	u8 *t = tight_alloc(slot, len);

	memcpy(t, sig, 4);
	set_length(t, (u32)len);
	t[8] = rev;
	memcpy(t + 10, "NOSTST", 6);
	memcpy(t + 16, "TESTTABL", 8);
	memcpy(t + 36, body, blen);
	fix_checksum(t, len);
	return t;
}

#define RELOC_PHYS 0x10000u

/*
 * Put @t (a table of @len bytes, possibly longer than the original) at an
 * address of its own and point @m's RSDT entry for @name there, so it
 * overlaps no other table.  Uses tight slot 3 for the RSDT.
 */
static void relocate(const struct acpi_test_machine *m, const char *name, const u8 *t,
		     size_t len)
{
	const struct acpi_test_blob *r = blob(m, "RSDT");
	u64 old = blob(m, name)->phys;
	u8 *rsdt = install_copy(3, m, "RSDT", r->len);
	size_t off;

	for (off = 36; off + 4 <= r->len; off += 4)
		if (get_le32(rsdt + off) == old)
			put_le32(rsdt + off, RELOC_PHYS);
	fix_checksum(rsdt, r->len);
	fake_set(blob(m, name)->name, RELOC_PHYS, t, len);
}

static void install_madt(unsigned slot, const u8 *body, size_t blen)
{
	u8 *t = build_table(slot, "APIC", 5, body, blen);

	relocate(&acpi_machine_pc, "APIC", t, 36 + blen);
}

KTEST(acpi, madt_every_entry_type)
{
	static const u8 body[] = {
		0x00, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00,   /* LAPIC, no PC-AT */
		0, 8, 0, 0, 1, 0, 0, 0,                           /* cpu 0 enabled */
		0, 8, 1, 1, 2, 0, 0, 0,                           /* cpu 1 online-capable */
		0, 8, 2, 2, 0, 0, 0, 0,                           /* cpu 2 unusable */
		0, 8, 3, 0, 1, 0, 0, 0,                           /* APIC id 0 again */
		9, 16, 0, 0, 0x00, 0x01, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, /* x2APIC 256 */
		1, 12, 4, 0, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0,  /* IO APIC 4 */
		1, 12, 5, 0, 0x00, 0x10, 0xC0, 0xFE, 24, 0, 0, 0, /* IO APIC 5, GSI 24 */
		1, 12, 6, 0, 0, 0, 0, 0, 48, 0, 0, 0,             /* address 0 */
		1, 8, 7, 0, 0, 0, 0, 0,                           /* too short */
		2, 10, 0, 0, 2, 0, 0, 0, 0, 0,                    /* IRQ0 -> GSI2 */
		2, 10, 0, 16, 16, 0, 0, 0, 0, 0,                  /* IRQ16: not ISA */
		2, 10, 1, 4, 4, 0, 0, 0, 0, 0,                    /* bus 1: not ISA */
		3, 8, 0x0D, 0, 30, 0, 0, 0,                       /* NMI source GSI 30 */
		4, 6, 0xFF, 5, 0, 1,                              /* LINT1 all */
		4, 6, 0x01, 0, 0, 2,                              /* LINT2: bogus */
		10, 12, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,             /* x2APIC NMI uid 7 */
		5, 12, 0, 0, 0, 0, 0xE0, 0xFE, 1, 0, 0, 0,        /* LAPIC at 0x1FEE00000 */
		0x7F, 4, 0, 0,                                    /* unknown type */
		0x10, 3, 0,                                       /* unknown, odd size */
	};

	load(&acpi_machine_pc);
	install_madt(0, body, sizeof(body));
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(info.have_madt);
	KT_EXPECT(!info.pcat_compat);
	KT_EXPECT_EQ(info.lapic_addr, 0x1FEE00000ull);
	KT_ASSERT_EQ(info.ncpus, 3);
	KT_EXPECT_EQ(info.ncpus_enabled, 2);
	KT_EXPECT_EQ(info.ncpus_ignored, 1);
	KT_EXPECT(info.cpus[0].enabled && !info.cpus[0].online_capable);
	KT_EXPECT(!info.cpus[1].enabled && info.cpus[1].online_capable);
	KT_EXPECT_EQ(info.cpus[2].apic_id, 256);
	KT_EXPECT_EQ(info.cpus[2].uid, 7);
	KT_EXPECT(info.cpus[2].x2apic && info.cpus[2].enabled);
	KT_EXPECT(warned("APIC id 0 listed twice"));
	KT_ASSERT_EQ(info.nioapics, 2);
	KT_EXPECT_EQ(info.ioapics[1].id, 5);
	KT_EXPECT_EQ(info.ioapics[1].address, 0xFEC01000u);
	KT_EXPECT_EQ(info.ioapics[1].gsi_base, 24);
	KT_EXPECT(warned("IO APIC 6 at address 0"));
	KT_EXPECT(warned("type 1 entry at offset"));
	KT_EXPECT_EQ(info.noverrides, 1);
	KT_EXPECT(warned("bus 0 IRQ 16 is not an ISA IRQ"));
	KT_EXPECT(warned("bus 1 IRQ 4 is not an ISA IRQ"));
	KT_ASSERT_EQ(info.nnmi_sources, 1);
	KT_EXPECT_EQ(info.nmi_sources[0].gsi, 30);
	KT_EXPECT_EQ(info.nmi_sources[0].flags, 0x0D);
	KT_ASSERT_EQ(info.nlapic_nmis, 2);
	KT_EXPECT_EQ(info.lapic_nmis[0].uid, ACPI_UID_ALL);
	KT_EXPECT_EQ(info.lapic_nmis[0].flags, 5);
	KT_EXPECT_EQ(info.lapic_nmis[1].uid, 7);
	KT_EXPECT_EQ(info.lapic_nmis[1].lint, 0);
	KT_EXPECT(warned("NMI on LINT2"));
}

KTEST(acpi, madt_caps_and_warning_limit)
{
	static u8 body[8 + 100 * 8 + 12 * 12];
	size_t off = 8;
	unsigned i;

	for (i = 0; i < 100; i++, off += 8) {
		u8 e[8] = { 0, 8, (u8)i, (u8)i, 1, 0, 0, 0 };

		memcpy(body + off, e, 8);
	}
	for (i = 0; i < 12; i++, off += 12) {
		u8 e[12] = { 1, 12, (u8)i, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0 };

		memcpy(body + off, e, 12);
	}
	load(&acpi_machine_pc);
	install_madt(0, body, off);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(info.ncpus, ACPI_MAX_CPUS);
	KT_EXPECT_EQ(info.ncpus_enabled, ACPI_MAX_CPUS);
	KT_EXPECT_EQ(info.nioapics, ACPI_MAX_IOAPICS);
	KT_EXPECT(warned("more than 64 CPUs in the MADT"));
	KT_EXPECT(warned("more than 8 IO APICs"));
	KT_EXPECT_EQ(warns.n, 2); /* once per array, not once per entry */

	/* 100 duplicates: 100 problems, 32 lines and a closing count. */
	for (off = 8, i = 0; i < 100; i++, off += 8)
		body[off + 3] = 9;
	install_madt(0, body, 8 + 100 * 8);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(info.ncpus, 1);
	KT_EXPECT_EQ(info.warnings, 99);
	KT_EXPECT_EQ(warns.n, ACPI_MAX_WARNINGS + 1);
	KT_EXPECT(warned("67 more ACPI warnings not shown"));
}

/* ---- FADT --------------------------------------------------------------- */

KTEST(acpi, fadt_every_length)
{
	const struct acpi_test_blob *b = blob(&acpi_machine_q35, "FACP");
	u32 len;
	u8 *t;

	for (len = ACPI_FADT_V1_LEN; len <= b->len; len++) {
		load(&acpi_machine_q35);
		t = install_copy(0, &acpi_machine_q35, "FACP", len);
		set_length(t, len);
		fix_checksum(t, len);
		KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
		KT_ASSERT(info.have_fadt);
		KT_EXPECT_EQ(info.fadt.length, len);
		KT_EXPECT_EQ(info.fadt.dsdt_phys, 0x1ffe0040u);
		KT_EXPECT_EQ(info.fadt.pm1a_cnt_port, 0x604);
		KT_EXPECT_EQ(info.fadt.reset_reg_present, len >= 129);
		KT_EXPECT_EQ(info.fadt.reset_supported, len >= 129);
		KT_EXPECT(info.have_s5);
		KT_EXPECT_EQ(warns.n, 0);
	}
}

KTEST(acpi, fadt_x_fields)
{
	const struct acpi_test_blob *b = blob(&acpi_machine_q35, "FACP");
	u8 *t;

	load(&acpi_machine_q35);
	t = install_copy(0, &acpi_machine_q35, "FACP", b->len);
	/* X_PM1a_CNT_BLK in memory space: the 32-bit port is kept. */
	t[172] = ACPI_GAS_MEMORY;
	/* X_PM1a_EVT_BLK at another I/O port: X_ wins, with a warning. */
	put_le64(t + 148 + 4, 0x700);
	/* X_PM_TMR_BLK beyond 16 bits: not a port. */
	put_le64(t + 208 + 4, 0x12345);
	/* X_DSDT 0: the 32-bit DSDT is used. */
	put_le64(t + 140, 0);
	fix_checksum(t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT_EQ(info.fadt.pm1a_cnt_port, 0x604);
	KT_EXPECT(warned("X_PM1a_CNT_BLK (space 0, 0x604) is not an I/O port; using PM1a_CNT_BLK"));
	KT_EXPECT_EQ(info.fadt.pm1a_evt_port, 0x700);
	KT_EXPECT(warned("PM1a_EVT_BLK 0x600 and X_PM1a_EVT_BLK 0x700 differ"));
	KT_EXPECT_EQ(info.fadt.pm_tmr_port, 0x608);
	KT_EXPECT_EQ(info.fadt.dsdt_phys, 0x1ffe0040u);
	KT_EXPECT(info.have_s5);

	/* X_DSDT and DSDT disagree: X_DSDT is used (here: nothing there). */
	put_le64(t + 140, 0x5000);
	fix_checksum(t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT_EQ(info.fadt.dsdt_phys, 0x5000);
	KT_EXPECT(warned("DSDT 0x1ffe0040 and X_DSDT 0x5000 differ"));
	KT_EXPECT(!info.have_s5);

	/* A legacy port that cannot be an I/O port. */
	put_le64(t + 140, 0);
	put_le32(t + 64, 0x10000);
	memset(t + 172, 0, 12);
	fix_checksum(t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT_EQ(info.fadt.pm1a_cnt_port, 0);
	KT_EXPECT(warned("PM1a_CNT_BLK 0x10000 is not an I/O port"));
}

KTEST(acpi, fadt_revision_gates)
{
	const struct acpi_test_blob *b = blob(&acpi_machine_q35, "FACP");
	u8 *t;

	load(&acpi_machine_q35);
	t = install_copy(0, &acpi_machine_q35, "FACP", b->len);
	/* Revision 1: RESET_REG present but not trusted; boot flags ignored. */
	t[8] = 1;
	fix_checksum(t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT(info.fadt.reset_reg_present);
	KT_EXPECT(!info.fadt.reset_supported);
	KT_EXPECT(!info.fadt.boot_arch_valid);
	KT_EXPECT(info.fadt.has_8042);
	/* Revision 2: reset register usable; boot flags still reserved. */
	t[8] = 2;
	t[109] = ACPI_BOOT_NO_VGA;  /* would say "no 8042, no VGA" */
	fix_checksum(t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT(info.fadt.reset_supported);
	KT_EXPECT(info.fadt.has_8042 && !info.fadt.vga_not_present);
	/* Revision 3: believed. */
	t[8] = 3;
	fix_checksum(t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT(!info.fadt.has_8042 && info.fadt.vga_not_present);
	/* RESET_REG_SUP clear, or the address 0: not supported. */
	t[112 + 1] &= ~(ACPI_FADT_RESET_REG_SUP >> 8);
	fix_checksum(t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT(info.fadt.reset_reg_present && !info.fadt.reset_supported);
	t[112 + 1] |= ACPI_FADT_RESET_REG_SUP >> 8;
	put_le64(t + 120, 0);
	fix_checksum(t, b->len);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT(!info.fadt.reset_supported);
}

/* ---- \_S5 --------------------------------------------------------------- */

/* Offset of "_S5_" in a DSDT body (after the header). */
static size_t s5_offset(const struct acpi_test_blob *dsdt)
{
	size_t i, body = dsdt->len - 36;

	for (i = 0; i + 4 <= body; i++)
		if (!memcmp(dsdt->data + 36 + i, "_S5_", 4))
			return i;
	return 0;
}

static void dsdt_truncations(struct ktest_ctx *kt, const struct acpi_test_machine *m)
{
	const struct acpi_test_blob *d = blob(m, "DSDT");
	size_t body = d->len - 36, k = s5_offset(d), n;
	u8 a, b;
	int rc, want;

	KT_ASSERT(k > 0);
	/* NameOp _S5_ PackageOp 06 04 00 00 00 00: the package ends at k + 11. */
	KT_ASSERT(!memcmp(d->data + 36 + k - 1, "\x08_S5_\x12\x06\x04", 8));
	for (n = 0; n <= body; n++) {
		const u8 *aml = tight_copy(0, d->data + 36, body, n);

		a = b = 0xAA;
		rc = acpi_aml_find_s5(aml, n, &a, &b);
		want = n < k + 4 ? -ENOENT : n < k + 11 ? -EINVAL : 0;
		if (rc != want) {
			ktest_log(kt, "%s: length %zu", m->name, n);
			KT_ASSERT_EQ(rc, want);
		}
		if (!rc)
			KT_ASSERT(a == 0 && b == 0);
	}
}

KTEST(acpi, dsdt_truncated_at_every_length)
{
	dsdt_truncations(kt, &acpi_machine_pc);
	dsdt_truncations(kt, &acpi_machine_q35);
}

KTEST(acpi, dsdt_truncated_whole_parse)
{
	const struct acpi_test_blob *d = blob(&acpi_machine_pc, "DSDT");
	size_t k = s5_offset(d) + 36, len;
	u8 *t;

	for (len = 0; len <= d->len; len += (len + 20 < k || len > k + 20) ? 97 : 1) {
		load(&acpi_machine_pc);
		t = install_copy(0, &acpi_machine_pc, "DSDT", len);
		if (len >= 10) {
			set_length(t, (u32)len);
			fix_checksum(t, len);
		}
		KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
		KT_ASSERT(info_sane());
		if (len < 36) {
			KT_EXPECT(!info.have_s5);
		} else if (len < k + 4) {
			KT_EXPECT_EQ(info.s5_status, -ENOENT);
		} else if (len < k + 11) {
			KT_EXPECT_EQ(info.s5_status, -EINVAL);
			KT_EXPECT(warned("DSDT: \\_S5 package is truncated or malformed"));
		} else {
			KT_EXPECT_EQ(info.s5_status, 0);
		}
		KT_EXPECT(info.have_madt && info.have_fadt);
	}
}

struct aml_case {
	const char *what;
	const u8 *aml;
	size_t len;
	int rc;
	u8 a, b;
};

#define AML(...) (const u8[]){ __VA_ARGS__ }, sizeof((const u8[]){ __VA_ARGS__ })
#define NAME_S5 AML_NAME_OP, '_', 'S', '5', '_'   /* Name(_S5_, ...) */
#define PKG AML_PACKAGE_OP

KTEST(acpi, s5_aml_forms)
{
	const struct aml_case cases[] = {
		{ "zero/one ops", AML(NAME_S5, PKG, 0x04, 0x02, 0x00, 0x01), 0, 0, 1 },
		{ "root prefix, bytes", AML(0x10, AML_NAME_OP, '\\', '_', 'S', '5', '_', PKG, 0x08,
					    0x04, 0x0A, 0x07, 0x0A, 0x05, 0x00, 0x00), 0, 7, 5 },
		{ "word, dword", AML(NAME_S5, PKG, 0x0A, 0x02, 0x0B, 0x03, 0x00,
				     0x0C, 0x06, 0x00, 0x00, 0x00), 0, 3, 6 },
		{ "qword", AML(NAME_S5, PKG, 0x0C, 0x02, 0x0E, 2, 0, 0, 0, 0, 0, 0, 0, 0x00),
		  0, 2, 0 },
		{ "one element holds both", AML(NAME_S5, PKG, 0x05, 0x01, 0x0B, 0x05, 0x06),
		  0, 5, 6 },
		{ "two-byte PkgLength", AML(NAME_S5, PKG, 0x46, 0x00, 0x02, 0x01, 0x01,
					    0, 0, 0, 0, 0, 0), 0, 1, 1 },
		{ "not after NameOp, then real", AML(0x70, '_', 'S', '5', '_',
						     NAME_S5, PKG, 0x05, 0x02, 0x0A, 0x03, 0x00),
		  0, 3, 0 },
		{ "_S5_ first byte", AML('_', 'S', '5', '_', PKG, 0x04, 0x02, 0x00, 0x00),
		  -ENOENT, 0, 0 },
		{ "_S5 only as a reference", AML(0x70, '_', 'S', '5', '_', 0x60), -ENOENT, 0, 0 },
		{ "integer, not a package", AML(NAME_S5, 0x0A, 0x05), -EINVAL, 0, 0 },
		{ "empty package", AML(NAME_S5, PKG, 0x02, 0x00), -EINVAL, 0, 0 },
		{ "PkgLength past the end", AML(NAME_S5, PKG, 0x3F, 0x02, 0x00, 0x00),
		  -EINVAL, 0, 0 },
		{ "PkgLength zero", AML(NAME_S5, PKG, 0x00, 0x02, 0x00, 0x00), -EINVAL, 0, 0 },
		{ "4-byte PkgLength cut", AML(NAME_S5, PKG, 0xC4, 0x00, 0x00), -EINVAL, 0, 0 },
		{ "element past package end", AML(NAME_S5, PKG, 0x03, 0x02, 0x00, 0x00),
		  -EINVAL, 0, 0 },
		{ "byte prefix cut by package", AML(NAME_S5, PKG, 0x04, 0x02, 0x00, 0x0A, 0x05),
		  -EINVAL, 0, 0 },
		{ "string element", AML(NAME_S5, PKG, 0x06, 0x02, 0x0D, 'a', 0, 0x00),
		  -EINVAL, 0, 0 },
		{ "value above 7", AML(NAME_S5, PKG, 0x06, 0x02, 0x0A, 0x08, 0x0A, 0x00),
		  -EINVAL, 0, 0 },
		{ "ones op", AML(NAME_S5, PKG, 0x04, 0x02, 0xFF, 0x00), -EINVAL, 0, 0 },
		{ "name at the very end", AML(NAME_S5), -EINVAL, 0, 0 },
	};
	unsigned i;
	u8 a, b;
	int rc;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct aml_case *c = &cases[i];
		const u8 *aml = tight_copy(0, c->aml, c->len, c->len);

		a = b = 0xAA;
		rc = acpi_aml_find_s5(aml, c->len, &a, &b);
		if (rc != c->rc || (!rc && (a != c->a || b != c->b)))
			ktest_log(kt, "case \"%s\": rc %d a %u b %u", c->what, rc, a, b);
		KT_EXPECT_EQ(rc, c->rc);
		if (!rc && !c->rc) {
			KT_EXPECT_EQ(a, c->a);
			KT_EXPECT_EQ(b, c->b);
		}
	}
	KT_EXPECT_EQ(acpi_aml_find_s5(NULL, 100, &a, &b), -ENOENT);
	KT_EXPECT_EQ(acpi_aml_find_s5(cases[0].aml, 0, &a, &b), -ENOENT);
}

/* Random bytes after a real-looking header: any answer, but in range. */
KTEST(acpi, s5_random_packages)
{
	static const u8 head[] = { 0x08, '_', 'S', '5', '_', 0x12 };
	unsigned iter, i, found = 0;
	u8 a, b;
	int rc;

	for (iter = 0; iter < 4000; iter++) {
		size_t len = sizeof(head) + ktest_rand(kt) % 16;
		u8 *aml = tight_alloc(0, len);

		memcpy(aml, head, sizeof(head));
		for (i = sizeof(head); i < len; i++) {
			u64 r = ktest_rand(kt);

			/* mostly small values, so packages often parse */
			aml[i] = r % 3 ? (u8)(r >> 8) % 16 : (u8)(r >> 8);
		}
		a = b = 0xAA;
		rc = acpi_aml_find_s5(aml, len, &a, &b);
		KT_ASSERT(rc == 0 || rc == -EINVAL);
		if (!rc) {
			KT_ASSERT(a <= 7 && b <= 7);
			found++;
		}
	}
	KT_EXPECT(found > 0);
}

KTEST(acpi, s5_from_ssdt_when_dsdt_has_none)
{
	static const u8 ssdt_body[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x02,
					0x0A, 0x05, 0x0A, 0x05 };
	const struct acpi_test_blob *d = blob(&acpi_machine_pc, "DSDT");
	const struct acpi_test_blob *r = blob(&acpi_machine_pc, "RSDT");
	u8 *dsdt, *ssdt, *rsdt;

	load(&acpi_machine_pc);
	dsdt = install_copy(0, &acpi_machine_pc, "DSDT", d->len);
	dsdt[36 + s5_offset(d) + 2] = 'X'; /* _SX_ */
	fix_checksum(dsdt, d->len);
	ssdt = build_table(1, "SSDT", 2, ssdt_body, sizeof(ssdt_body));
	fake_set("SSDT", 0x3000, ssdt, 36 + sizeof(ssdt_body));
	rsdt = tight_copy(2, r->data, r->len, r->len + 4);
	put_le32(rsdt + r->len, 0x3000);
	set_length(rsdt, r->len + 4);
	fix_checksum(rsdt, r->len + 4);
	fake_set("RSDT", r->phys, rsdt, r->len + 4);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(info.have_s5);
	KT_EXPECT_EQ(info.slp_typa, 5);
	KT_EXPECT_EQ(info.slp_typb, 5);
	KT_EXPECT(table("SSDT") && table("SSDT")->status == 0);

	/* Without the SSDT: nothing found, and nothing to warn about. */
	fake_drop("SSDT");
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(!info.have_s5);
	KT_EXPECT_EQ(info.s5_status, -ENOENT);
	KT_EXPECT_EQ(warns.n, 1); /* the unreadable SSDT only */
}

/* ---- RSDP revisions and the XSDT ---------------------------------------- */

#define XSDT_PHYS 0x2000u

/* A revision-2 RSDP (36 bytes) for the pc tables, naming @xsdt. */
static u8 *make_rsdp_v2(unsigned slot, u64 xsdt)
{
	const struct acpi_test_blob *r = blob(&acpi_machine_pc, "RSDP");
	u8 *p = tight_copy(slot, r->data, r->len, 36);

	p[15] = 2;
	put_le32(p + 20, 36);
	put_le64(p + 24, xsdt);
	p[8] = 0;
	p[8] = (u8)-acpi_checksum(p, 20);
	p[32] = 0;
	p[32] = (u8)-acpi_checksum(p, 36);
	return p;
}

/* An XSDT with the pc RSDT's entries widened to 64 bits, installed. */
static u8 *install_xsdt(unsigned slot)
{
	const struct acpi_test_blob *r = blob(&acpi_machine_pc, "RSDT");
	size_t n = (r->len - 36) / 4, i, len = 36 + 8 * n;
	u8 *x = tight_copy(slot, r->data, 36, len);

	memcpy(x, "XSDT", 4);
	set_length(x, (u32)len);
	for (i = 0; i < n; i++)
		put_le64(x + 36 + 8 * i, get_le32(r->data + 36 + 4 * i));
	fix_checksum(x, len);
	fake_set("XSDT", XSDT_PHYS, x, len);
	return x;
}

KTEST(acpi, rsdp_v2_prefers_xsdt)
{
	u8 *rsdp;

	load(&acpi_machine_pc);
	install_xsdt(1);
	rsdp = make_rsdp_v2(0, XSDT_PHYS);
	KT_ASSERT_EQ(parse_with(rsdp, 36), 0);
	KT_EXPECT_EQ(warns.n, 0);
	KT_EXPECT_EQ(info.rsdp_revision, 2);
	KT_EXPECT_STREQ(info.root_sig, "XSDT");
	KT_EXPECT_EQ(info.root_phys, XSDT_PHYS);
	KT_EXPECT_EQ(info.ncpus, 4);
	KT_EXPECT(info.have_fadt && info.have_s5 && info.have_hpet);

	/* Found by the scan as well, 36 bytes and all. */
	fake_set("RSDP", acpi_machine_pc.rsdp_phys, rsdp, 36);
	KT_ASSERT_EQ(parse_with(NULL, 0), 0);
	KT_EXPECT_STREQ(info.root_sig, "XSDT");
	KT_EXPECT_EQ(info.rsdp_phys, acpi_machine_pc.rsdp_phys);
}

KTEST(acpi, rsdp_v2_zero_xsdt_uses_rsdt)
{
	load(&acpi_machine_pc);
	KT_ASSERT_EQ(parse_with(make_rsdp_v2(0, 0), 36), 0);
	KT_EXPECT_EQ(warns.n, 0);
	KT_EXPECT_STREQ(info.root_sig, "RSDT");
	KT_EXPECT_EQ(info.ncpus, 4);
}

KTEST(acpi, rsdp_v2_bad_xsdt_falls_back)
{
	u8 *x;

	load(&acpi_machine_pc);
	x = install_xsdt(1);
	x[40] ^= 0xFF;
	KT_ASSERT_EQ(parse_with(make_rsdp_v2(0, XSDT_PHYS), 36), 0);
	KT_EXPECT(warned("XSDT at 0x2000: bad checksum"));
	KT_EXPECT(warned("falling back to the RSDT"));
	KT_EXPECT_STREQ(info.root_sig, "RSDT");
	KT_EXPECT_EQ(info.ncpus, 4);
	/* Pointing at the RSDT: wrong signature, same fallback. */
	KT_ASSERT_EQ(parse_with(make_rsdp_v2(0, blob(&acpi_machine_pc, "RSDT")->phys), 36), 0);
	KT_EXPECT(warned("expected XSDT"));
	KT_EXPECT_STREQ(info.root_sig, "RSDT");
}

KTEST(acpi, rsdp_v2_bad_extended_checksum_or_length)
{
	static const u32 lens[] = { 0, 20, 35, 37, 0xFFFFFFFFu };
	unsigned i;
	u8 *rsdp;

	load(&acpi_machine_pc);
	install_xsdt(1);
	rsdp = make_rsdp_v2(0, XSDT_PHYS);
	rsdp[33] = 0x55; /* reserved byte: only the extended checksum sees it */
	KT_EXPECT_EQ(parse_with(rsdp, 36), -EINVAL);
	KT_EXPECT(warned("bad extended checksum"));
	KT_EXPECT_EQ(info.ncpus, 0);
	/* ... and a scan passes over it. */
	fake_set("RSDP", acpi_machine_pc.rsdp_phys, rsdp, 36);
	KT_EXPECT_EQ(parse_with(NULL, 0), -ENOENT);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		rsdp = make_rsdp_v2(0, XSDT_PHYS);
		put_le32(rsdp + 20, lens[i]);
		rsdp[32] = 0;
		rsdp[32] = (u8)-acpi_checksum(rsdp, 36);
		KT_EXPECT_EQ(parse_with(rsdp, 36), -EINVAL);
		KT_EXPECT(warned("rejected"));
	}
}

KTEST(acpi, rsdp_revisions)
{
	u8 *rsdp;

	load(&acpi_machine_pc);
	install_xsdt(1);
	/* A revision-2 RSDP of which only the ACPI 1.0 part was copied. */
	rsdp = make_rsdp_v2(0, XSDT_PHYS);
	KT_ASSERT_EQ(parse_with(rsdp, 20), 0);
	KT_EXPECT(warned("revision 2 but only 20 bytes; using the RSDT"));
	KT_EXPECT_STREQ(info.root_sig, "RSDT");
	/* Revision 1 does not exist: read as 1.0. */
	rsdp = tight_copy(0, blob(&acpi_machine_pc, "RSDP")->data, 20, 20);
	rsdp[15] = 1;
	rsdp[8] -= 1;
	KT_ASSERT_EQ(parse_with(rsdp, 20), 0);
	KT_EXPECT(warned("unknown revision 1"));
	KT_EXPECT_EQ(info.ncpus, 4);
	/* A later revision with a valid layout is fine. */
	rsdp = make_rsdp_v2(0, XSDT_PHYS);
	rsdp[15] = 6;
	rsdp[8] -= 4;  /* the extended sum covers both bytes: unchanged */
	KT_ASSERT_EQ(parse_with(rsdp, 36), 0);
	KT_EXPECT_STREQ(info.root_sig, "XSDT");
	/* RSDT address 0 and no XSDT. */
	rsdp = tight_copy(0, blob(&acpi_machine_pc, "RSDP")->data, 20, 20);
	memset(rsdp + 16, 0, 4);
	rsdp[8] = 0;
	rsdp[8] = (u8)-acpi_checksum(rsdp, 20);
	KT_EXPECT_EQ(parse_with(rsdp, 20), -EINVAL);
	KT_EXPECT(warned("names no usable root table"));
}

KTEST(acpi, root_table_caps)
{
	const struct acpi_test_blob *w = blob(&acpi_machine_pc, "WAET");
	size_t n = 260, len = 36 + 4 * n + 3, i;
	u8 *rsdt;

	load(&acpi_machine_pc);
	rsdt = tight_copy(0, blob(&acpi_machine_pc, "RSDT")->data, 36, len);
	for (i = 0; i < n; i++)
		put_le32(rsdt + 36 + 4 * i, i == 5 ? 0 : (u32)w->phys);
	set_length(rsdt, (u32)len);
	fix_checksum(rsdt, len);
	fake_set("RSDT", blob(&acpi_machine_pc, "RSDT")->phys, rsdt, len);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT_EQ(info.ntables, ACPI_MAX_TABLES);
	KT_EXPECT(warned("RSDT: 3 stray bytes"));
	KT_EXPECT(warned("RSDT: 260 entries; only the first 256"));
	KT_EXPECT(warned("RSDT: entry 5 is 0"));
	KT_EXPECT(warned("more than 32 tables to list"));
	KT_EXPECT(!info.have_fadt);
}

/* ---- MCFG and HPET ------------------------------------------------------ */

KTEST(acpi, mcfg_hostile)
{
	static u8 body[8 + 11 * 16 + 5];
	size_t off = 8;
	unsigned i;
	u8 *t;

	for (i = 0; i < 11; i++, off += 16) {
		put_le64(body + off, 0xE0000000ull + ((u64)i << 28));
		put_le16(body + off + 8, (u16)i);
		body[off + 10] = i == 1 ? 9 : 0;    /* start after end */
		body[off + 11] = i == 1 ? 8 : 0xFF;
	}
	put_le64(body + 8 + 2 * 16, 0);          /* base 0 */
	load(&acpi_machine_q35);
	t = build_table(0, "MCFG", 1, body, sizeof(body));
	relocate(&acpi_machine_q35, "MCFG", t, 36 + sizeof(body));
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT_EQ(info.nmcfg, ACPI_MAX_MCFG);
	KT_EXPECT_EQ(info.mcfg[0].segment, 0);
	KT_EXPECT_EQ(info.mcfg[1].segment, 3);
	KT_EXPECT(warned("MCFG: 5 stray bytes"));
	KT_EXPECT(warned("buses 9-8"));
	KT_EXPECT(warned("more than 8 MCFG windows"));

	/* An MCFG with its fixed part only: present, no windows. */
	t = build_table(0, "MCFG", 1, body, 8);
	relocate(&acpi_machine_q35, "MCFG", t, 44);
	KT_ASSERT_EQ(parse(&acpi_machine_q35), 0);
	KT_EXPECT(info.have_mcfg);
	KT_EXPECT_EQ(info.nmcfg, 0);
}

KTEST(acpi, hpet_in_io_space_ignored)
{
	u8 *t;

	load(&acpi_machine_pc);
	t = install_copy(0, &acpi_machine_pc, "HPET", 56);
	t[40] = ACPI_GAS_IO;
	fix_checksum(t, 56);
	KT_ASSERT_EQ(parse(&acpi_machine_pc), 0);
	KT_EXPECT(!info.have_hpet);
	KT_EXPECT(warned("HPET: block at 0xfed00000 (space 1) is not usable MMIO"));
}

/* ---- fuzz --------------------------------------------------------------- */

/* A longer campaign: build the host tests with -DACPI_FUZZ_ITERS=1000000. */
#ifndef ACPI_FUZZ_ITERS
#define ACPI_FUZZ_ITERS 3000
#endif

static const char *const fuzz_targets[] = {
	"RSDP", "RSDT", "APIC", "FACP", "DSDT", "MCFG", "HPET",
};

/* Flip, set or randomise a few bytes, favouring the ones that steer parsing. */
static void mutate(struct ktest_ctx *kt, const struct acpi_test_machine *m, const char *name,
		   u8 *t, size_t len)
{
	unsigned n = 1 + ktest_rand(kt) % 6, i;
	size_t at;

	for (i = 0; i < n; i++) {
		u64 r = ktest_rand(kt);

		if (!strcmp(name, "DSDT") && r % 2)
			at = 36 + s5_offset(blob(m, "DSDT")) - 2 + (r >> 8) % 16;
		else if (r % 7 == 0 && len > 8)
			at = 4 + (r >> 8) % 4;  /* the length field */
		else
			at = (r >> 8) % len;
		if (at >= len)
			continue;
		switch ((r >> 40) % 4) {
		case 0: t[at] ^= (u8)(1u << ((r >> 48) % 8)); break;
		case 1: t[at] = 0; break;
		case 2: t[at] = 0xFF; break;
		default: t[at] = (u8)(r >> 48); break;
		}
	}
}

KTEST(acpi, fuzz_mutated_real_tables)
{
	unsigned iter;

	for (iter = 0; iter < ACPI_FUZZ_ITERS; iter++) {
		const struct acpi_test_machine *m = iter % 2 ? &acpi_machine_q35 : &acpi_machine_pc;
		const char *name = fuzz_targets[ktest_rand(kt) % ARRAY_SIZE(fuzz_targets)];
		const struct acpi_test_blob *b = blob(m, name);
		size_t len;
		u8 *t;
		int rc;

		if (!b)
			continue; /* no MCFG on pc */
		load(m);
		len = b->len;
		t = install_copy(0, m, name, len);
		mutate(kt, m, name, t, len);
		if (!strcmp(name, "RSDP")) {
			t[8] = 0;
			t[8] = (u8)-acpi_checksum(t, 20);
			rc = parse_with(t, len);
		} else {
			if (ktest_rand(kt) % 16)
				fix_checksum(t, len);
			rc = parse(m);
		}
		KT_ASSERT(rc == 0 || rc == -EINVAL || rc == -ENOENT);
		if (!info_sane()) {
			ktest_log(kt, "iteration %u: %s %s", iter, m->name, name);
			KT_ASSERT(info_sane());
		}
	}
}
