/*
 * platform.h — bringing up the PC platform: firmware tables, interrupt
 * controllers, timers, and interrupt-driven console input.
 */
#ifndef NOS_PLATFORM_H
#define NOS_PLATFORM_H

/* Called once on the boot CPU after mm_init(); enables interrupts. */
void platform_init(void);
/* Per-CPU part (local APIC and its timer), on every CPU including the BSP. */
void platform_init_cpu(void);

#endif
