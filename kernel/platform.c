/*
 * platform.c — the order in which the PC platform comes up.
 *
 *   1. the 8259s are remapped and masked (everything goes through the APICs);
 *   2. the ACPI tables say where the local APIC and IOAPICs are and how ISA
 *      IRQs are wired (without an MADT: the PC defaults);
 *   3. the boot CPU's local APIC is enabled, the IOAPICs registered;
 *   4. the PIT tick starts and interrupts are enabled;
 *   5. the local APIC timer is calibrated against the clock and started:
 *      every CPU gets its own TIME_TICK_HZ tick;
 *   6. console input moves to interrupts;
 *   7. the clock: kvmclock replaces the TSC as the source when KVM offers
 *      it, and the RTC gives the wall clock its base.
 */
#include "kernel/platform.h"
#include "drivers/acpi.h"
#include "drivers/ioapic.h"
#include "drivers/kvmclock.h"
#include "drivers/lapic.h"
#include "drivers/pic.h"
#include "drivers/rtc.h"
#include "kernel/console.h"
#include "kernel/irq.h"
#include "kernel/ktimer.h"
#include "kernel/sched.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/prof.h"
#include "kernel/time.h"
#include "kernel/watchdog.h"
#include "kernel/x86.h"

#define DEFAULT_IOAPIC 0xFEC00000ULL

static enum irq_result lapic_tick(void *arg)
{
	this_cpu()->ticks++;
	watchdog_tick(this_cpu()->irq_regs);
	prof_tick(this_cpu()->irq_regs);
	sched_tick();
	ktimer_tick();
	return IRQ_HANDLED;
}

static u64 kvm_offset; /* time_ns() - kvmclock at the switch */

/* kvmclock's records are per CPU: read this CPU's with interrupts off. */
static u64 kvm_read(void)
{
	u64 flags = read_rflags(), ns;

	cli();
	ns = kvmclock_ns(this_cpu()->cpu) + kvm_offset;
	if (flags & RFLAGS_IF)
		sti();
	return ns;
}

static void clock_init(void)
{
	s64 unix_now;
	u64 flags;

	if (kvmclock_init() == 0) {
		flags = read_rflags();
		cli();
		kvm_offset = time_ns() - kvmclock_ns(0);
		time_set_source(TIME_SOURCE_KVMCLOCK, kvm_read);
		if (flags & RFLAGS_IF)
			sti();
	}
	pr_info("time: clock source %s", time_source_name());
	if (rtc_read_unix(&unix_now) == 0)
		time_set_wall(unix_now);
	else
		pr_warn("time: the RTC could not be read; no wall clock");
}

/* Program this CPU's NMI input from the MADT (usually LINT1). */
static void nmi_lint_init(void)
{
	bool level, active_low;
	int lint = acpi_nmi_lint(this_cpu()->apic_id, &level, &active_low);

	if (lint >= 0)
		lapic_set_nmi((unsigned)lint, level, active_low);
}

void platform_init_cpu(void)
{
	if (kvmclock_available() && kvmclock_init_cpu(this_cpu()->cpu))
		pr_err("time: kvmclock failed on cpu%u", this_cpu()->cpu);
	lapic_init_cpu();
	this_cpu()->apic_id = lapic_id();
	nmi_lint_init();
	lapic_timer_start(TIME_TICK_HZ, VECTOR_LAPIC_TIMER);
}

void platform_init(void)
{
	int rc;

	pic_disable();
	acpi_init();
	if (lapic_init(acpi_lapic_address()))
		panic("platform: cannot map the local APIC");
	lapic_init_cpu();
	percpu_of(0)->apic_id = lapic_id();
	nmi_lint_init();
	if (!ioapic_count() && ioapic_add(0, DEFAULT_IOAPIC, 0))
		panic("platform: no IOAPIC");
	irq_request_vector(VECTOR_LAPIC_TIMER, lapic_tick, NULL, "lapic-timer");
	rc = time_tick_start();
	if (rc)
		pr_err("platform: PIT tick not started (%d)", rc);
	sti();
	lapic_timer_calibrate();
	lapic_timer_start(TIME_TICK_HZ, VECTOR_LAPIC_TIMER);
	console_enable_irq();
	clock_init();
}
