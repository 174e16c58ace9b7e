/*
 * fuzz_acpi.c — drivers/acpi_tables.c's acpi_parse() over a "physical
 * memory" the input describes, and acpi_aml_find_s5() over the raw input.
 *
 * Input: byte 0 is flags, then up to MAX_CHUNKS chunks, each
 *   phys (4 bytes, little-endian)  len (2 bytes)  len bytes
 * (the last one cut short by the end of the input).  Each chunk is copied
 * into a kmalloc block of exactly its size, so ASan reports a read past
 * it, and mem_map() serves a range only when it lies wholly inside one
 * chunk (the first that holds it) — readable memory is the chunks and
 * nothing else.  Flags:
 *   bit 0  pass the first chunk to acpi_parse() as the boot loader's RSDP
 *          copy; else the parser scans the EBDA (the u16 at 0x40E) and
 *          0xE0000-0xFFFFF for it, as on a BIOS machine;
 *   bit 1  fix checksums first, so that mutated tables get past the check
 *          to the decoders: a chunk starting "RSD PTR " gets both RSDP sums
 *          fixed, any other chunk whose length field fits it gets byte 9.
 * The seeds are QEMU's own tables for pc and q35 (tests/unit/acpi_data.h).
 *
 * Checked beyond "no crash": the return value is one acpi_tables.h allows
 * (and a failed parse decodes nothing); every count is within its cap and
 * every warning one line; every table listed as used maps whole from the
 * chunks with its recorded length and signature, sums to zero and fits
 * ACPI_TABLE_MAX_LEN (the documented trust rules), and so does the RSDP;
 * the CPUs, IO APICs and local APIC address are worked out again by a walk
 * of the MADT that was used, written from the ACPI spec here, so each CPU
 * reported came from an entry wholly inside that table, in order, unique,
 * at most ACPI_MAX_CPUS; the rest (IO APICs, overrides, NMIs, MCFG, HPET,
 * \_S5) hold the values the header promises.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "drivers/acpi_tables.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define MAX_CHUNKS 16
#define CHUNK_HDR 6
#define HDR_LEN 36u            /* struct acpi_sdt_header */
#define MADT_FIXED 44u
#define RSDP_V1 20u
#define RSDP_V2 36u

#define F_COPY 1
#define F_FIX_SUMS 2

struct chunk {
	u64 phys;
	u8 *data;
	size_t len;
};

struct mem {
	struct chunk c[MAX_CHUNKS];
	unsigned n;
	unsigned maps;
};

struct warns {
	unsigned n;
	bool bad_line;
};

static const void *mem_map(void *ctx, u64 phys, size_t len)
{
	struct mem *m = ctx;

	m->maps++;
	for (unsigned i = 0; i < m->n; i++) {
		const struct chunk *c = &m->c[i];

		if (phys >= c->phys && phys - c->phys <= c->len && len <= c->len - (phys - c->phys))
			return c->data + (phys - c->phys);
	}
	return NULL;
}

static void on_warn(void *arg, const char *msg)
{
	struct warns *w = arg;
	size_t n = strlen(msg);

	w->n++;
	if (!n || n >= 160 || strchr(msg, '\n'))
		w->bad_line = true;
}

static void fix_sum(u8 *p, size_t len, size_t at)
{
	p[at] = 0;
	p[at] = (u8)-acpi_checksum(p, len);
}

static void fix_chunk(struct chunk *c)
{
	u32 len = c->len >= 8 ? get_le32(c->data + 4) : 0;

	if (c->len >= RSDP_V1 && !memcmp(c->data, "RSD PTR ", 8)) {
		fix_sum(c->data, RSDP_V1, 8);
		len = c->len >= RSDP_V2 ? get_le32(c->data + 20) : 0;
		if (c->data[15] >= 2 && len >= RSDP_V2 && len <= c->len)
			fix_sum(c->data, len, 32);
		return;
	}
	if (len >= HDR_LEN && len <= c->len)
		fix_sum(c->data, len, 9);
}

