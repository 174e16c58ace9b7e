/*
 * lapic.h — the local APIC of each CPU: interrupt acknowledgement, IPIs,
 * and the per-CPU timer.
 *
 * xAPIC (MMIO, mapped uncached once) is used everywhere; when the CPU
 * offers x2APIC it is switched on and the same registers are reached as
 * MSRs.  Callers do not see the difference.
 */
#ifndef NOS_LAPIC_H
#define NOS_LAPIC_H

#include "types.h"

#define LAPIC_SPURIOUS_VECTOR 0xFF

/* Delivery modes for lapic_send_ipi(). */
#define IPI_FIXED 0x000
#define IPI_NMI 0x400
#define IPI_INIT 0x500
#define IPI_STARTUP 0x600

/* Set up the BSP's mapping from the MADT address (0: use the MSR). */
int lapic_init(u64 phys);
/* Enable the local APIC of the calling CPU (spurious vector, LVTs masked). */
void lapic_init_cpu(void);
/* Wire local interrupt input @lint (0/1) to NMI, as the MADT says. */
void lapic_set_nmi(unsigned lint, bool level, bool active_low);
u32 lapic_id(void);
bool lapic_x2apic(void);
void lapic_eoi(void);
/*
 * Send an IPI with @mode (IPI_*) and @vector to the CPU with APIC id
 * @apic_id and wait until the local APIC has accepted it.
 */
void lapic_send_ipi(u32 apic_id, u32 mode, u8 vector);
/* Send @vector to every CPU except the caller. */
void lapic_send_ipi_others(u32 mode, u8 vector);

/* Calibrate the timer against the TSC clock once (BSP). */
void lapic_timer_calibrate(void);
/* Start a periodic timer interrupt at @hz on @vector on this CPU. */
void lapic_timer_start(unsigned hz, u8 vector);
u32 lapic_timer_ticks_per_sec(void);
/* In-service / request register word @i (vectors 32*i..32*i+31), for diagnostics. */
u32 lapic_isr_word(unsigned i);
u32 lapic_irr_word(unsigned i);

#endif
