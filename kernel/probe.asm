; probe.asm — memory accesses that are allowed to fault.
;
; Boot tests need to check that a write to .text, an instruction fetch from
; a data page or a run into a stack guard really fault — and then carry on.
; Each probe below performs one such access at a known instruction; when it
; faults, isr_dispatch (kernel/exceptions.c) recognises the instruction via
; probe_fixup() and resumes at probe_fault, which returns -EFAULT (-14) to
; the probe's caller.  Nothing else in the kernel may fault.

bits 64
section .text
global probe_read, probe_write, probe_exec, probe_call_on_stack
global probe_read_insn, probe_write_insn, probe_exec_ret, probe_fault, probe_stack_fault
global probe_stack_armed

; int probe_read(const void *addr)
probe_read:
	xor eax, eax
probe_read_insn:
	mov cl, [rdi]
	ret

; int probe_write(void *addr, u8 value)
probe_write:
	xor eax, eax
probe_write_insn:
	mov [rdi], sil
	ret

; int probe_exec(const void *addr): call the code at addr (it must `ret`).
; If fetching it faults, the return address pushed by the call is still on
; the stack, so probe_fault's `ret` lands on probe_exec_ret.
probe_exec:
	xor eax, eax
	call rdi
probe_exec_ret:
	ret

; The fix-up target: the faulting access becomes "return -EFAULT".
probe_fault:
	mov eax, -14
	ret

; int probe_call_on_stack(u64 stack_top, void (*fn)(void))
; Run fn on another stack; a fault in that stack's guard page while armed
; resumes at probe_stack_fault, back on the caller's stack.  Interrupts are
; off meanwhile: an interrupt taken on the nearly full stack would overflow
; inside its handler, and the fix-up would abandon that handler half-way
; (without its EOI).
probe_call_on_stack:
	push rbp
	mov rbp, rsp
	pushfq
	cli
	mov [rel probe_saved_rsp], rsp
	mov rsp, rdi
	mov byte [rel probe_stack_armed], 1
	call rsi
	mov byte [rel probe_stack_armed], 0
	mov rsp, [rel probe_saved_rsp]
	popfq
	xor eax, eax
	pop rbp
	ret
probe_stack_fault:
	mov byte [rel probe_stack_armed], 0
	mov rsp, [rel probe_saved_rsp]
	popfq
	mov eax, -14
	pop rbp
	ret

section .bss
probe_saved_rsp:	resq 1
probe_stack_armed:	resb 1
