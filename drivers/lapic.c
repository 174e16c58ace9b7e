/*
 * lapic.c — local APIC access in xAPIC (MMIO) or x2APIC (MSR) mode.
 *
 * Register offsets are the xAPIC ones; in x2APIC mode register `off` is MSR
 * 0x800 + off / 16, and the interrupt command register is one 64-bit MSR
 * with the destination in its upper half.  The mode is chosen once at boot
 * (lapic_init) and every CPU uses the same.
 *
 * The timer counts down from an initial count at the bus clock divided by
 * 16.  Its rate is not architectural, so it is measured once against the
 * calibrated TSC clock (10 ms) and every CPU reuses the result.
 */
#include "drivers/lapic.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "mm/paging.h"

#define REG_ID 0x20
#define REG_EOI 0xB0
#define REG_SVR 0xF0
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3E0

#define SVR_ENABLE 0x100
#define LVT_MASKED 0x10000
#define LVT_DELIVERY_NMI 0x400
#define LVT_ACTIVE_LOW 0x2000
#define LVT_LEVEL 0x8000
#define TIMER_PERIODIC 0x20000
#define ICR_PENDING 0x1000
#define ICR_LEVEL_ASSERT 0x4000
#define ICR_ALL_BUT_SELF 0xC0000
#define DIV_16 0x3
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_BASE_X2 (1ULL << 10)
#define CPUID_X2APIC (1u << 21)

static volatile u32 *lapic_mmio;
static bool x2apic;
static u32 timer_per_sec;

static u32 lapic_read(u32 off)
{
	if (x2apic)
		return (u32)rdmsr(0x800 + (off >> 4));
	return lapic_mmio[off / 4];
}

static void lapic_write(u32 off, u32 v)
{
	if (x2apic)
		wrmsr(0x800 + (off >> 4), v);
	else
		lapic_mmio[off / 4] = v;
}

int lapic_init(u64 phys)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	x2apic = cpuid(1, 0).ecx & CPUID_X2APIC;
	if (x2apic)
		return 0;
	if (!phys)
		phys = base & ~0xFFFULL;
	lapic_mmio = mmio_map(phys, 4096);
	return lapic_mmio ? 0 : -ENOMEM;
}

void lapic_init_cpu(void)
{
	u64 base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;

	if (x2apic)
		base |= APIC_BASE_X2;
	wrmsr(MSR_APIC_BASE, base);
	lapic_write(REG_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	lapic_write(REG_LVT_ERROR, LVT_MASKED);
	lapic_write(REG_EOI, 0);
}

void lapic_set_nmi(unsigned lint, bool level, bool active_low)
{
	u32 v = LVT_DELIVERY_NMI | (active_low ? LVT_ACTIVE_LOW : 0) | (level ? LVT_LEVEL : 0);

	lapic_write(lint ? REG_LVT_LINT1 : REG_LVT_LINT0, v);
}

u32 lapic_id(void)
{
	return x2apic ? lapic_read(REG_ID) : lapic_read(REG_ID) >> 24;
}

bool lapic_x2apic(void)
{
	return x2apic;
}

void lapic_eoi(void)
{
	lapic_write(REG_EOI, 0);
}

static void lapic_icr(u32 dest, u32 low)
{
	if (x2apic) {
		wrmsr(0x830, ((u64)dest << 32) | low);
		return;
	}
	lapic_write(REG_ICR_HI, dest << 24);
	lapic_write(REG_ICR_LO, low);
	for (unsigned i = 0; i < 1000000 && (lapic_read(REG_ICR_LO) & ICR_PENDING); i++)
		cpu_relax();
}

void lapic_send_ipi(u32 apic_id, u32 mode, u8 vector)
{
	lapic_icr(apic_id, mode | ICR_LEVEL_ASSERT | vector);
}

void lapic_send_ipi_others(u32 mode, u8 vector)
{
	lapic_icr(0, ICR_ALL_BUT_SELF | mode | ICR_LEVEL_ASSERT | vector);
}

void lapic_timer_calibrate(void)
{
	u64 t0, t1;
	u32 left;

	lapic_write(REG_TIMER_DIV, DIV_16);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	lapic_write(REG_TIMER_INIT, 0xFFFFFFFF);
	t0 = time_ns();
	while (time_ns() - t0 < 10000000)
		cpu_relax();
	left = lapic_read(REG_TIMER_CUR);
	t1 = time_ns();
	lapic_write(REG_TIMER_INIT, 0);
	timer_per_sec = (u32)((u64)(0xFFFFFFFFu - left) * 1000000000ULL / (t1 - t0));
	pr_info("lapic: %s mode, timer %u kHz (bus clock / 16)", x2apic ? "x2APIC" : "xAPIC",
		timer_per_sec / 1000);
}

void lapic_timer_start(unsigned hz, u8 vector)
{
	lapic_write(REG_TIMER_DIV, DIV_16);
	lapic_write(REG_LVT_TIMER, TIMER_PERIODIC | vector);
	lapic_write(REG_TIMER_INIT, timer_per_sec / hz ? timer_per_sec / hz : 1);
}

u32 lapic_timer_ticks_per_sec(void)
{
	return timer_per_sec;
}

u32 lapic_isr_word(unsigned i)
{
	return lapic_read(0x100 + 0x10 * i);
}

u32 lapic_irr_word(unsigned i)
{
	return lapic_read(0x200 + 0x10 * i);
}
