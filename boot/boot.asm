; boot.asm — from the boot loader to kmain.
;
; GRUB 2 loads the kernel ELF through Multiboot2 and jumps to _start in 32-bit
; protected mode with paging off, EAX = the Multiboot2 magic and EBX = the
; physical address of the boot information.  This file:
;   1. reads the TSC (the guest-clock start of "kernel entry to prompt"),
;   2. refuses to go on, with a readable message on VGA and serial, when the
;      boot loader is not Multiboot2 or the CPU has no long mode,
;   3. builds the first page tables: the low 4 GiB mapped twice with 2 MiB
;      pages, at 0 (identity, needed only until we jump high) and at the
;      direct map 0xFFFF800000000000 where the kernel runs,
;   4. enables PAE, long mode (and NX when present) and paging, loads a
;      64-bit GDT, and enters 64-bit code,
;   5. jumps to the higher half, switches to the BSP stack and calls
;      kmain(magic, info_phys, entry_tsc).
; Everything here is in .boot, linked at its physical address; only
; boot_high runs in the higher half.

%define KERNEL_VMA 0xFFFF800000000000
%define MB2_MAGIC 0xE85250D6
%define MB2_BOOT_MAGIC 0x36D76289
%define COM1 0x3F8

section .multiboot
align 8
mb2_header:
	dd MB2_MAGIC
	dd 0				; architecture: i386 protected mode
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
	; end tag
	dw 0, 0
	dd 8
mb2_header_end:

; A Xen PVH entry note pointing at _start.  nos does not support PVH boot:
; the note exists so that `qemu-system-x86_64 -kernel bin/kernel64.elf` (a
; boot loader that is not Multiboot2) reaches _start and the system tests can
; check that the kernel refuses it with a readable message.
section .note.pvh note alloc noexec nowrite align=4
	dd 4				; name size ("Xen\0")
	dd 4				; descriptor size
	dd 18				; XEN_ELFNOTE_PHYS32_ENTRY
	db "Xen", 0
	dd _start

section .boot.text progbits alloc exec nowrite align=16
bits 32
global _start
_start:
	cli
	cld
	mov esp, boot_stack_top
	mov edi, eax			; keep the magic
	rdtsc
	mov [entry_tsc], eax
	mov [entry_tsc + 4], edx
	mov [mb2_info], ebx

	cmp edi, MB2_BOOT_MAGIC
	jne .not_multiboot2
	call cpu_has_long_mode
	test eax, eax
	jz .no_long_mode
	call build_page_tables
	call enter_long_mode
	lgdt [gdt64_ptr]
	jmp 0x08:long_mode_entry

.not_multiboot2:
	mov esi, msg_not_mb2
	jmp early_die
.no_long_mode:
	mov esi, msg_no_lm
	jmp early_die

; eax = 1 when CPUID exists and reports long mode, else 0.
cpu_has_long_mode:
	pushfd				; CPUID exists if EFLAGS.ID can be toggled
	pop eax
	mov ecx, eax
	xor eax, 1 << 21
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	xor eax, ecx
	jz .no
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no
	mov eax, 0x80000001
	cpuid
	mov [ext_features], edx
	test edx, 1 << 29		; LM
	jz .no
	mov eax, 1
	ret
.no:
	xor eax, eax
	ret

; PML4[0] and PML4[256] -> one PDPT -> four page directories of 2 MiB pages.
build_page_tables:
	mov eax, boot_pdpt
	or eax, 3			; present, writable
	mov [boot_pml4], eax
	mov [boot_pml4 + 256 * 8], eax
	mov ecx, 0
.pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd
	or eax, 3
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jne .pdpt
	mov ecx, 0			; 4 × 512 entries, 2 MiB each
.pd:
	mov eax, ecx
	shl eax, 21
	or eax, 0x83			; present, writable, page size
	mov edx, ecx
	shr edx, 11			; bits 32+ of the address: ecx / 2048
	mov [boot_pd + ecx * 8], eax
	mov [boot_pd + ecx * 8 + 4], edx
	inc ecx
	cmp ecx, 4 * 512
	jne .pd
	ret

enter_long_mode:
	mov eax, cr4
	or eax, 1 << 5			; PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, 0xC0000080		; EFER
	rdmsr
	or eax, 1 << 8			; LME
	test dword [ext_features], 1 << 20
	jz .no_nx
	or eax, 1 << 11			; NXE
.no_nx:
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | 1	; PG, WP, PE
	mov cr0, eax
	ret

; Print the NUL-terminated message at esi on VGA (white on red) and COM1,
; then stop.  Runs without paging, so both devices are at their physical
; addresses.
early_die:
	mov dx, COM1 + 3
	mov al, 0x80			; DLAB
	out dx, al
	mov dx, COM1
	mov al, 1			; 115200 baud
	out dx, al
	mov dx, COM1 + 1
	xor al, al
	out dx, al
	mov dx, COM1 + 3
	mov al, 3			; 8N1
	out dx, al
	mov edi, 0xB8000
.next:
	lodsb
	test al, al
	jz .halt
	mov ah, 0x4F
	mov [edi], ax
	add edi, 2
	mov bl, al
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov dx, COM1
	mov al, bl
	out dx, al
	jmp .next
.halt:
	cli
	hlt
	jmp .halt

bits 64
long_mode_entry:
	xor eax, eax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov rax, boot_high
	jmp rax

section .boot.data progbits alloc write noexec align=4096
align 8
entry_tsc:	dq 0
mb2_info:	dq 0
ext_features:	dd 0
align 8
gdt64:
	dq 0
	dq 0x00AF9A000000FFFF		; 0x08: 64-bit code
	dq 0x00CF92000000FFFF		; 0x10: data
gdt64_end:
gdt64_ptr:
	dw gdt64_end - gdt64 - 1
	dd gdt64
msg_not_mb2:	db "nos: not started by a Multiboot2 boot loader; cannot boot.", 13, 10, 0
msg_no_lm:	db "nos: this CPU has no 64-bit long mode; cannot boot.", 13, 10, 0

align 4096
global boot_pml4
boot_pml4:	times 4096 db 0
boot_pdpt:	times 4096 db 0
boot_pd:	times 4 * 4096 db 0
boot_stack:	times 4096 db 0
boot_stack_top:

; ------------------------------------------------------------ higher half ---
section .bss
align 16
bsp_stack:	resb 16384
bsp_stack_top:

section .text
extern kmain
boot_high:
	mov rsp, bsp_stack_top
	xor ebp, ebp			; end of the frame chain for backtraces
	mov edi, MB2_BOOT_MAGIC
	mov rax, mb2_info
	mov esi, [rax]
	mov rax, entry_tsc
	mov rdx, [rax]
	call kmain
.hang:
	cli
	hlt
	jmp .hang

; void boot_switch_stack(u64 top, void (*fn)(void)) — continue the boot on
; another stack; fn never returns.  The old stack is abandoned.
global boot_switch_stack
boot_switch_stack:
	mov rsp, rdi
	xor ebp, ebp
	call rsi
	jmp boot_high.hang
