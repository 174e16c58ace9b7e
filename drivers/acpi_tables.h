/*
 * acpi_tables.h — a pure parser for the static ACPI tables.
 *
 * acpi_parse() finds the RSDP, walks the RSDT or XSDT and decodes what the
 * kernel needs to bring the machine up, into one struct acpi_info:
 *
 *   MADT ("APIC")  local APIC address, CPUs (local APIC and x2APIC entries),
 *                  IO APICs, ISA interrupt source overrides, NMI wiring,
 *                  whether a pair of 8259 PICs is present;
 *   FADT ("FACP")  DSDT/FACS addresses, SCI, SMI command port, PM1 and PM
 *                  timer I/O ports, reset register, IA-PC boot flags;
 *   DSDT / SSDTs   the \_S5 sleep type values (for power off), found by a
 *                  bounded byte search of the AML — no interpreter;
 *   MCFG           PCI Express ECAM windows;
 *   HPET           the timer block's address;
 *
 * plus a list of every table met (signature, address, length, revision,
 * OEM id, and whether it was used) for the `acpi` shell command.
 *
 * The parser does nothing else: it allocates nothing, takes no locks, logs
 * nothing itself and touches no hardware, so it runs unchanged in the host
 * unit tests.  Physical memory is reached only through the caller's
 * struct acpi_mem, and every problem is reported as one line through the
 * caller's acpi_warn_fn.
 *
 * Trust rules.  Tables come from firmware and are treated like input from
 * a disk: a table is used only if its header maps, its length is at least
 * its fixed part and at most ACPI_TABLE_MAX_LEN, the whole length maps and
 * shows the same header again, and its bytes sum to zero.  Anything else is
 * skipped with a warning naming the table and the reason; nothing past a
 * table's length is ever read.
 * Fixed-size arrays below have caps; entries past a cap are dropped with
 * one warning.
 *
 * Context: boot, single-threaded, before interrupts; acpi_parse() may also
 * run later (it only reads).  It is not reentrant per struct acpi_info.
 */
#ifndef NOS_DRIVERS_ACPI_TABLES_H
#define NOS_DRIVERS_ACPI_TABLES_H

#include "compiler.h"
#include "types.h"

/*
 * How the parser reads physical memory.  map() returns a pointer through
 * which the @len bytes at @phys can be read, or NULL when any of them is
 * not readable.  Pointers it returns must stay valid until acpi_parse()
 * returns (the parser holds the root table while it reads the others).
 * The BIOS-area scan calls map() once per 16-byte step (about 8,000
 * times), so it should be cheap — a direct-map add is ideal.
 */
struct acpi_mem {
	const void *(*map)(void *ctx, u64 phys, size_t len);
	void *ctx;
};

/* Receives one problem per call, a single line without '\n'. */
typedef void (*acpi_warn_fn)(void *arg, const char *msg);

#define ACPI_TABLE_MAX_LEN (1u << 20)  /* longer tables are refused */
#define ACPI_MAX_TABLES 32
#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_OVERRIDES 32
#define ACPI_MAX_NMI_SOURCES 8
#define ACPI_MAX_LAPIC_NMIS 16
#define ACPI_MAX_MCFG 8
#define ACPI_MAX_SSDTS 16
#define ACPI_MAX_WARNINGS 32   /* lines passed to warn; the rest are counted */

#define ACPI_UID_ALL 0xFFFFFFFFu /* a local APIC NMI that applies to every CPU */

/* MPS INTI flags of overrides and NMIs: polarity bits 0-1, trigger bits 2-3. */
#define ACPI_INTI_POLARITY_MASK 0x3
#define ACPI_INTI_POLARITY_CONFORMS 0x0
#define ACPI_INTI_POLARITY_HIGH 0x1
#define ACPI_INTI_POLARITY_LOW 0x3
#define ACPI_INTI_TRIGGER_MASK 0xC
#define ACPI_INTI_TRIGGER_CONFORMS 0x0
#define ACPI_INTI_TRIGGER_EDGE 0x4
#define ACPI_INTI_TRIGGER_LEVEL 0xC

/* Generic Address Structure address spaces. */
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO 1
#define ACPI_GAS_PCI_CONFIG 2

/* FADT flags (fadt.flags) the kernel cares about. */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED (1u << 20)

/* IA-PC boot architecture flags (fadt.iapc_boot_arch). */
#define ACPI_BOOT_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_8042 (1u << 1)
#define ACPI_BOOT_NO_VGA (1u << 2)
#define ACPI_BOOT_NO_MSI (1u << 3)
#define ACPI_BOOT_NO_ASPM (1u << 4)
#define ACPI_BOOT_NO_CMOS_RTC (1u << 5)

/* Strings are NUL-terminated, unprintable bytes shown as '?', ids trimmed. */
struct acpi_table_rec {
	char signature[5];
	char oem_id[7];
	char oem_table_id[9];
	u8 revision;
	u32 length;
	u64 phys;
	int status;            /* 0: used; else why it was skipped (-errno) */
};

struct acpi_gas {
	u8 space_id;           /* ACPI_GAS_* */
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
};

struct acpi_cpu {
	u32 apic_id;           /* local APIC / x2APIC id, unique in cpus[] */
	u32 uid;               /* ACPI processor id (type 0) or _UID (type 9) */
	bool enabled;          /* usable now */
	bool online_capable;   /* not enabled, but may be brought up later */
	bool x2apic;           /* from an x2APIC entry */
};

struct acpi_ioapic {
	u8 id;
	u32 address;
	u32 gsi_base;
};

