; trampoline.asm — how an application processor gets from its start-up IPI
; to 64-bit kernel code.
;
; A SIPI starts an AP in 16-bit real mode at vector << 12; kernel/smp.c
; copies this code to TRAMPOLINE_PHYS (0x8000, SIPI vector 8) and fills the
; parameter block at its end before each start-up.  The AP then:
;   1. loads a small GDT and enters 32-bit protected mode,
;   2. turns on PAE and PGE, loads the kernel's CR3 and EFER (LME, and NXE:
;      the kernel tables use the NX bit, which is reserved without it),
;      enables paging and far-jumps to a 64-bit code segment,
;   3. loads its stack and jumps to the C entry with its CPU index.
; Each step writes tr_step so that an AP that hangs can be reported with the
; step it reached.  The code runs at its physical address, which the kernel
; tables identity-map for the duration of the bring-up.  All addresses
; inside are computed as offsets from trampoline_start plus 0x8000.

%define TRAMPOLINE_PHYS 0x8000
%define TR(x) ((x) - trampoline_start + TRAMPOLINE_PHYS)

section .rodata
align 16
global trampoline_start, trampoline_end, trampoline_params

bits 16
trampoline_start:
	cli
	cld
	xor ax, ax
	mov ds, ax
	mov byte [TR(tr_step)], 1
	lgdt [TR(tr_gdt_ptr)]
	mov eax, cr0
	or eax, 1			; PE
	mov cr0, eax
	jmp dword 0x08:TR(tr_pm32)

bits 32
tr_pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov byte [TR(tr_step)], 2
	mov eax, cr4
	or eax, (1 << 5) | (1 << 7)	; PAE, PGE
	mov cr4, eax
	mov eax, [TR(tr_cr3)]
	mov cr3, eax
	mov ecx, 0xC0000080		; EFER
	mov eax, [TR(tr_efer)]
	mov edx, [TR(tr_efer) + 4]
	wrmsr
	mov eax, cr0
	and eax, ~((1 << 30) | (1 << 29))	; CD, NW: an AP starts with caches off
	or eax, (1 << 31) | (1 << 16)	; PG, WP
	mov cr0, eax
	jmp 0x18:TR(tr_lm64)

bits 64
tr_lm64:
	mov byte [TR(tr_step)], 3
	mov rsp, [TR(tr_stack)]
	xor ebp, ebp
	mov edi, [TR(tr_cpu)]
	mov rax, [TR(tr_entry)]
	call rax			; a call, so the entry's RSP is 8 mod 16 as the ABI has it
	ud2				; the entry never returns

align 8
tr_gdt:
	dq 0
	dq 0x00CF9A000000FFFF		; 0x08: 32-bit code
	dq 0x00CF92000000FFFF		; 0x10: data
	dq 0x00AF9A000000FFFF		; 0x18: 64-bit code
tr_gdt_ptr:
	dw tr_gdt_ptr - tr_gdt - 1
	dd TR(tr_gdt)

; Parameter block, filled by smp.c (struct trampoline_params).
align 8
trampoline_params:
tr_cr3:		dq 0
tr_efer:	dq 0
tr_stack:	dq 0
tr_entry:	dq 0
tr_cpu:		dd 0
tr_step:	dd 0
trampoline_end:
