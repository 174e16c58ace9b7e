; string_asm.asm — the kernel's memset, memcpy, memcmp, strlen, strcmp and
; strstr, built on the x86 string instructions.
;
; Calling convention is System V AMD64: arguments in rdi, rsi, rdx, the
; result in rax, and rax/rcx/rdx/rsi/rdi/r8-r11 free to clobber.  Every
; routine assumes the direction flag is clear on entry (the ABI promises it)
; and leaves it clear.  None touches the stack, so they are safe to call with
; any stack alignment, including from interrupt context.
;
; How each one works:
;   memset  broadcasts the fill byte into all eight bytes of rax, stores
;           n/8 quadwords with `rep stosq`, then the n%8 tail with `rep stosb`.
;   memcpy  moves n/8 quadwords with `rep movsq`, then the tail with
;           `rep movsb`.  Overlap is not allowed (memmove is in string.c).
;   memcmp  runs `repe cmpsb` until the first differing byte and returns the
;           difference of the two bytes, read as unsigned.
;   strlen  scans for NUL with `repne scasb` from a count of -1; the count
;           left behind says how many bytes were consumed.
;   strcmp  measures the first string with scasb, then compares that many
;           bytes plus its NUL with `repe cmpsb`.  The comparison stops at
;           the first difference, and a shorter second string differs at its
;           own NUL, so neither string is read past its terminator.
;   strstr  measures both strings, then alternates `repne scasb` to find the
;           needle's first byte among the positions where a match still fits
;           and `repe cmpsb` to test the candidate.
;
; The C references in string.c (memset_c, ...) define the expected results;
; the boot test compares the two over many lengths and alignments.

bits 64

; FUNC/ENDFUNC give each routine an ELF function type and size, so debuggers
; and the kernel symbol table see where it ends.  The size is an absolute
; `equ` rather than an end label, because a label at the end of one routine
; would sit at the same address as the start of the next.
%macro FUNC 1
global %1:function (%1_size)
%1:
%endmacro

%macro ENDFUNC 1
%1_size equ $ - %1
%endmacro

section .text

; void *memset(void *dst, int c, size_t n)
FUNC memset
	mov r8, rdi			; keep dst for the return value
	movzx eax, sil
	mov r9, 0x0101010101010101
	imul rax, r9			; the byte in all eight lanes
	mov rcx, rdx
	shr rcx, 3
	rep stosq
	mov ecx, edx
	and ecx, 7
	rep stosb
	mov rax, r8
	ret
ENDFUNC memset

; void *memcpy(void *dst, const void *src, size_t n)
FUNC memcpy
	mov rax, rdi
	mov rcx, rdx
	shr rcx, 3
	rep movsq
	mov ecx, edx
	and ecx, 7
	rep movsb
	ret
ENDFUNC memcpy

; int memcmp(const void *a, const void *b, size_t n)
FUNC memcmp
	xor eax, eax
	mov rcx, rdx
	test rcx, rcx
	jz .done			; n == 0: equal, and cmpsb would not set flags
	repe cmpsb
	je .done			; ran out of bytes with the last pair equal
	movzx eax, byte [rdi - 1]	; cmpsb leaves both pointers one past
	movzx ecx, byte [rsi - 1]	; the differing pair
	sub eax, ecx
.done:
	ret
ENDFUNC memcmp

; size_t strlen(const char *s)
FUNC strlen
	xor eax, eax			; al = 0, the byte to find
	mov rcx, -1
	repne scasb
	not rcx				; rcx = bytes scanned = len + 1
	lea rax, [rcx - 1]
	ret
ENDFUNC strlen

; int strcmp(const char *a, const char *b)
FUNC strcmp
	mov r8, rdi
	xor eax, eax
	mov rcx, -1
	repne scasb
	not rcx				; rcx = strlen(a) + 1, at least 1
	mov rdi, r8
	repe cmpsb
	je .equal
	movzx eax, byte [rdi - 1]
	movzx ecx, byte [rsi - 1]
	sub eax, ecx
	ret
.equal:
	xor eax, eax
	ret
ENDFUNC strcmp

; char *strstr(const char *hay, const char *needle)
;
; r8  = current search position in hay
; r9  = needle
; r10 = strlen(needle)
; r11 = last position in hay where a match still fits
FUNC strstr
	mov r8, rdi
	mov r9, rsi
	xor eax, eax
	mov rdi, rsi
	mov rcx, -1
	repne scasb
	not rcx
	dec rcx				; rcx = strlen(needle)
	jz .found			; empty needle matches at hay
	mov r10, rcx
	mov rdi, r8
	mov rcx, -1
	repne scasb
	not rcx
	dec rcx				; rcx = strlen(hay)
	cmp rcx, r10
	jb .none			; needle longer than hay
	sub rcx, r10
	lea r11, [r8 + rcx]
.scan:
	mov rdi, r8
	mov rcx, r11
	sub rcx, r8
	inc rcx				; candidate positions left, at least 1
	mov al, [r9]
	repne scasb
	jne .none			; first byte of needle not found in range
	lea r8, [rdi - 1]		; candidate start
	mov rdi, r8
	mov rsi, r9
	mov rcx, r10
	repe cmpsb
	je .found
	inc r8
	cmp r8, r11
	jbe .scan
.none:
	xor eax, eax
	ret
.found:
	mov rax, r8
	ret
ENDFUNC strstr

section .note.GNU-stack noalloc noexec nowrite progbits
