; switch.asm — switching the CPU from one task's stack to another's.
;
; struct task *sched_switch(u64 *prev_rsp, u64 next_rsp)
;   Pushes the callee-saved registers (the System V ABI says the caller
;   already saved the rest), stores the stack pointer in *prev_rsp, loads
;   next_rsp, pops the next task's callee-saved registers and returns on its
;   stack.  RAX carries through: the task that resumes receives in it
;   whatever the switching task passed in RDX — the task it switched away
;   from, which sched.c needs to finish the switch.
;
; A new task's stack is built by sched.c to look as if it had called
; sched_switch from task_first_run: six zero registers and that return
; address.

bits 64
section .text
global sched_switch, task_first_run
extern task_start

sched_switch:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [rdi], rsp
	mov rsp, rsi
	mov rax, rdx
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; First code of every task: hand the previous task to task_start(prev),
; which finishes the switch, enables interrupts and runs the entry function.
task_first_run:
	mov rdi, rax
	xor ebp, ebp
	call task_start
	ud2
