/*
 * panic.c — the panic report and the frame-pointer backtrace.
 *
 * The kernel is built with frame pointers, so every C function's frame
 * starts with the caller's RBP followed by the return address.  The walk
 * follows that chain while it stays inside kernel memory, 8-byte aligned
 * and strictly upwards (a corrupted chain must end the walk, not loop or
 * fault).  Each return address is symbolized through ksyms; the lookup uses
 * addr - 1 so that a call that is the last instruction of a function is
 * attributed to that function, not to the next.
 *
 * The other CPUs are stopped first, with an NMI (which reaches them even
 * with interrupts off), so nothing else writes while the report is printed.
 * The report goes straight to the console devices, bypassing the shell's
 * quiet mode, because it is the last thing the machine will say.  Only the
 * first CPU to panic reports; a panic inside the report (a nested panic)
 * prints one line and halts.
 */
#include "kernel/panic.h"
#include "config.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/ksyms.h"
#include "kernel/regs.h"
#include "kernel/smp.h"
#include "kernel/x86.h"
#include "lib/format.h"
#include "lib/list.h"
#include "lib/string.h"
#include "mm/paging.h"

#define BACKTRACE_MAX 32

extern char __text_start[], __kernel_end[];

static volatile int panic_depth;

static void panic_out(const char *line, void *arg)
{
	console_set_shell_active(false);
	console_write_panic(line, strlen(line));
}

static void panic_printf(const char *fmt, ...) __printf(1, 2);

static void panic_printf(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	panic_out(line, NULL);
}

/*
 * Could @addr hold a stack frame?  It must be a kernel address, aligned,
 * and both of the frame's words must be mapped: a corrupted frame pointer
 * must end the walk, not fault inside the panic report.
 */
static bool frame_readable(u64 addr)
{
	u64 pa;

	return addr >= KERNEL_DIRECT_MAP && IS_ALIGNED(addr, 8) &&
	       paging_virt_to_phys(addr, &pa) == 0 && paging_virt_to_phys(addr + 8, &pa) == 0;
}

static void print_frame(unsigned n, u64 addr, u64 lookup,
			void (*print)(const char *line, void *arg), void *arg)
{
	char line[160];
	u64 off, size;
	const char *name = ksyms_lookup(lookup, &off, &size);

	if (name)
		snprintf(line, sizeof(line), "  #%u 0x%016llx %s+0x%llx/0x%llx\n", n,
			 (unsigned long long)addr, name, (unsigned long long)(addr - lookup + off),
			 (unsigned long long)size);
	else
		snprintf(line, sizeof(line), "  #%u 0x%016llx ?\n", n, (unsigned long long)addr);
	print(line, arg);
}

unsigned backtrace_print(u64 rip, u64 rbp, bool rip_is_return,
			 void (*print)(const char *line, void *arg), void *arg)
{
	unsigned n = 0;

	print_frame(n++, rip, rip_is_return ? rip - 1 : rip, print, arg);
	while (n < BACKTRACE_MAX && frame_readable(rbp)) {
		const u64 *frame = (const u64 *)rbp;
		u64 ret = frame[1];

		if (ret < (u64)__text_start || ret >= (u64)__kernel_end)
			break;
		print_frame(n++, ret, ret - 1, print, arg);
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	return n;
}

static const struct {
	char name[7];
	u8 slot; /* index of the register in struct regs, as u64s */
} reg_order[] = {
#define REG(n) { #n, __builtin_offsetof(struct regs, n) / 8 }
	REG(rip), REG(rsp), REG(rbp), REG(rflags), REG(rax), REG(rbx), REG(rcx), REG(rdx),
	REG(rsi), REG(rdi), REG(r8), REG(r9), REG(r10), REG(r11), REG(r12), REG(r13),
	REG(r14), REG(r15), REG(cs), REG(ss),
#undef REG
};

/* The registers four to a line, then the control registers. */
static void print_regs(const struct regs *r)
{
	const u64 *v = (const u64 *)r;

	for (size_t i = 0; i < ARRAY_SIZE(reg_order); i++)
		panic_printf("%-3s=0x%016llx%s", reg_order[i].name,
			     (unsigned long long)v[reg_order[i].slot],
			     i % 4 == 3 || i + 1 == ARRAY_SIZE(reg_order) ? "\n" : " ");
	panic_printf("cr0=0x%016llx cr3=0x%016llx cr4=0x%016llx\n",
		     (unsigned long long)read_cr0(), (unsigned long long)read_cr3(),
		     (unsigned long long)read_cr4());
}

static __noreturn void panic_report(const struct regs *r, const char *fmt, va_list ap)
{
	char reason[160];

	cli();
	if (__atomic_fetch_add(&panic_depth, 1, __ATOMIC_SEQ_CST) != 0) {
		if (panic_depth == 2)
			panic_out("*** nested panic; halting ***\n", NULL);
		halt_forever();
	}
	smp_stop_others();
	vsnprintf(reason, sizeof(reason), fmt, ap);
	panic_printf("\n*** KERNEL PANIC on cpu %u: %s ***\n", cpu_id(), reason);
	if (r->vector < 32)
		panic_printf("error code: 0x%016llx\ncr2: 0x%016llx\n",
			     (unsigned long long)r->error, (unsigned long long)read_cr2());
	print_regs(r);
	panic_out("backtrace:\n", NULL);
	backtrace_print(r->rip, r->rbp, r->vector >= 32, panic_out, NULL);
	panic_out("*** system halted ***\n", NULL);
	halt_forever();
}

__noreturn void panic_regs(const struct regs *regs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	panic_report(regs, fmt, ap);
}

/* Capture the caller's context so a direct panic reports like a fault. */
__noreturn __noinline void panic(const char *fmt, ...)
{
	struct regs r;
	u16 cs, ss;
	va_list ap;

	memset(&r, 0, sizeof(r));
	r.vector = ~0ULL; /* not an exception */
	r.rip = (u64)__builtin_return_address(0);
	r.rbp = *(u64 *)__builtin_frame_address(0); /* the caller's frame */
	r.rsp = (u64)__builtin_frame_address(0) + 16;
	__asm__ __volatile__("movq %%rbx, %0; movq %%r12, %1; movq %%r13, %2"
			     : "=m"(r.rbx), "=m"(r.r12), "=m"(r.r13));
	__asm__ __volatile__("movq %%r14, %0; movq %%r15, %1; pushfq; popq %2"
			     : "=m"(r.r14), "=m"(r.r15), "=r"(r.rflags));
	__asm__ __volatile__("movw %%cs, %0; movw %%ss, %1" : "=r"(cs), "=r"(ss));
	r.cs = cs;
	r.ss = ss;
	va_start(ap, fmt);
	panic_report(&r, fmt, ap);
}

/* lib/list.h found a list whose links do not agree: memory was corrupted. */
void list_corrupted(const struct list_head *node, const char *what)
{
	panic("list corruption at %p: %s (next %p, prev %p)", (const void *)node, what,
	      (const void *)node->next, (const void *)node->prev);
}
