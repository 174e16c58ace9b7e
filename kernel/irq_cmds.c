/*
 * irq_cmds.c — `irqstat`: how many interrupts each handler took on each CPU,
 * and how often each SoftIrq type ran on each CPU.
 */
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/shell.h"
#include "kernel/smp.h"
#include "kernel/softirq.h"

/* CPUs worth a column: every CPU that is or was started. */
static unsigned irqstat_columns(void)
{
	unsigned n = 1;

	for (unsigned c = 1; c < CONFIG_MAX_CPUS; c++)
		if (percpu_of(c)->state != CPU_OFFLINE)
			n = c + 1;
	return n;
}

static void irqstat_row(struct sh *sh, const struct irq_action *a, unsigned cols)
{
	u64 total = 0;

	sh_printf(sh, "0x%02x ", a->vector);
	if (a->gsi != ~0u)
		sh_printf(sh, "gsi %-3u ", a->gsi);
	else
		sh_printf(sh, "        ");
	for (unsigned c = 0; c < cols; c++) {
		u64 n = READ_ONCE(a->count[c]); /* read once: it may tick meanwhile */

		sh_printf(sh, " %10llu", (unsigned long long)n);
		total += n;
	}
	sh_printf(sh, " %11llu  %s\n", (unsigned long long)total, a->name);
}

static int cmd_irqstat(struct sh *sh, int argc, char **argv)
{
	unsigned cols = irqstat_columns();

	sh_printf(sh, "vec          ");
	for (unsigned c = 0; c < cols; c++)
		sh_printf(sh, "       cpu%u", c);
	sh_printf(sh, "       total  device\n");
	for (const struct irq_action *a = irq_next_action(NULL); a && !sh_output_error(sh);
	     a = irq_next_action(a))
		irqstat_row(sh, a, cols);
	sh_printf(sh, "spurious: %llu\n", (unsigned long long)irq_spurious_count());
	for (unsigned i = 0; i < SOFTIRQ_TYPES; i++) {
		u64 total = 0;

		sh_printf(sh, "softirq      ");
		for (unsigned c = 0; c < cols; c++) {
			u64 n = softirq_count(i, c);

			sh_printf(sh, " %10llu", (unsigned long long)n);
			total += n;
		}
		sh_printf(sh, " %11llu  %s\n", (unsigned long long)total, softirq_name(i));
	}
	return sh_output_error(sh);
}
SHELL_CMD("irqstat", "", "interrupts taken per device and per CPU", 0, 0, cmd_irqstat);
