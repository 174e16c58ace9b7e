; isr.asm — entry stubs for all 256 interrupt vectors.
;
; Each stub makes the stack look the same whatever the vector: vectors where
; the CPU pushes no error code push a 0 in its place, then every stub pushes
; its vector number and jumps to isr_common, which saves the general
; registers in the order of struct regs (kernel/regs.h) and calls
; isr_dispatch(regs).  On return the registers are restored and iretq
; resumes the interrupted code.  The CPU aligns RSP to 16 before pushing its
; frame, and the 22 quadwords pushed here keep it aligned for the C call.

bits 64
section .text
extern isr_dispatch

; Vectors for which the CPU pushes an error code.
%define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

%macro ISR_STUB 1
isr_stub_%1:
%if HAS_ERR(%1) == 0
	push 0
%endif
	push %1
	jmp isr_common
%endmacro

%assign v 0
%rep 256
ISR_STUB v
%assign v v + 1
%endrep

isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp
	call isr_dispatch
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16			; vector and error code
	iretq

section .rodata
align 8
global isr_stub_table
isr_stub_table:
%assign v 0
%rep 256
	dq isr_stub_ %+ v
%assign v v + 1
%endrep
