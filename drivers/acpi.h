/*
 * acpi.h — what the kernel uses from the ACPI tables.
 *
 * acpi_init() finds and checks the tables (drivers/acpi_tables.c parses
 * them), registers the IOAPICs and the ISA interrupt overrides, and keeps
 * what power management and SMP need.  Missing or broken tables leave the
 * PC defaults in place; they never stop the boot.
 */
#ifndef NOS_ACPI_H
#define NOS_ACPI_H

#include "types.h"

void acpi_init(void);
/* Local APIC physical address from the MADT, 0 when unknown. */
u64 acpi_lapic_address(void);
/* APIC ids of the enabled CPUs, boot CPU included; returns the count. */
unsigned acpi_cpu_apic_ids(u32 *ids, unsigned max);
/*
 * The local APIC input (0 or 1) the MADT wires to NMI on the CPU with
 * @apic_id, with its trigger and polarity; -ENOENT when none.
 */
int acpi_nmi_lint(u32 apic_id, bool *level, bool *active_low);
/*
 * The ECAM window of PCI segment @segment from the MCFG table: the base
 * address of bus 0 and the buses it covers.  -ENOENT when there is none.
 */
int acpi_pci_ecam(u16 segment, u64 *base, u8 *start_bus, u8 *end_bus);
/* Enter S5 (soft off) through PM1 control; returns -errno if it cannot. */
int acpi_poweroff(void);
/* Write the FADT reset register; returns -errno if there is none. */
int acpi_reset(void);

#endif
