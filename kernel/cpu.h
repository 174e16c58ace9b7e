/*
 * cpu.h — per-CPU descriptor tables and identity.
 *
 * Each CPU gets its own GDT (null, kernel code 0x08, kernel data 0x10, TSS
 * 0x18) and TSS whose interrupt stack table gives the double-fault, NMI,
 * machine-check and page-fault handlers stacks of their own, so a kernel
 * stack overflow still produces a report.  The IDT is shared by all CPUs.
 */
#ifndef NOS_CPU_H
#define NOS_CPU_H

#include "types.h"
#include "config.h"

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS 0x18

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_PAGE_FAULT 4

/*
 * Load this CPU's GDT, TSS and the IDT, and point GS at its struct percpu.
 * @cpu is its index (0 = BSP).
 */
void cpu_init_tables(unsigned cpu);
/* Index of the running CPU (0 = the boot CPU). */
unsigned cpu_id(void);

struct cpu_info {
	char vendor[13];
	char brand[49];
	u32 family, model, stepping;
	u32 apic_id;
	u32 feat_ecx, feat_edx;      /* CPUID 1 */
	u32 ext_feat_ecx, ext_feat_edx; /* CPUID 0x80000001 */
	u32 feat7_ebx;               /* CPUID 7.0 */
};

void cpu_identify(struct cpu_info *info);

#endif
