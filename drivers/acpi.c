/*
 * acpi.c — ACPI glue (placeholder until the table parser lands): no tables
 * are read yet, so the PC defaults apply.
 */
#include "drivers/acpi.h"
#include "errno.h"

void acpi_init(void)
{
}

u64 acpi_lapic_address(void)
{
	return 0;
}

unsigned acpi_cpu_apic_ids(u32 *ids, unsigned max)
{
	return 0;
}

int acpi_poweroff(void)
{
	return -ENODEV;
}

int acpi_reset(void)
{
	return -ENODEV;
}
