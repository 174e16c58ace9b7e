/*
 * acpi_tables.c — find, validate and decode the static ACPI tables.
 *
 * The walk, in the order acpi_parse() does it:
 *
 *   1. The RSDP: the boot loader's copy, or a search of the first KiB of the
 *      EBDA (segment at physical 0x40E) and then 0xE0000-0xFFFFF on 16-byte
 *      boundaries for "RSD PTR " whose first 20 bytes sum to zero (and, for
 *      revision >= 2, whose whole length sums to zero as well).
 *   2. The root table: the XSDT (u64 entries) when the RSDP is revision >= 2
 *      and names one, else the RSDT (u32 entries).  An XSDT that fails its
 *      checks falls back to the RSDT.
 *   3. Each table the root lists, dispatched by signature.  The first valid
 *      MADT, FADT, MCFG and HPET are decoded; later copies are listed and
 *      ignored.  SSDTs are remembered for step 4.
 *   4. The DSDT the FADT names, searched for \_S5; when it has none, the
 *      SSDTs in root-table order.
 *
 * Every table passes acpi_table_get() before a byte of its body is read:
 * the 36-byte header must map, the length must cover the type's fixed part
 * (MADT 44, FADT 116, MCFG 44, HPET 56, others 36) and be at most
 * ACPI_TABLE_MAX_LEN, all of it must map, the header read through that
 * mapping must equal the one checked, and it must sum to zero.  From then
 * on every read is bounded by that length: MADT entries are walked
 * with their own length bytes checked against the table end, FADT fields
 * are read only when ACPI_FIELD_END() says they lie inside the table (an
 * ACPI 1.0 FADT is 116 bytes), and the AML search bounds every byte.
 *
 * Failure policy: one warning line per problem (the first
 * ACPI_MAX_WARNINGS of them; the rest are only counted), the bad table or
 * entry is skipped, and the walk goes on with the next one.  Only a missing
 * or invalid RSDP or root table fails acpi_parse() as a whole.
 *
 * The \_S5 search does not interpret AML.  It looks for the bytes "_S5_"
 * directly after a NameOp (0x08), optionally with a root prefix '\', and
 * decodes what must follow: PackageOp 0x12, a PkgLength of 1-4 bytes (the
 * top two bits of the first byte count the extra bytes; with extra bytes
 * the first contributes its low nibble and each following byte 8 more
 * bits), NumElements, then integers (ZeroOp, OneOp, OnesOp, or a Byte/
 * Word/DWord/QWord prefix and its value).  The first two are SLP_TYPa and
 * SLP_TYPb; a one-element package holds both, in its low two bytes (as
 * ACPICA reads it).  This is the same heuristic small kernels have used
 * for years; it fails only on firmware that computes _S5 in a method.
 */
#include "drivers/acpi_tables.h"
#include "drivers/acpi_wire.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/format.h"
#include "lib/string.h"

#define EBDA_SEG_PTR 0x40E
#define EBDA_SCAN_LEN 1024
#define BIOS_AREA_START 0xE0000
#define BIOS_AREA_LEN 0x20000
#define RSDP_STEP 16
#define RSDP_MAX_LEN 1024      /* bound on a revision >= 2 length field */
#define ROOT_MAX_ENTRIES 256     /* tables a root may list; servers have many SSDTs */
#define IO_PORT_MAX 0xFFFF
#define SLP_TYP_MAX 7          /* SLP_TYP is a 3-bit field of PM1_CNT */

/* Arrays that warn once when full (bits of acpi_ctx.full). */
enum acpi_cap {
	CAP_TABLES,
	CAP_CPUS,
	CAP_IOAPICS,
	CAP_OVERRIDES,
	CAP_NMI_SOURCES,
	CAP_LAPIC_NMIS,
	CAP_MCFG,
	CAP_SSDTS,
};

struct acpi_ssdt {
	const u8 *table;
	u32 len;
};

struct acpi_ctx {
	const struct acpi_mem *mem;
	struct acpi_info *out;
	acpi_warn_fn warn;
	void *arg;
	u64 rsdt_phys, xsdt_phys;   /* from the RSDP; 0: none */
	unsigned full;              /* 1 << enum acpi_cap: already warned */
	unsigned seen;              /* 1 << handler index: table decoded */
	struct acpi_ssdt ssdts[ACPI_MAX_SSDTS];
	unsigned nssdts;
	struct acpi_table_rec scratch; /* stands in when out->tables is full */
};

/* ---- helpers ------------------------------------------------------------ */