static bool load(struct ktest_ctx *kt, struct mem *m, bool fix)
{
	size_t pos = 1;

	while (m->n < MAX_CHUNKS && pos + CHUNK_HDR <= fuzz_size) {
		struct chunk *c = &m->c[m->n];
		size_t len = get_le16(fuzz_data + pos + 4);

		c->phys = get_le32(fuzz_data + pos);
		pos += CHUNK_HDR;
		len = MIN(len, fuzz_size - pos);
		if (!len)
			continue;
		c->data = kmalloc(len);
		if (!c->data)
			return false;
		memcpy(c->data, fuzz_data + pos, len);
		c->len = len;
		pos += len;
		if (fix)
			fix_chunk(c);
		m->n++;
	}
	return true;
}

/* The table a record names, as the parser must have seen it. */
static const u8 *rec_bytes(struct mem *m, const struct acpi_table_rec *r)
{
	return mem_map(m, r->phys, r->length);
}

static bool printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((u8)s[i] < 0x20 || (u8)s[i] >= 0x7F)
			return false;
	return true;
}

/* @sig is the table's signature with unprintable bytes shown as '?'. */
static bool same_sig(const u8 *t, const char *sig)
{
	for (unsigned i = 0; i < 4; i++)
		if (sig[i] != (t[i] >= 0x20 && t[i] < 0x7F ? (char)t[i] : '?'))
			return false;
	return sig[4] == 0;
}

/* The trust rules of acpi_tables.h for every table listed as used. */
static void check_tables(struct ktest_ctx *kt, struct mem *m, const struct acpi_info *o)
{
	KT_ASSERT(o->ntables <= ACPI_MAX_TABLES);
	for (unsigned i = 0; i < o->ntables; i++) {
		const struct acpi_table_rec *r = &o->tables[i];
		const u8 *t;

		KT_EXPECT(printable(r->signature, sizeof(r->signature)));
		KT_EXPECT(printable(r->oem_id, sizeof(r->oem_id)));
		KT_EXPECT(printable(r->oem_table_id, sizeof(r->oem_table_id)));
		if (r->status)
			continue;
		t = rec_bytes(m, r);
		if (!t || r->length < HDR_LEN || r->length > ACPI_TABLE_MAX_LEN ||
		    acpi_checksum(t, r->length) || get_le32(t + 4) != r->length ||
		    !same_sig(t, r->signature)) {
			ktest_fail(kt, __FILE__, __LINE__, "table %u (%s at %#llx, %u bytes) is "
				   "listed as used but breaks the trust rules", i, r->signature,
				   (unsigned long long)r->phys, r->length);
		}
	}
}

/* The first table of @sig the parser used, or NULL (or the list overflowed). */
static const struct acpi_table_rec *used(const struct acpi_info *o, const char *sig)
{
	for (unsigned i = 0; i < o->ntables; i++)
		if (!o->tables[i].status && !strcmp(o->tables[i].signature, sig))
			return &o->tables[i];
	return NULL;
}

struct madt_model {
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned ncpus, enabled, ignored, nioapics;
	u64 lapic_addr;
};

static void model_cpu(struct madt_model *w, u32 apic_id, u32 uid, u32 flags, bool x2)
{
	if (!(flags & 3)) {
		w->ignored++;
		return;
	}
	for (unsigned i = 0; i < w->ncpus; i++)
		if (w->cpus[i].apic_id == apic_id)
			return;
	if (w->ncpus == ACPI_MAX_CPUS)
		return;
	w->cpus[w->ncpus++] = (struct acpi_cpu){ apic_id, uid, flags & 1, !(flags & 1), x2 };
	w->enabled += flags & 1;
}

/*
 * The MADT by the spec: entries {type, length} from offset 44 while two
 * bytes remain, stopping at a length below 2 or one that runs past the
 * table; type 0 (8 bytes: uid, APIC id, flags), 1 (12: IO APIC, address at
 * 4, ignored when 0), 5 (12: 64-bit local APIC address at 4, when not 0),
 * 9 (16: x2APIC id at 4, flags at 8, uid at 12).
 */
