/*
 * probe.c — recognising a probe's fault (see probe.h and probe.asm).
 *
 * A fault belongs to a probe when it happened at a probe's access
 * instruction, when it is an instruction fetch whose return address is
 * probe_exec's, or when a stack guard was hit while probe_call_on_stack is
 * armed.  Then the frame is pointed at the fix-up and the fault recorded.
 */
#include "kernel/probe.h"
#include "kernel/regs.h"
#include "mm/stack.h"

#define PF_INSTRUCTION_FETCH (1u << 4)

extern char probe_read_insn[], probe_write_insn[], probe_exec_ret[], probe_fault[],
	probe_stack_fault[];
extern volatile u8 probe_stack_armed;

struct probe_fault probe_last;

static u64 probe_target(const struct regs *r, u64 cr2)
{
	if (r->rip == (u64)probe_read_insn || r->rip == (u64)probe_write_insn)
		return (u64)probe_fault;
	if (r->vector != 14)
		return 0;
	if ((r->error & PF_INSTRUCTION_FETCH) && r->rip == cr2 &&
	    *(const u64 *)r->rsp == (u64)probe_exec_ret)
		return (u64)probe_fault;
	if (probe_stack_armed && stack_guard_owner(cr2))
		return (u64)probe_stack_fault;
	return 0;
}

bool probe_fixup(struct regs *r, u64 cr2)
{
	u64 target = probe_target(r, cr2);

	if (!target)
		return false;
	probe_last = (struct probe_fault){ r->vector, r->error, cr2 };
	r->rip = target;
	return true;
}
