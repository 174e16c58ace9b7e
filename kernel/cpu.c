/*
 * cpu.c — GDT, TSS and IDT set-up, and CPU identification.
 *
 * Long mode ignores segment bases and limits except for the TSS, so the GDT
 * holds flat code/data descriptors and one 16-byte TSS descriptor.  The TSS
 * matters for its interrupt stack table only (no user mode yet).
 * IDT entries point at the stubs in isr.asm (isr_stub_table); all 256
 * vectors are installed as interrupt gates, and the faults that must run
 * even on a broken stack use IST stacks.
 */
#include "kernel/cpu.h"
#include "compiler.h"
#include "kernel/percpu.h"
#include "kernel/x86.h"
#include "lib/string.h"

#define IST_STACK_SIZE 8192
#define IDT_ENTRIES 256
#define GATE_INTERRUPT 0x8E

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __packed;

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

struct cpu_tables {
	u64 gdt[5];
	struct tss tss;
	u8 ist_stacks[4][IST_STACK_SIZE] __aligned(16);
};

_Static_assert(sizeof(struct tss) == 104, "TSS layout");
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

extern const u64 isr_stub_table[IDT_ENTRIES];

static struct cpu_tables cpu_tables[CONFIG_MAX_CPUS] __aligned(16);
static struct idt_gate idt[IDT_ENTRIES] __aligned(16);
static bool idt_ready;

struct percpu percpu_area[CONFIG_MAX_CPUS];

static void tss_descriptor(u64 *slot, const struct tss *tss)
{
	u64 base = (u64)tss, limit = sizeof(*tss) - 1;

	slot[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
		  (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	slot[1] = base >> 32;
}

static void idt_set_gate(unsigned vec, u64 handler, u8 ist)
{
	struct idt_gate *g = &idt[vec];

	g->offset_lo = handler & 0xFFFF;
	g->selector = GDT_KERNEL_CODE;
	g->ist = ist;
	g->type = GATE_INTERRUPT;
	g->offset_mid = (handler >> 16) & 0xFFFF;
	g->offset_hi = handler >> 32;
	g->reserved = 0;
}

static void idt_build(void)
{
	for (unsigned v = 0; v < IDT_ENTRIES; v++)
		idt_set_gate(v, isr_stub_table[v], 0);
	idt[2].ist = IST_NMI;
	idt[8].ist = IST_DOUBLE_FAULT;
	idt[14].ist = IST_PAGE_FAULT;
	idt[18].ist = IST_MACHINE_CHECK;
	idt_ready = true;
}

static void load_gdt_and_tss(struct cpu_tables *t)
{
	struct desc_ptr gdtr = { sizeof(t->gdt) - 1, (u64)t->gdt };

	__asm__ __volatile__(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"xorl %%eax, %%eax\n\t"
		"movw %%ax, %%fs\n\t"
		"movw %%ax, %%gs\n\t"
		"ltr %w3"
		:
		: "m"(gdtr), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
		: "rax", "memory");
}

void cpu_init_tables(unsigned cpu)
{
	struct cpu_tables *t = &cpu_tables[cpu];
	struct desc_ptr idtr = { sizeof(idt) - 1, (u64)idt };

	memset(t, 0, sizeof(*t));
	t->gdt[1] = 0x00AF9A000000FFFFULL; /* 64-bit code, DPL 0 */
	t->gdt[2] = 0x00CF92000000FFFFULL; /* data, DPL 0 */
	tss_descriptor(&t->gdt[3], &t->tss);
	for (unsigned i = 0; i < 4; i++)
		t->tss.ist[i] = (u64)t->ist_stacks[i] + IST_STACK_SIZE;
	t->tss.iomap_base = sizeof(struct tss);
	load_gdt_and_tss(t);
	/* After the segment reload, which clears the GS base. */
	percpu_area[cpu].self = &percpu_area[cpu];
	percpu_area[cpu].cpu = cpu;
	wrmsr(MSR_GS_BASE, (u64)&percpu_area[cpu]);
	if (!idt_ready)
		idt_build();
	__asm__ __volatile__("lidt %0" : : "m"(idtr));
}

unsigned cpu_id(void)
{
	return this_cpu()->cpu;
}

static void cpuid_string(char *out, u32 leaf)
{
	struct cpuid_regs r = cpuid(leaf, 0);

	memcpy(out, &r, 16);
}

void cpu_identify(struct cpu_info *info)
{
	struct cpuid_regs r = cpuid(0, 0);
	u32 max_ext;

	memset(info, 0, sizeof(*info));
	memcpy(info->vendor, &r.ebx, 4);
	memcpy(info->vendor + 4, &r.edx, 4);
	memcpy(info->vendor + 8, &r.ecx, 4);
	if (r.eax >= 7)
		info->feat7_ebx = cpuid(7, 0).ebx;
	r = cpuid(1, 0);
	info->stepping = r.eax & 0xF;
	info->model = ((r.eax >> 4) & 0xF) | (((r.eax >> 16) & 0xF) << 4);
	info->family = ((r.eax >> 8) & 0xF) + ((r.eax >> 20) & 0xFF);
	info->apic_id = r.ebx >> 24;
	info->feat_ecx = r.ecx;
	info->feat_edx = r.edx;
	max_ext = cpuid(0x80000000, 0).eax;
	if (max_ext >= 0x80000001) {
		r = cpuid(0x80000001, 0);
		info->ext_feat_ecx = r.ecx;
		info->ext_feat_edx = r.edx;
	}
	if (max_ext >= 0x80000004)
		for (unsigned i = 0; i < 3; i++)
			cpuid_string(info->brand + 16 * i, 0x80000002 + i);
}
