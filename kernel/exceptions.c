/*
 * exceptions.c — what happens when an interrupt or exception arrives.
 *
 * isr.asm hands every vector to isr_dispatch().  A CPU exception (vectors
 * 0-31) in the kernel is a kernel bug: it panics with the exception's name
 * and the full register frame — except a fault a test provoked on purpose
 * through kernel/probe.h, which resumes at the probe's fix-up.  A page fault
 * in a stack's guard page is reported as the stack overflow it is (the #PF
 * handler has its own IST stack, so it still runs).  Vectors 32-255 are
 * interrupts: kernel/irq.c dispatches them.
 */
#include "kernel/irq.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/probe.h"
#include "kernel/regs.h"
#include "kernel/smp.h"
#include "kernel/cpu.h"
#include "kernel/watchdog.h"
#include "kernel/x86.h"
#include "mm/stack.h"

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range exceeded", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack-segment fault", "#GP general protection",
	"#PF page fault", "reserved (15)", "#MF x87 floating-point error",
	"#AC alignment check", "#MC machine check", "#XM SIMD floating-point error",
	"#VE virtualization exception", "#CP control protection", "reserved (22)",
	"reserved (23)", "reserved (24)", "reserved (25)", "reserved (26)",
	"reserved (27)", "#HV hypervisor injection", "#VC VMM communication",
	"#SX security exception", "reserved (31)",
};

void isr_dispatch(struct regs *r);

void isr_dispatch(struct regs *r)
{
	u64 cr2 = r->vector == 14 ? read_cr2() : 0;
	const char *stack;

	if (r->vector == 2 && smp_stopping())
		halt_forever(); /* another CPU panicked and stops us */
	if (r->vector == 2) {
		if (!watchdog_nmi(r))
			pr_warn("nmi: unexpected NMI on cpu%u", cpu_id());
		return;
	}
	if ((r->vector == 14 || r->vector == 13) && probe_fixup(r, cr2))
		return;
	if (r->vector == 14 && (stack = stack_guard_owner(cr2)))
		panic_regs(r, "stack overflow in '%s' (#PF at guard page 0x%llx)", stack,
			   (unsigned long long)cr2);
	if (r->vector < 32)
		panic_regs(r, "%s (vector %llu)", exception_names[r->vector],
			   (unsigned long long)r->vector);
	irq_dispatch(r);
}
