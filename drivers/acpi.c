/*
 * acpi.c — the kernel's side of ACPI: reading the tables through the
 * direct map, applying what they say, power-off and reset, and `acpi`.
 *
 * The parser (acpi_tables.c) reads physical memory only through
 * acpi_map(), which allows what the direct map covers (memmap_readable():
 * the low 1 MiB, RAM and ACPI memory) and small firmware-reserved ranges,
 * mapped on demand.  An address taken from a corrupt table that points
 * anywhere else — past RAM, into a large device window — is refused.
 */
#include "drivers/acpi.h"
#include "boot/mb2.h"
#include "compiler.h"
#include "drivers/acpi_tables.h"
#include "drivers/ioapic.h"
#include "errno.h"
#include "kernel/irq.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "kernel/x86.h"
#include "mm/addr.h"
#include "mm/memmap.h"
#include "mm/paging.h"

#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << 10)
#define PM1_SLP_EN (1u << 13)

static struct acpi_info acpi;
static bool acpi_ok;

#define FW_MAP_MAX (64ULL << 20)

static u8 *fw_maps[MB2_MMAP_MAX]; /* mapping of each reserved range, once made */

/*
 * Firmware may keep its tables in ranges it marks reserved (SeaBIOS puts
 * them just below the top of low RAM).  Those are not in the direct map:
 * the reserved range that holds the table is mapped on first use (ranges
 * above FW_MAP_MAX are device windows, not tables, and are refused).
 */
static const void *reserved_map(u64 phys, u64 end)
{
	for (unsigned i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = &boot_info.mmap[i];

		if (e->type != MB2_MEM_RESERVED || phys < e->base || end > e->base + e->len ||
		    e->len > FW_MAP_MAX)
			continue;
		if (!fw_maps[i])
			fw_maps[i] = mmio_map(e->base, e->len);
		return fw_maps[i] ? fw_maps[i] + (phys - e->base) : NULL;
	}
	return NULL;
}

static const void *acpi_map(void *ctx, u64 phys, size_t len)
{
	if (phys + len < phys)
		return NULL;
	if (memmap_readable(phys, len))
		return phys_to_virt(phys);
	return reserved_map(phys, phys + len);
}

static void acpi_warn(void *arg, const char *msg)
{
	pr_warn("acpi: %s", msg);
}

/* ISA polarity/trigger: "conforms" means the ISA default, active high + edge. */
static void apply_overrides(void)
{
	for (unsigned i = 0; i < acpi.noverrides; i++) {
		const struct acpi_irq_override *o = &acpi.overrides[i];
		u16 pol = o->flags & ACPI_INTI_POLARITY_MASK, trig = o->flags & ACPI_INTI_TRIGGER_MASK;

		irq_set_isa_override(o->source_irq, o->gsi, trig == ACPI_INTI_TRIGGER_LEVEL,
				     pol == ACPI_INTI_POLARITY_LOW);
	}
}

static void apply_ioapics(void)
{
	for (unsigned i = 0; i < acpi.nioapics; i++) {
		int rc = ioapic_add(acpi.ioapics[i].id, acpi.ioapics[i].address,
				    acpi.ioapics[i].gsi_base);
		if (rc)
			pr_warn("acpi: IOAPIC %u at 0x%x not usable (%d)", acpi.ioapics[i].id,
				acpi.ioapics[i].address, rc);
	}
}

void acpi_init(void)
{
	struct acpi_mem mem = { acpi_map, NULL };
	const u8 *copy = boot_info.rsdp_len ? boot_info.rsdp : NULL;
	int rc = acpi_parse(&mem, copy, boot_info.rsdp_len, &acpi, acpi_warn, NULL);

	if (rc && copy)
		rc = acpi_parse(&mem, NULL, 0, &acpi, acpi_warn, NULL); /* the BIOS scan */
	if (rc) {
		pr_warn("acpi: no usable tables (%d); using PC defaults", rc);
		return;
	}
	acpi_ok = true;
	pr_info("acpi: %s at 0x%llx, %u tables; %u CPUs, %u IOAPICs, %u overrides, S5 %s",
		acpi.root_sig, (unsigned long long)acpi.root_phys, acpi.ntables,
		acpi.ncpus_enabled, acpi.nioapics, acpi.noverrides, acpi.have_s5 ? "yes" : "no");
	apply_overrides();
	apply_ioapics();
}

u64 acpi_lapic_address(void)
{
	return acpi_ok && acpi.have_madt ? acpi.lapic_addr : 0;
}

unsigned acpi_cpu_apic_ids(u32 *ids, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; acpi_ok && i < acpi.ncpus && n < max; i++)
		if (acpi.cpus[i].enabled)
			ids[n++] = acpi.cpus[i].apic_id;
	return n;
}