static void model_madt(const u8 *t, u32 len, struct madt_model *w)
{
	u32 off = MADT_FIXED;

	memset(w, 0, sizeof(*w));
	w->lapic_addr = get_le32(t + 36);
	while (len - off >= 2) {
		const u8 *e = t + off;
		u8 elen = e[1];

		if (elen < 2 || elen > len - off)
			return;
		if (e[0] == 0 && elen >= 8)
			model_cpu(w, e[3], e[2], get_le32(e + 4), false);
		else if (e[0] == 1 && elen >= 12 && get_le32(e + 4) && w->nioapics < ACPI_MAX_IOAPICS)
			w->nioapics++;
		else if (e[0] == 5 && elen >= 12 && get_le64(e + 4))
			w->lapic_addr = get_le64(e + 4);
		else if (e[0] == 9 && elen >= 16)
			model_cpu(w, get_le32(e + 4), get_le32(e + 12), get_le32(e + 8), true);
		off += elen;
	}
}

static void check_madt(struct ktest_ctx *kt, struct mem *m, const struct acpi_info *o)
{
	const struct acpi_table_rec *r = used(o, "APIC");
	static struct madt_model w;

	KT_ASSERT(o->ncpus <= ACPI_MAX_CPUS && o->ncpus_enabled <= o->ncpus);
	for (unsigned i = 0; i < o->ncpus; i++) {
		KT_EXPECT(o->cpus[i].enabled != o->cpus[i].online_capable);
		for (unsigned j = 0; j < i; j++)
			KT_EXPECT(o->cpus[i].apic_id != o->cpus[j].apic_id);
	}
	if (!o->have_madt) {
		KT_EXPECT(o->ncpus == 0 && o->nioapics == 0 && o->noverrides == 0);
		return;
	}
	if (!r) {
		/* Decoded, so it was listed — unless the list was full. */
		KT_EXPECT_EQ(o->ntables, ACPI_MAX_TABLES);
		return;
	}
	model_madt(rec_bytes(m, r), r->length, &w);
	KT_EXPECT_EQ(o->lapic_addr, w.lapic_addr);
	KT_EXPECT_EQ(o->nioapics, w.nioapics);
	KT_EXPECT_EQ(o->ncpus_ignored, w.ignored);
	KT_EXPECT_EQ(o->ncpus_enabled, w.enabled);
	KT_ASSERT_EQ(o->ncpus, w.ncpus);
	for (unsigned i = 0; i < w.ncpus; i++) {
		const struct acpi_cpu *g = &o->cpus[i], *e = &w.cpus[i];

		if (g->apic_id != e->apic_id || g->uid != e->uid || g->enabled != e->enabled ||
		    g->online_capable != e->online_capable || g->x2apic != e->x2apic)
			ktest_fail(kt, __FILE__, __LINE__, "CPU %u: APIC id %u uid %u (%d%d%d), the "
				   "MADT says %u uid %u (%d%d%d)", i, g->apic_id, g->uid, g->enabled,
				   g->online_capable, g->x2apic, e->apic_id, e->uid, e->enabled,
				   e->online_capable, e->x2apic);
	}
}