u8 acpi_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static __printf(2, 3) void acpi_warnf(struct acpi_ctx *c, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	c->out->warnings++;
	if (!c->warn || c->out->warnings > ACPI_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->warn(c->arg, line);
}

/* True when one more element fits in an array of @cap holding @n. */
static bool acpi_room(struct acpi_ctx *c, unsigned n, unsigned cap,
		      enum acpi_cap which, const char *what)
{
	if (n < cap)
		return true;
	if (!(c->full & (1u << which))) {
		c->full |= 1u << which;
		acpi_warnf(c, "more than %u %s; the rest are ignored", cap, what);
	}
	return false;
}

static const void *acpi_map(struct acpi_ctx *c, u64 phys, size_t len)
{
	if (len == 0 || phys + len < phys)
		return NULL;
	return c->mem->map(c->mem->ctx, phys, len);
}

/*
 * Copy an @n-byte firmware string for printing: unprintable bytes become
 * '?'.  With @id (OEM ids) a NUL ends the string and trailing blanks are
 * dropped, since firmware pads ids either way.
 */
static void acpi_strcpy(char *dst, const char *src, size_t n, bool id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		u8 ch = (u8)src[i];

		if (ch == 0 && id)
			break;
		dst[i] = ch >= 0x20 && ch < 0x7F ? (char)ch : '?';
	}
	while (id && i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

/* ---- RSDP --------------------------------------------------------------- */

/*
 * Validate the RSDP at @p, of which @avail bytes are readable; @who names
 * it in warnings.  Fills c->rsdt_phys/xsdt_phys and the out fields.
 * Returns 0 or -EINVAL.
 */
static int acpi_rsdp_check(struct acpi_ctx *c, const u8 *p, size_t avail, const char *who)
{
	const struct acpi_rsdp *r = (const void *)p;
	u32 len;

	if (avail < ACPI_RSDP_V1_LEN || memcmp(r->signature, "RSD PTR ", 8)) {
		acpi_warnf(c, "%s: no \"RSD PTR \" signature in %zu bytes", who, avail);
		return -EINVAL;
	}
	if (acpi_checksum(p, ACPI_RSDP_V1_LEN)) {
		acpi_warnf(c, "%s: bad checksum", who);
		return -EINVAL;
	}
	c->rsdt_phys = r->rsdt_address;
	c->xsdt_phys = 0;
	if (r->revision == 1)
		acpi_warnf(c, "%s: unknown revision 1; read as ACPI 1.0", who);
	if (r->revision >= 2 && avail < sizeof(*r)) {
		acpi_warnf(c, "%s: revision %u but only %zu bytes; using the RSDT",
			   who, r->revision, avail);
	} else if (r->revision >= 2) {
		len = r->length;
		if (len < sizeof(*r) || len > avail) {
			acpi_warnf(c, "%s: revision %u with length %u; rejected",
				   who, r->revision, len);
			return -EINVAL;
		}
		if (acpi_checksum(p, len)) {
			acpi_warnf(c, "%s: bad extended checksum", who);
			return -EINVAL;
		}
		c->xsdt_phys = r->xsdt_address;
	}
	c->out->rsdp_revision = r->revision;
	acpi_strcpy(c->out->rsdp_oem_id, r->oem_id, sizeof(r->oem_id), true);
	return 0;
}

/* Map and check a candidate whose signature matched at @phys. */
static int acpi_rsdp_candidate(struct acpi_ctx *c, u64 phys)
{
	const u8 *p = acpi_map(c, phys, ACPI_RSDP_V1_LEN), *q;
	size_t avail = ACPI_RSDP_V1_LEN;
	char who[40];
	u32 len;

	if (!p)
		return -EFAULT;
	if (p[15] >= 2 && (q = acpi_map(c, phys, sizeof(struct acpi_rsdp)))) {
		p = q;
		avail = sizeof(struct acpi_rsdp);
		len = get_le32(p + 20);
		if (len > avail && len <= RSDP_MAX_LEN && (q = acpi_map(c, phys, len))) {
			p = q;
			avail = len;
		}
	}
	snprintf(who, sizeof(who), "RSDP at %#llx", (unsigned long long)phys);
	if (acpi_rsdp_check(c, p, avail, who))
		return -EINVAL;
	c->out->rsdp_phys = phys;
	return 0;
}

static int acpi_rsdp_scan_area(struct acpi_ctx *c, u64 base, u64 len)
{
	const u8 *p;
	u64 off;

	for (off = 0; off < len; off += RSDP_STEP) {
		p = acpi_map(c, base + off, 8);
		if (p && !memcmp(p, "RSD PTR ", 8) && !acpi_rsdp_candidate(c, base + off))
			return 0;
	}
	return -ENOENT;
}

/* The BIOS way: the EBDA's first KiB, then the BIOS ROM area. */
static int acpi_rsdp_scan(struct acpi_ctx *c)
{
	const u8 *w = acpi_map(c, EBDA_SEG_PTR, 2);
	u64 ebda = w ? (u64)get_le16(w) << 4 : 0;

	if (ebda >= 0x400 && ebda < 0xA0000 && !acpi_rsdp_scan_area(c, ebda, EBDA_SCAN_LEN))
		return 0;
	if (!acpi_rsdp_scan_area(c, BIOS_AREA_START, BIOS_AREA_LEN))
		return 0;
	acpi_warnf(c, "no RSDP in the EBDA or at 0xE0000-0xFFFFF");
	return -ENOENT;
}

/* ---- table validation and the table list -------------------------------- */

static size_t acpi_fixed_len(const char *sig)
{
	static const struct {
		char sig[4];
		u16 len;
	} fixed[] = {
		{ "APIC", sizeof(struct acpi_madt) },
		{ "FACP", ACPI_FADT_V1_LEN },
		{ "MCFG", sizeof(struct acpi_mcfg) },
		{ "HPET", sizeof(struct acpi_hpet) },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		if (!memcmp(sig, fixed[i].sig, 4))
			return fixed[i].len;
	return sizeof(struct acpi_sdt_header);
}

/* A new entry in out->tables, or a scratch one when the list is full. */
static struct acpi_table_rec *acpi_record(struct acpi_ctx *c, u64 phys,
					  struct acpi_table_rec *scratch)
{
	struct acpi_info *o = c->out;
	struct acpi_table_rec *rec = scratch;

	if (acpi_room(c, o->ntables, ACPI_MAX_TABLES, CAP_TABLES, "tables to list"))
		rec = &o->tables[o->ntables++];
	memset(rec, 0, sizeof(*rec));
	memcpy(rec->signature, "????", 5);
	rec->phys = phys;
	return rec;
}

static void acpi_record_header(struct acpi_table_rec *rec, const struct acpi_sdt_header *h)
{
	acpi_strcpy(rec->signature, h->signature, sizeof(h->signature), false);
	acpi_strcpy(rec->oem_id, h->oem_id, sizeof(h->oem_id), true);
	acpi_strcpy(rec->oem_table_id, h->oem_table_id, sizeof(h->oem_table_id), true);
	rec->revision = h->revision;
	rec->length = h->length;
}

/* The length and checksum checks; *@tp is the whole table on success. */
static int acpi_table_check(struct acpi_ctx *c, const struct acpi_table_rec *rec,
			    const struct acpi_sdt_header *h, const u8 **tp)
{
	const char *sig = rec->signature;
	unsigned long long phys = rec->phys;
	size_t fixed = acpi_fixed_len(h->signature);
	u32 len = h->length;

	if (len < fixed) {
		acpi_warnf(c, "%s at %#llx: length %u is shorter than its fixed part (%zu); "
			   "skipped", sig, phys, len, fixed);
		return -EINVAL;
	}
	if (len > ACPI_TABLE_MAX_LEN) {
		acpi_warnf(c, "%s at %#llx: length %u is implausibly large; skipped",
			   sig, phys, len);
		return -EFBIG;
	}
	*tp = acpi_map(c, rec->phys, len);
	if (!*tp) {
		acpi_warnf(c, "%s at %#llx: length %u runs past readable memory; skipped",
			   sig, phys, len);
		return -EFAULT;
	}
	/*
	 * The decoders take the length and signature from the whole table's
	 * mapping, not from @h: when the two disagree (map() may hand out a
	 * different pointer for the longer range, and memory can change
	 * between the two reads) the length checked above would not be the one
	 * used, and the walk would read past the table.  So they must agree.
	 */
	if (memcmp(*tp, h, sizeof(*h))) {
		acpi_warnf(c, "%s at %#llx: header changed while it was read; skipped", sig, phys);
		return -EFAULT;
	}
	if (acpi_checksum(*tp, len)) {
		acpi_warnf(c, "%s at %#llx: bad checksum; skipped", sig, phys);
		return -EBADMSG;
	}
	return 0;
}

/*
 * Map, check and list the table at @phys; @expect is the signature it must
 * have, or NULL.  Returns the table (h->length bytes readable) or NULL.
 */
static const u8 *acpi_table_get(struct acpi_ctx *c, u64 phys, const char *expect,
				struct acpi_table_rec **recp)
{
	struct acpi_table_rec *rec = acpi_record(c, phys, &c->scratch);
	const struct acpi_sdt_header *h = acpi_map(c, phys, sizeof(*h));
	const u8 *t = NULL;

	*recp = rec;
	if (!h) {
		acpi_warnf(c, "%s at %#llx: header not readable; skipped",
			   expect ? expect : "table", (unsigned long long)phys);
		rec->status = -EFAULT;
		return NULL;
	}
	acpi_record_header(rec, h);
	if (expect && memcmp(h->signature, expect, 4)) {
		acpi_warnf(c, "table at %#llx: signature \"%s\", expected %s; skipped",
			   (unsigned long long)phys, rec->signature, expect);
		rec->status = -EINVAL;
		return NULL;
	}
	rec->status = acpi_table_check(c, rec, h, &t);
	return rec->status ? NULL : t;
}

/* ---- MADT --------------------------------------------------------------- */

static void acpi_add_cpu(struct acpi_ctx *c, u32 apic_id, u32 uid, u32 flags, bool x2apic)
{
	struct acpi_info *o = c->out;
	struct acpi_cpu *cpu;
	unsigned i;

	if (!(flags & 3)) {
		o->ncpus_ignored++;
		return;
	}
	for (i = 0; i < o->ncpus; i++) {
		if (o->cpus[i].apic_id == apic_id) {
			acpi_warnf(c, "MADT: APIC id %u listed twice; the second ignored", apic_id);
			return;
		}
	}
	if (!acpi_room(c, o->ncpus, ACPI_MAX_CPUS, CAP_CPUS, "CPUs in the MADT"))
		return;
	cpu = &o->cpus[o->ncpus++];
	cpu->apic_id = apic_id;
	cpu->uid = uid;
	cpu->enabled = flags & 1;
	cpu->online_capable = !(flags & 1) && (flags & 2);
	cpu->x2apic = x2apic;
	o->ncpus_enabled += cpu->enabled;
}

static void madt_lapic(struct acpi_ctx *c, const void *e)
{
	const struct acpi_madt_lapic *l = e;

	acpi_add_cpu(c, l->apic_id, l->processor_id, l->flags, false);
}

static void madt_x2apic(struct acpi_ctx *c, const void *e)
{
	const struct acpi_madt_x2apic *x = e;

	acpi_add_cpu(c, x->x2apic_id, x->uid, x->flags, true);
}

static void madt_ioapic(struct acpi_ctx *c, const void *e)
{
	const struct acpi_madt_ioapic *io = e;
	struct acpi_info *o = c->out;
	struct acpi_ioapic *dst;

	if (!io->address) {
		acpi_warnf(c, "MADT: IO APIC %u at address 0; ignored", io->id);
		return;
	}
	if (!acpi_room(c, o->nioapics, ACPI_MAX_IOAPICS, CAP_IOAPICS, "IO APICs"))
		return;
	dst = &o->ioapics[o->nioapics++];
	dst->id = io->id;
	dst->address = io->address;
	dst->gsi_base = io->gsi_base;
}

static void madt_iso(struct acpi_ctx *c, const void *e)
{
	const struct acpi_madt_iso *s = e;
	struct acpi_info *o = c->out;
	struct acpi_irq_override *dst;

	if (s->bus != 0 || s->source > 15) {
		acpi_warnf(c, "MADT: override of bus %u IRQ %u is not an ISA IRQ; ignored",
			   s->bus, s->source);
		return;
	}
	if (!acpi_room(c, o->noverrides, ACPI_MAX_OVERRIDES, CAP_OVERRIDES, "IRQ overrides"))
		return;
	dst = &o->overrides[o->noverrides++];
	dst->bus = s->bus;
	dst->source_irq = s->source;
	dst->gsi = s->gsi;
	dst->flags = s->flags;
}

static void madt_nmi_src(struct acpi_ctx *c, const void *e)
{
	const struct acpi_madt_nmi_src *n = e;
	struct acpi_info *o = c->out;

	if (!acpi_room(c, o->nnmi_sources, ACPI_MAX_NMI_SOURCES, CAP_NMI_SOURCES, "NMI sources"))
		return;
	o->nmi_sources[o->nnmi_sources].gsi = n->gsi;
	o->nmi_sources[o->nnmi_sources++].flags = n->flags;
}

static void acpi_add_lapic_nmi(struct acpi_ctx *c, u32 uid, u16 flags, u8 lint)
{
	struct acpi_info *o = c->out;
	struct acpi_lapic_nmi *dst;

	if (lint > 1) {
		acpi_warnf(c, "MADT: local APIC NMI on LINT%u; ignored", lint);
		return;
	}
	if (!acpi_room(c, o->nlapic_nmis, ACPI_MAX_LAPIC_NMIS, CAP_LAPIC_NMIS, "local APIC NMIs"))
		return;
	dst = &o->lapic_nmis[o->nlapic_nmis++];
	dst->uid = uid;
	dst->flags = flags;
	dst->lint = lint;
}

static void madt_lapic_nmi(struct acpi_ctx *c, const void *e)
{
	const struct acpi_madt_lapic_nmi *n = e;

	acpi_add_lapic_nmi(c, n->processor_id == 0xFF ? ACPI_UID_ALL : n->processor_id,
			   n->flags, n->lint);
}

static void madt_x2apic_nmi(struct acpi_ctx *c, const void *e)
{
	const struct acpi_madt_x2apic_nmi *n = e;

	acpi_add_lapic_nmi(c, n->uid, n->flags, n->lint);
}

static void madt_lapic_addr(struct acpi_ctx *c, const void *e)
{
	const struct acpi_madt_lapic_addr *a = e;

	if (a->address)
		c->out->lapic_addr = a->address;
}

static const struct madt_handler {
	u8 type;
	u8 len;         /* minimum entry length */
	void (*decode)(struct acpi_ctx *c, const void *entry);
} madt_handlers[] = {
	{ ACPI_MADT_LAPIC, sizeof(struct acpi_madt_lapic), madt_lapic },
	{ ACPI_MADT_IOAPIC, sizeof(struct acpi_madt_ioapic), madt_ioapic },
	{ ACPI_MADT_ISO, sizeof(struct acpi_madt_iso), madt_iso },
	{ ACPI_MADT_NMI_SRC, sizeof(struct acpi_madt_nmi_src), madt_nmi_src },
	{ ACPI_MADT_LAPIC_NMI, sizeof(struct acpi_madt_lapic_nmi), madt_lapic_nmi },
	{ ACPI_MADT_LAPIC_ADDR, sizeof(struct acpi_madt_lapic_addr), madt_lapic_addr },
	{ ACPI_MADT_X2APIC, sizeof(struct acpi_madt_x2apic), madt_x2apic },
	{ ACPI_MADT_X2APIC_NMI, sizeof(struct acpi_madt_x2apic_nmi), madt_x2apic_nmi },
};

/* Decode one entry of @len bytes (already inside the table). */
static void madt_entry(struct acpi_ctx *c, const u8 *e, u32 len, u32 off)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(madt_handlers); i++) {
		const struct madt_handler *h = &madt_handlers[i];

		if (h->type != e[0])
			continue;
		if (len < h->len) {
			acpi_warnf(c, "MADT: type %u entry at offset %u is %u bytes, needs %u; "
				   "skipped", e[0], off, len, h->len);
			return;
		}
		h->decode(c, e);
		return;
	}
	/* Other types (SAPIC, GIC, wakeup mailbox ...) do not concern x86 boot. */
}

static void acpi_madt_parse(struct acpi_ctx *c, const u8 *t, u32 len)
{
	const struct acpi_madt *m = (const void *)t;
	u32 off = sizeof(*m), elen;

	c->out->have_madt = true;
	c->out->lapic_addr = m->lapic_address;
	c->out->pcat_compat = m->flags & ACPI_MADT_PCAT_COMPAT;
	while (len - off >= sizeof(struct acpi_madt_entry)) {
		elen = t[off + 1];
		if (elen < sizeof(struct acpi_madt_entry)) {
			acpi_warnf(c, "MADT: entry at offset %u has length %u; rest ignored",
				   off, elen);
			return;
		}
		if (elen > len - off) {
			acpi_warnf(c, "MADT: type %u entry at offset %u (length %u) runs past "
				   "the end (%u); rest ignored", t[off], off, elen, len);
			return;
		}
		madt_entry(c, t + off, elen, off);
		off += elen;
	}
	if (off != len)
		acpi_warnf(c, "MADT: %u stray byte at the end ignored", len - off);
}

/* ---- FADT --------------------------------------------------------------- */

#define FADT_HAS(len, member) (ACPI_FIELD_END(struct acpi_fadt, member) <= (len))

/*
 * One PM register block's I/O port: the 32-bit field, or the X_ GAS when it
 * is present, non-zero and in I/O space.  0 when there is none.
 */
static u16 fadt_port(struct acpi_ctx *c, const char *name, u32 legacy,
		     const struct acpi_gas_wire *x, bool has_x)
{
	u64 port = legacy;

	if (has_x && x->address) {
		if (x->space_id == ACPI_GAS_IO && x->address <= IO_PORT_MAX) {
			if (legacy && legacy != x->address)
				acpi_warnf(c, "FADT: %s %#x and X_%s %#llx differ; using X_%s",
					   name, legacy, name,
					   (unsigned long long)x->address, name);
			port = x->address;
		} else {
			acpi_warnf(c, "FADT: X_%s (space %u, %#llx) is not an I/O port; using %s",
				   name, x->space_id, (unsigned long long)x->address, name);
		}
	}
	if (port > IO_PORT_MAX) {
		acpi_warnf(c, "FADT: %s %#llx is not an I/O port; ignored",
			   name, (unsigned long long)port);
		return 0;
	}
	return (u16)port;
}

static void fadt_gas(struct acpi_gas *dst, const struct acpi_gas_wire *src)
{
	dst->space_id = src->space_id;
	dst->bit_width = src->bit_width;
	dst->bit_offset = src->bit_offset;
	dst->access_size = src->access_size;
	dst->address = src->address;
}

static void fadt_tables(struct acpi_ctx *c, const struct acpi_fadt *f, u32 len)
{
	struct acpi_fadt_info *fi = &c->out->fadt;

	fi->dsdt_phys = f->dsdt;
	if (FADT_HAS(len, x_dsdt) && f->x_dsdt) {
		if (f->dsdt && f->dsdt != f->x_dsdt)
			acpi_warnf(c, "FADT: DSDT %#x and X_DSDT %#llx differ; using X_DSDT",
				   f->dsdt, (unsigned long long)f->x_dsdt);
		fi->dsdt_phys = f->x_dsdt;
	}
	fi->facs_phys = f->firmware_ctrl;
	if (FADT_HAS(len, x_firmware_ctrl) && f->x_firmware_ctrl)
		fi->facs_phys = f->x_firmware_ctrl;
}

static void fadt_pm_ports(struct acpi_ctx *c, const struct acpi_fadt *f, u32 len)
{
	struct acpi_fadt_info *fi = &c->out->fadt;

	fi->pm1a_evt_port = fadt_port(c, "PM1a_EVT_BLK", f->pm1a_evt_blk, &f->x_pm1a_evt_blk,
				      FADT_HAS(len, x_pm1a_evt_blk));
	fi->pm1b_evt_port = fadt_port(c, "PM1b_EVT_BLK", f->pm1b_evt_blk, &f->x_pm1b_evt_blk,
				      FADT_HAS(len, x_pm1b_evt_blk));
	fi->pm1a_cnt_port = fadt_port(c, "PM1a_CNT_BLK", f->pm1a_cnt_blk, &f->x_pm1a_cnt_blk,
				      FADT_HAS(len, x_pm1a_cnt_blk));
	fi->pm1b_cnt_port = fadt_port(c, "PM1b_CNT_BLK", f->pm1b_cnt_blk, &f->x_pm1b_cnt_blk,
				      FADT_HAS(len, x_pm1b_cnt_blk));
	fi->pm_tmr_port = fadt_port(c, "PM_TMR_BLK", f->pm_tmr_blk, &f->x_pm_tmr_blk,
				    FADT_HAS(len, x_pm_tmr_blk));
	fi->pm1_evt_len = f->pm1_evt_len;
	fi->pm1_cnt_len = f->pm1_cnt_len;
	fi->pm_tmr_len = f->pm_tmr_len;
}

/* RESET_REG appeared in FADT revision 2; IAPC_BOOT_ARCH means something from 3. */
static void fadt_reset_and_boot(const struct acpi_fadt *f, u32 len, struct acpi_fadt_info *fi)
{
	if (FADT_HAS(len, reset_value)) {
		fi->reset_reg_present = true;
		fadt_gas(&fi->reset_reg, &f->reset_reg);
		fi->reset_value = f->reset_value;
		fi->reset_supported = fi->revision >= 2 && (fi->flags & ACPI_FADT_RESET_REG_SUP) &&
				      fi->reset_reg.address;
	}
	fi->boot_arch_valid = fi->revision >= 3;
	fi->iapc_boot_arch = fi->boot_arch_valid ? f->iapc_boot_arch : 0;
	fi->has_8042 = !fi->boot_arch_valid || (fi->iapc_boot_arch & ACPI_BOOT_8042);
	fi->vga_not_present = fi->iapc_boot_arch & ACPI_BOOT_NO_VGA;
}

static void acpi_fadt_parse(struct acpi_ctx *c, const u8 *t, u32 len)
{
	const struct acpi_fadt *f = (const void *)t;
	struct acpi_fadt_info *fi = &c->out->fadt;

	c->out->have_fadt = true;
	fi->revision = f->hdr.revision;
	fi->length = len;
	fi->flags = f->flags;
	fi->sci_irq = f->sci_int;
	fi->smi_cmd = f->smi_cmd;
	fi->acpi_enable = f->acpi_enable;
	fi->acpi_disable = f->acpi_disable;
	fi->pm_tmr_32bit = fi->flags & ACPI_FADT_TMR_VAL_EXT;
	fi->hw_reduced = fi->flags & ACPI_FADT_HW_REDUCED;
	fadt_tables(c, f, len);
	fadt_pm_ports(c, f, len);
	fadt_reset_and_boot(f, len, fi);
}

/* ---- MCFG, HPET, SSDT --------------------------------------------------- */

static void acpi_mcfg_parse(struct acpi_ctx *c, const u8 *t, u32 len)
{
	struct acpi_info *o = c->out;
	u32 off = sizeof(struct acpi_mcfg);
	const struct acpi_mcfg_alloc *a;

	o->have_mcfg = true;
	if ((len - off) % sizeof(*a))
		acpi_warnf(c, "MCFG: %zu stray bytes at the end ignored", (len - off) % sizeof(*a));
	for (; len - off >= sizeof(*a); off += sizeof(*a)) {
		a = (const void *)(t + off);
		if (a->end_bus < a->start_bus || !a->base) {
			acpi_warnf(c, "MCFG: segment %u buses %u-%u at %#llx is invalid; ignored",
				   a->segment, a->start_bus, a->end_bus,
				   (unsigned long long)a->base);
			continue;
		}
		if (!acpi_room(c, o->nmcfg, ACPI_MAX_MCFG, CAP_MCFG, "MCFG windows"))
			return;
		o->mcfg[o->nmcfg].base = a->base;
		o->mcfg[o->nmcfg].segment = a->segment;
		o->mcfg[o->nmcfg].start_bus = a->start_bus;
		o->mcfg[o->nmcfg++].end_bus = a->end_bus;
	}
}

static void acpi_hpet_parse(struct acpi_ctx *c, const u8 *t, u32 len)
{
	const struct acpi_hpet *h = (const void *)t;
	struct acpi_info *o = c->out;

	if (h->base.space_id != ACPI_GAS_MEMORY || !h->base.address) {
		acpi_warnf(c, "HPET: block at %#llx (space %u) is not usable MMIO; ignored",
			   (unsigned long long)h->base.address, h->base.space_id);
		return;
	}
	o->have_hpet = true;
	o->hpet_addr = h->base.address;
	o->hpet_block_id = h->block_id;
	o->hpet_number = h->number;
	o->hpet_min_tick = h->min_tick;
}

static void acpi_ssdt_note(struct acpi_ctx *c, const u8 *t, u32 len)
{
	if (!acpi_room(c, c->nssdts, ACPI_MAX_SSDTS, CAP_SSDTS, "SSDTs to search for \\_S5"))
		return;
	c->ssdts[c->nssdts].table = t;
	c->ssdts[c->nssdts++].len = len;
}

/* ---- root table walk ---------------------------------------------------- */

static const struct acpi_handler {
	char sig[4];
	bool many;      /* every copy is used (SSDT), not just the first */
	void (*parse)(struct acpi_ctx *c, const u8 *table, u32 len);
} acpi_handlers[] = {
	{ "APIC", false, acpi_madt_parse },
	{ "FACP", false, acpi_fadt_parse },
	{ "MCFG", false, acpi_mcfg_parse },
	{ "HPET", false, acpi_hpet_parse },
	{ "SSDT", true, acpi_ssdt_note },
};

static void acpi_table_dispatch(struct acpi_ctx *c, u64 phys)
{
	struct acpi_table_rec *rec;
	const u8 *t = acpi_table_get(c, phys, NULL, &rec);
	size_t i;

	if (!t)
		return;
	for (i = 0; i < ARRAY_SIZE(acpi_handlers); i++) {
		const struct acpi_handler *h = &acpi_handlers[i];

		if (memcmp(t, h->sig, 4))
			continue;
		if (!h->many && (c->seen & (1u << i))) {
			acpi_warnf(c, "%s at %#llx: a second %s; ignored",
				   rec->signature, (unsigned long long)phys, rec->signature);
			rec->status = -EEXIST;
			return;
		}
		c->seen |= 1u << i;
		h->parse(c, t, get_le32(t + 4));
		return;
	}
}

/* The XSDT when there is a usable one, else the RSDT.  NULL: neither. */
static const u8 *acpi_root_get(struct acpi_ctx *c, size_t *esize)
{
	struct acpi_table_rec *rec;
	const u8 *t;

	if (c->xsdt_phys) {
		t = acpi_table_get(c, c->xsdt_phys, "XSDT", &rec);
		if (t) {
			*esize = 8;
			c->out->root_phys = c->xsdt_phys;
			return t;
		}
		if (c->rsdt_phys)
			acpi_warnf(c, "XSDT unusable; falling back to the RSDT");
	}
	if (!c->rsdt_phys) {
		acpi_warnf(c, "RSDP names no usable root table");
		return NULL;
	}
	t = acpi_table_get(c, c->rsdt_phys, "RSDT", &rec);
	*esize = 4;
	c->out->root_phys = c->rsdt_phys;
	return t;
}

static int acpi_root_walk(struct acpi_ctx *c)
{
	size_t esize = 4, n, i;
	const u8 *t = acpi_root_get(c, &esize);
	u32 len;
	u64 phys;

	if (!t)
		return -EINVAL;
	memcpy(c->out->root_sig, t, 4);
	len = get_le32(t + 4) - sizeof(struct acpi_sdt_header);
	if (len % esize)
		acpi_warnf(c, "%s: %u stray bytes at the end ignored", c->out->root_sig,
			   (unsigned)(len % esize));
	n = len / esize;
	if (n > ROOT_MAX_ENTRIES) {
		acpi_warnf(c, "%s: %zu entries; only the first %u are read",
			   c->out->root_sig, n, ROOT_MAX_ENTRIES);
		n = ROOT_MAX_ENTRIES;
	}
	for (i = 0; i < n; i++) {
		const u8 *e = t + sizeof(struct acpi_sdt_header) + i * esize;

		phys = esize == 8 ? get_le64(e) : get_le32(e);
		if (!phys)
			acpi_warnf(c, "%s: entry %zu is 0; skipped", c->out->root_sig, i);
		else
			acpi_table_dispatch(c, phys);
	}
	return 0;
}

/* ---- \_S5 --------------------------------------------------------------- */

/*
 * Decode the PkgLength at aml[*pos] (the package ends before @len).  On
 * success *pos is just past it and *end is where the package ends.
 */
static int aml_pkg_length(const u8 *aml, size_t len, size_t *pos, size_t *end)
{
	size_t start = *pos, extra, i;
	u32 plen;

	if (start >= len)
		return -EINVAL;
	extra = aml[start] >> 6;
	if (extra >= len - start)
		return -EINVAL;
	if (!extra) {
		plen = aml[start] & 0x3F;
	} else {
		plen = aml[start] & 0x0F;
		for (i = 0; i < extra; i++)
			plen |= (u32)aml[start + 1 + i] << (4 + 8 * i);
	}
	if (plen < extra + 1 || plen > len - start)
		return -EINVAL;
	*pos = start + 1 + extra;
	*end = start + plen;
	return 0;
}

/* An integer data object at aml[*pos], wholly before @end. */
static int aml_integer(const u8 *aml, size_t end, size_t *pos, u64 *val)
{
	size_t p = *pos, n, i;

	if (p >= end)
		return -EINVAL;
	switch (aml[p]) {
	case AML_ZERO_OP:
	case AML_ONE_OP:
		*val = aml[p];
		n = 0;
		break;
	case AML_ONES_OP:
		*val = ~0ull;
		n = 0;
		break;
	case AML_BYTE_PREFIX: n = 1; break;
	case AML_WORD_PREFIX: n = 2; break;
	case AML_DWORD_PREFIX: n = 4; break;
	case AML_QWORD_PREFIX: n = 8; break;
	default:
		return -EINVAL;
	}
	if (n >= end - p)
		return -EINVAL;
	if (n)
		for (*val = 0, i = n; i; i--)
			*val = *val << 8 | aml[p + i];
	*pos = p + 1 + n;
	return 0;
}

/* Package(){SLP_TYPa, SLP_TYPb, ...} starting with PackageOp at aml[pos]. */
static int aml_s5_package(const u8 *aml, size_t len, size_t pos, u8 *typa, u8 *typb)
{
	size_t end;
	u64 a, b;
	u8 count;

	if (pos >= len || aml[pos] != AML_PACKAGE_OP)
		return -EINVAL;
	pos++;
	if (aml_pkg_length(aml, len, &pos, &end) || pos >= end)
		return -EINVAL;
	count = aml[pos++];
	if (!count || aml_integer(aml, end, &pos, &a))
		return -EINVAL;
	if (count == 1) {
		b = (a >> 8) & 0xFF;
		a &= 0xFF;
	} else if (aml_integer(aml, end, &pos, &b)) {
		return -EINVAL;
	}
	if (a > SLP_TYP_MAX || b > SLP_TYP_MAX)
		return -EINVAL;
	*typa = (u8)a;
	*typb = (u8)b;
	return 0;
}

static bool aml_after_name_op(const u8 *aml, size_t i)
{
	if (aml[i - 1] == AML_NAME_OP)
		return true;
	return i >= 2 && aml[i - 1] == AML_ROOT_CHAR && aml[i - 2] == AML_NAME_OP;
}

int acpi_aml_find_s5(const u8 *aml, size_t len, u8 *typa, u8 *typb)
{
	size_t i;

	if (!aml)
		return -ENOENT;
	for (i = 1; i + 4 <= len; i++) {
		if (aml[i] != '_' || memcmp(aml + i, "_S5_", 4) || !aml_after_name_op(aml, i))
			continue;
		return aml_s5_package(aml, len, i + 4, typa, typb);
	}
	return -ENOENT;
}

/* Search one DSDT/SSDT; warns when the package is malformed. */
static int acpi_s5_in(struct acpi_ctx *c, const u8 *t, u32 len, const char *what)
{
	struct acpi_info *o = c->out;
	size_t hdr = sizeof(struct acpi_sdt_header);
	int rc = acpi_aml_find_s5(t + hdr, len - hdr, &o->slp_typa, &o->slp_typb);

	if (rc == -EINVAL)
		acpi_warnf(c, "%s: \\_S5 package is truncated or malformed", what);
	return rc;
}

static void acpi_s5_find(struct acpi_ctx *c)
{
	struct acpi_info *o = c->out;
	struct acpi_table_rec *rec;
	const u8 *t = NULL;
	unsigned i;

	o->s5_status = -ENOENT;
	if (o->have_fadt && o->fadt.dsdt_phys)
		t = acpi_table_get(c, o->fadt.dsdt_phys, "DSDT", &rec);
	if (t)
		o->s5_status = acpi_s5_in(c, t, get_le32(t + 4), "DSDT");
	for (i = 0; o->s5_status == -ENOENT && i < c->nssdts; i++)
		o->s5_status = acpi_s5_in(c, c->ssdts[i].table, c->ssdts[i].len, "SSDT");
	o->have_s5 = o->s5_status == 0;
	if (!o->have_s5)
		o->slp_typa = o->slp_typb = 0;
}

/* ---- entry point -------------------------------------------------------- */

int acpi_parse(const struct acpi_mem *mem, const u8 *rsdp_copy, size_t rsdp_len,
	       struct acpi_info *out, acpi_warn_fn warn, void *arg)
{
	struct acpi_ctx c = { .mem = mem, .out = out, .warn = warn, .arg = arg };
	char line[64];
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->s5_status = -ENOENT;
	if (!mem || !mem->map)
		return -EINVAL;
	if (rsdp_copy)
		rc = acpi_rsdp_check(&c, rsdp_copy, rsdp_len, "RSDP (boot loader copy)");
	else
		rc = acpi_rsdp_scan(&c);
	if (!rc)
		rc = acpi_root_walk(&c);
	if (!rc)
		acpi_s5_find(&c);
	if (warn && out->warnings > ACPI_MAX_WARNINGS) {
		snprintf(line, sizeof(line), "%u more ACPI warnings not shown",
			 out->warnings - ACPI_MAX_WARNINGS);
		warn(arg, line);
	}
	return rc;
}