/* The ACPI processor uid of the CPU with @apic_id, or ACPI_UID_ALL. */
static u32 uid_of(u32 apic_id)
{
	for (unsigned i = 0; i < acpi.ncpus; i++)
		if (acpi.cpus[i].apic_id == apic_id)
			return acpi.cpus[i].uid;
	return ACPI_UID_ALL;
}

int acpi_nmi_lint(u32 apic_id, bool *level, bool *active_low)
{
	u32 uid = uid_of(apic_id);

	for (unsigned i = 0; acpi_ok && i < acpi.nlapic_nmis; i++) {
		const struct acpi_lapic_nmi *n = &acpi.lapic_nmis[i];

		if (n->uid != ACPI_UID_ALL && n->uid != uid)
			continue;
		*level = (n->flags & ACPI_INTI_TRIGGER_MASK) == ACPI_INTI_TRIGGER_LEVEL;
		*active_low = (n->flags & ACPI_INTI_POLARITY_MASK) == ACPI_INTI_POLARITY_LOW;
		return n->lint;
	}
	return -ENOENT;
}

static void pm1_sleep(u16 port, u8 typ)
{
	u16 v = inw(port);

	outw(port, (u16)((v & ~PM1_SLP_TYP_MASK) | (typ << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
}

int acpi_poweroff(void)
{
	if (!acpi_ok || !acpi.have_fadt || !acpi.fadt.pm1a_cnt_port)
		return -ENODEV;
	if (!acpi.have_s5)
		return -ENOENT;
	pm1_sleep(acpi.fadt.pm1a_cnt_port, acpi.slp_typa);
	if (acpi.fadt.pm1b_cnt_port)
		pm1_sleep(acpi.fadt.pm1b_cnt_port, acpi.slp_typb);
	return 0;
}

int acpi_reset(void)
{
	const struct acpi_gas *r = &acpi.fadt.reset_reg;
	volatile u8 *mmio;

	if (!acpi_ok || !acpi.have_fadt || !acpi.fadt.reset_supported)
		return -ENODEV;
	if (r->space_id == ACPI_GAS_IO) {
		outb((u16)r->address, acpi.fadt.reset_value);
		return 0;
	}
	if (r->space_id == ACPI_GAS_MEMORY && (mmio = mmio_map(r->address, 1))) {
		*mmio = acpi.fadt.reset_value;
		return 0;
	}
	return -EOPNOTSUPP;
}

static int cmd_acpi(struct sh *sh, int argc, char **argv)
{
	if (!acpi_ok)
		return sh_error(sh, "no usable ACPI tables");
	sh_printf(sh, "RSDP rev %u (%s) -> %s at 0x%llx\n", acpi.rsdp_revision, acpi.rsdp_oem_id,
		  acpi.root_sig, (unsigned long long)acpi.root_phys);
	for (unsigned i = 0; i < acpi.ntables && !sh_output_error(sh); i++) {
		const struct acpi_table_rec *t = &acpi.tables[i];

		sh_printf(sh, "%-4s 0x%08llx %6u bytes rev %u %-6s %-8s%s%s\n", t->signature,
			  (unsigned long long)t->phys, t->length, t->revision, t->oem_id,
			  t->oem_table_id, t->status ? "  skipped: " : "",
			  t->status ? errno_name(t->status) : "");
	}
	sh_printf(sh, "cpus %u, ioapics %u, overrides %u, lapic 0x%llx\n", acpi.ncpus_enabled,
		  acpi.nioapics, acpi.noverrides, (unsigned long long)acpi.lapic_addr);
	sh_printf(sh, "pm1a_cnt 0x%x, reset %s, S5 %s (%u/%u), %u warnings\n",
		  acpi.fadt.pm1a_cnt_port, acpi.fadt.reset_supported ? "yes" : "no",
		  acpi.have_s5 ? "yes" : "no", acpi.slp_typa, acpi.slp_typb, acpi.warnings);
	return sh_output_error(sh);
}
SHELL_CMD("acpi", "", "list the ACPI tables and what nos took from them", 0, 0, cmd_acpi);

int acpi_pci_ecam(u16 segment, u64 *base, u8 *start_bus, u8 *end_bus)
{
	for (unsigned i = 0; i < acpi.nmcfg; i++) {
		const struct acpi_mcfg_entry *m = &acpi.mcfg[i];

		if (m->segment == segment && m->base && m->start_bus <= m->end_bus) {
			*base = m->base;
			*start_bus = m->start_bus;
			*end_bus = m->end_bus;
			return 0;
		}
	}
	return -ENOENT;
}