/* What acpi_tables.h promises about the other decoded fields. */
static void check_rest(struct ktest_ctx *kt, const struct acpi_info *o)
{
	KT_ASSERT(o->nioapics <= ACPI_MAX_IOAPICS && o->noverrides <= ACPI_MAX_OVERRIDES &&
		  o->nnmi_sources <= ACPI_MAX_NMI_SOURCES && o->nlapic_nmis <= ACPI_MAX_LAPIC_NMIS &&
		  o->nmcfg <= ACPI_MAX_MCFG);
	for (unsigned i = 0; i < o->nioapics; i++)
		KT_EXPECT(o->ioapics[i].address != 0);
	for (unsigned i = 0; i < o->noverrides; i++)
		KT_EXPECT(o->overrides[i].bus == 0 && o->overrides[i].source_irq <= 15);
	for (unsigned i = 0; i < o->nlapic_nmis; i++)
		KT_EXPECT(o->lapic_nmis[i].lint <= 1);
	for (unsigned i = 0; i < o->nmcfg; i++)
		KT_EXPECT(o->mcfg[i].base && o->mcfg[i].end_bus >= o->mcfg[i].start_bus);
	KT_EXPECT(!o->nmcfg || o->have_mcfg);
	KT_EXPECT(!o->have_hpet || o->hpet_addr);
	KT_EXPECT(o->s5_status == 0 || o->s5_status == -ENOENT || o->s5_status == -EINVAL);
	KT_EXPECT_EQ(o->have_s5, o->s5_status == 0);
	KT_EXPECT(o->slp_typa <= 7 && o->slp_typb <= 7);
	KT_EXPECT(!o->have_s5 || o->have_fadt || used(o, "SSDT") || o->ntables == ACPI_MAX_TABLES);
	if (o->have_fadt) {
		KT_EXPECT(o->fadt.length >= 116);
		KT_EXPECT_EQ(o->fadt.hw_reduced, !!(o->fadt.flags & ACPI_FADT_HW_REDUCED));
		KT_EXPECT(!o->fadt.reset_supported || o->fadt.reset_reg_present);
		KT_EXPECT(o->fadt.boot_arch_valid || o->fadt.iapc_boot_arch == 0);
	}
	KT_EXPECT(printable(o->rsdp_oem_id, sizeof(o->rsdp_oem_id)));
}

static void check_rsdp(struct ktest_ctx *kt, struct mem *m, const struct acpi_info *o, bool copy)
{
	const u8 *p = copy ? m->c[0].data : mem_map(m, o->rsdp_phys, RSDP_V1);

	KT_ASSERT(p != NULL);
	KT_EXPECT(!memcmp(p, "RSD PTR ", 8));
	KT_EXPECT_EQ(acpi_checksum(p, RSDP_V1), 0);
	KT_EXPECT(!strcmp(o->root_sig, "RSDT") || !strcmp(o->root_sig, "XSDT"));
}

/* The \_S5 search on its own, over the whole input as AML. */
static void check_s5_raw(struct ktest_ctx *kt)
{
	u8 a = 0xAA, b = 0xAA;
	int rc = acpi_aml_find_s5(fuzz_data, fuzz_size, &a, &b);

	KT_EXPECT(rc == 0 || rc == -ENOENT || rc == -EINVAL);
	if (!rc)
		KT_EXPECT(a <= 7 && b <= 7);
}

KTEST(fuzz, acpi)
{
	static struct mem m;
	static struct acpi_info info;
	struct acpi_mem am = { mem_map, &m };
	struct warns w = { 0 };
	u8 flags = fuzz_size ? fuzz_data[0] : 0;
	bool copy = flags & F_COPY;
	int rc = -EINVAL;

	memset(&m, 0, sizeof(m));
	check_s5_raw(kt);
	if (!load(kt, &m, flags & F_FIX_SUMS))
		goto out;
	if (copy && !m.n)
		goto out;
	rc = acpi_parse(&am, copy ? m.c[0].data : NULL, copy ? m.c[0].len : 0, &info, on_warn, &w);
	if (copy)
		KT_EXPECT(rc == 0 || rc == -EINVAL);
	else
		KT_EXPECT(rc == 0 || rc == -ENOENT || rc == -EINVAL);
	KT_EXPECT(w.n <= ACPI_MAX_WARNINGS + 1 && !w.bad_line);
	KT_EXPECT(w.n <= info.warnings + 1);
	if (rc) {
		KT_EXPECT(!info.have_madt && !info.have_fadt && !info.have_mcfg && !info.have_hpet);
		KT_EXPECT(!info.have_s5 && info.ncpus == 0);
	} else {
		check_rsdp(kt, &m, &info, copy);
	}
	check_tables(kt, &m, &info);
	check_madt(kt, &m, &info);
	check_rest(kt, &info);
out:
	for (unsigned i = 0; i < m.n; i++)
		kfree(m.c[i].data);
}