struct acpi_irq_override {
	u8 bus;                /* 0: ISA */
	u8 source_irq;
	u32 gsi;
	u16 flags;             /* ACPI_INTI_* */
};

struct acpi_nmi_source {
	u32 gsi;
	u16 flags;
};

struct acpi_lapic_nmi {
	u32 uid;               /* processor uid, or ACPI_UID_ALL */
	u16 flags;
	u8 lint;               /* LINT0 or LINT1 */
};

struct acpi_mcfg_entry {
	u64 base;              /* ECAM base for bus 0 of this segment */
	u16 segment;
	u8 start_bus;
	u8 end_bus;
};

struct acpi_fadt_info {
	u8 revision;
	u32 length;
	u32 flags;                 /* ACPI_FADT_* */
	u64 dsdt_phys;             /* X_DSDT when present and non-zero */
	u64 facs_phys;             /* X_FIRMWARE_CTRL likewise */
	u16 sci_irq;
	u32 smi_cmd;               /* 0: ACPI mode is fixed, nothing to enable */
	u8 acpi_enable;
	u8 acpi_disable;
	/* I/O ports (0: absent); the X_ GAS wins when it is in I/O space */
	u16 pm1a_evt_port, pm1b_evt_port;
	u16 pm1a_cnt_port, pm1b_cnt_port;
	u16 pm_tmr_port;
	u8 pm1_evt_len, pm1_cnt_len, pm_tmr_len;
	bool pm_tmr_32bit;         /* TMR_VAL_EXT */
	bool hw_reduced;
	/* Reset register: recorded whenever the table is long enough. */
	bool reset_reg_present;    /* RESET_REG lies inside the table */
	bool reset_supported;      /* ... and revision >= 2, RESET_REG_SUP, address != 0 */
	struct acpi_gas reset_reg;
	u8 reset_value;
	/* IA-PC boot flags: meaningful only from FADT revision 3 (ACPI 2.0). */
	bool boot_arch_valid;
	u16 iapc_boot_arch;        /* ACPI_BOOT_*; 0 when not valid */
	bool has_8042;             /* true when not valid: assume a PC */
	bool vga_not_present;      /* false when not valid */
};

struct acpi_info {
	/* Where the tables were found. */
	u8 rsdp_revision;
	char rsdp_oem_id[7];
	u64 rsdp_phys;             /* 0 when the caller passed a copy */
	char root_sig[5];          /* "RSDT" or "XSDT" */
	u64 root_phys;
	struct acpi_table_rec tables[ACPI_MAX_TABLES];
	unsigned ntables;

	/* MADT */
	bool have_madt;
	u64 lapic_addr;            /* type 5 override applied */
	bool pcat_compat;          /* dual 8259 PICs present: mask them */
	struct acpi_cpu cpus[ACPI_MAX_CPUS]; /* enabled or online-capable */
	unsigned ncpus;
	unsigned ncpus_enabled;
	unsigned ncpus_ignored;    /* neither flag set: ACPI says ignore them */
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned nioapics;
	struct acpi_irq_override overrides[ACPI_MAX_OVERRIDES];
	unsigned noverrides;
	struct acpi_nmi_source nmi_sources[ACPI_MAX_NMI_SOURCES];
	unsigned nnmi_sources;
	struct acpi_lapic_nmi lapic_nmis[ACPI_MAX_LAPIC_NMIS];
	unsigned nlapic_nmis;

	/* FADT */
	bool have_fadt;
	struct acpi_fadt_info fadt;

	/* \_S5: s5_status is 0 (found), -ENOENT (none) or -EINVAL (malformed). */
	bool have_s5;
	int s5_status;
	u8 slp_typa, slp_typb;

	/* MCFG */
	bool have_mcfg;
	struct acpi_mcfg_entry mcfg[ACPI_MAX_MCFG];
	unsigned nmcfg;

	/* HPET */
	bool have_hpet;
	u64 hpet_addr;
	u32 hpet_block_id;
	u8 hpet_number;
	u16 hpet_min_tick;

	unsigned warnings;         /* problems seen (all, not only those printed) */
};

/*
 * Find and decode the ACPI tables into @out (zeroed first).
 *
 * @rsdp_copy/@rsdp_len: the RSDP as the boot loader copied it (20 bytes for
 * ACPI 1.0, 36 for 2.0+), or NULL to search the EBDA's first KiB and
 * 0xE0000-0xFFFFF through @mem the way BIOS-era firmware expects.
 * @warn (may be NULL) gets one line per problem, at most ACPI_MAX_WARNINGS
 * of them; @arg is passed back to it.
 *
 * Returns 0 when an RSDP and a valid root table were found — individual
 * tables may still have been skipped (see out->tables[].status and the
 * warnings) — -ENOENT when no RSDP was found, or -EINVAL when the RSDP
 * copy or every root table is invalid (or @mem/@out is NULL).
 */
int acpi_parse(const struct acpi_mem *mem, const u8 *rsdp_copy, size_t rsdp_len,
	       struct acpi_info *out, acpi_warn_fn warn, void *arg);

/*
 * Search the AML byte stream @aml (@len bytes: a DSDT or SSDT without its
 * header) for Name(_S5_, Package(){a, b, ...}) and store the first two
 * integers in *@typa and *@typb.  Returns 0, -ENOENT when there is no such
 * name, or -EINVAL when the package is truncated or malformed or a value
 * exceeds the 3-bit SLP_TYP field.  Never reads outside [aml, aml + len).
 */
int acpi_aml_find_s5(const u8 *aml, size_t len, u8 *typa, u8 *typb);

/* The byte sum of @len bytes at @p, mod 256 (0 for a valid table). */
u8 acpi_checksum(const void *p, size_t len);

#endif
