/*
 * x86.h — thin inline wrappers for the x86-64 instructions C cannot express:
 * port I/O, control registers, MSRs, CPUID, the per-CPU GS segment, the
 * interrupt flag and halting.
 * Each wrapper is one instruction with the right constraints and nothing
 * else, so callers read as the hardware manual does.
 */
#ifndef NOS_X86_H
#define NOS_X86_H

#include "types.h"
#include "compiler.h"

#define MSR_EFER 0xC0000080
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)
#define MSR_GS_BASE 0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_APIC_BASE 0x1B

#define CR0_WP (1ul << 16)
#define CR0_PG (1ul << 31)
#define RFLAGS_IF (1ul << 9)

static __always_inline void outb(u16 port, u8 v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static __always_inline void outw(u16 port, u16 v)
{
	__asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(port));
}

static __always_inline void outl(u16 port, u32 v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}

static __always_inline u8 inb(u16 port)
{
	u8 v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static __always_inline u16 inw(u16 port)
{
	u16 v;

	__asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static __always_inline u32 inl(u16 port)
{
	u32 v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* A write to an unused port: about a microsecond of delay on real hardware. */
static __always_inline void io_wait(void)
{
	outb(0x80, 0);
}

#define DEFINE_READ_CR(n)                                                      \
	static __always_inline u64 read_cr##n(void)                            \
	{                                                                      \
		u64 v;                                                         \
		__asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v));          \
		return v;                                                      \
	}
#define DEFINE_WRITE_CR(n)                                                     \
	static __always_inline void write_cr##n(u64 v)                         \
	{                                                                      \
		__asm__ __volatile__("mov %0, %%cr" #n : : "r"(v) : "memory"); \
	}
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(3)
DEFINE_READ_CR(4)
DEFINE_WRITE_CR(0)
DEFINE_WRITE_CR(3)
DEFINE_WRITE_CR(4)

static __always_inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static __always_inline void wrmsr(u32 msr, u64 v)
{
	__asm__ __volatile__("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

static __always_inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static __always_inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	__asm__ __volatile__("cpuid"
			     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			     : "a"(leaf), "c"(subleaf));
	return r;
}

/*
 * Whether the calling function's frame is aligned as the System V ABI has
 * it: RSP is 16-aligned at every call, so a callee's frame pointer (its
 * entry RSP less the pushed RBP) is too.  Read from the register: the
 * compiler assumes the alignment, folds C arithmetic on it, and an entry
 * path that breaks it silently misplaces stack data (clang turns p + 9 on
 * a 16-aligned array into p | 9).  Needs frame pointers, which the kernel
 * is built with.
 */
static __always_inline bool frame_aligned(void)
{
	u64 bp;

	__asm__ __volatile__("movq %%rbp, %0" : "=r"(bp));
	return (bp & 15) == 0;
}

/* The quadword at %gs:0.  Each CPU's GS base points at its struct percpu,
 * whose first field points at itself (kernel/percpu.h's this_cpu()). */
static __always_inline u64 read_gs_qword0(void)
{
	u64 v;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(v));
	return v;
}

static __always_inline u64 read_rflags(void)
{
	u64 f;

	__asm__ __volatile__("pushfq; popq %0" : "=r"(f));
	return f;
}

static __always_inline void cli(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

static __always_inline void sti(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}

static __always_inline void hlt(void)
{
	__asm__ __volatile__("hlt" ::: "memory");
}

static __always_inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

static __always_inline void invlpg(u64 va)
{
	__asm__ __volatile__("invlpg (%0)" : : "r"(va) : "memory");
}

static __always_inline __noreturn void halt_forever(void)
{
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

#endif
