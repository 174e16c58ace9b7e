# nos — one Makefile for the kernel, the ISO, the host unit tests and the
# test levels.  Read top to bottom: tools and flags, source lists per
# directory, pattern rules into out/, the two-pass kernel link, the ISO,
# then the user-facing targets.

# ---------------------------------------------------------------- tools ----
CC      := clang
HOSTCC  := clang
NASM    := nasm
LD      := ld
PYTHON  := /usr/bin/python3
ISO     := nos.iso
KERNEL  := bin/kernel64.elf
NANOFS_TOOL := bin/nanofs

# ---------------------------------------------------------------- flags ----
COMMON_CFLAGS := -std=c17 -Wall -Wextra -Werror -Wno-unused-parameter \
	-iquote include -iquote . -MMD -MP -g

KCFLAGS := $(COMMON_CFLAGS) --target=x86_64-none-elf -ffreestanding \
	-fno-builtin -nostdlib -mcmodel=large -mno-red-zone -mno-mmx \
	-mno-sse -mno-sse2 -mno-avx -fno-pic -fno-pie -fno-stack-protector \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -O2 \
	-fno-asynchronous-unwind-tables -DNOS_KERNEL $(EXTRA_CFLAGS)

# The host shim's headers shadow the kernel headers of the same path
# (tests/unit/shim/kernel/spinlock.h for "kernel/spinlock.h"): -iquote
# directories are searched in order, after the including file's own.
HOSTCFLAGS := -iquote tests/unit/shim $(COMMON_CFLAGS) -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all -DNOS_HOST

NASMFLAGS := -f elf64 -g -F dwarf -w+all -I include/ -I boot/ -I kernel/
LDFLAGS   := -nostdlib -z max-page-size=0x1000 -z noexecstack -T build/linker.ld

# -------------------------------------------------------------- sources ----
# Every directory's sources are picked up by wildcard; a file is part of the
# kernel by being in one of these directories.
BOOT_SRCS   := $(wildcard boot/*.asm boot/*.c)
LIB_SRCS    := $(wildcard lib/*.c lib/*.asm)
MM_SRCS     := $(wildcard mm/*.c)
KERN_SRCS   := $(wildcard kernel/*.c kernel/*.asm)
DRV_SRCS    := $(wildcard drivers/*.c drivers/*/*.c)
BLK_SRCS    := $(wildcard block/*.c)
FS_SRCS     := $(wildcard fs/*.c)
NET_SRCS    := $(wildcard net/*.c)
# Boot tests: the portable unit tests plus the machine-only ones.
KTEST_SRCS  := $(filter-out tests/unit/main.c tests/unit/host_%.c, \
		 $(wildcard tests/unit/*.c)) $(wildcard tests/kernel/*.c)

# KTESTS=0 leaves the boot tests out of the kernel (they are most of its
# code); `selftest` then says the kernel was built without them.  The
# choice is remembered in out/build-options, so switching it relinks.
KTESTS ?= 1
$(if $(filter-out 0 1,$(KTESTS)),$(error KTESTS must be 0 or 1, not '$(KTESTS)'))
BUILD_OPTIONS := out/build-options
$(shell mkdir -p out && { echo 'KTESTS=$(KTESTS)' | cmp -s - $(BUILD_OPTIONS) \
	|| echo 'KTESTS=$(KTESTS)' > $(BUILD_OPTIONS); })

KSRCS := $(BOOT_SRCS) $(LIB_SRCS) $(MM_SRCS) $(KERN_SRCS) $(DRV_SRCS) $(BLK_SRCS) $(FS_SRCS) \
	 $(NET_SRCS) \
	 $(if $(filter 1,$(KTESTS)),$(KTEST_SRCS))
KOBJS := $(patsubst %,out/k/%.o,$(KSRCS))

# Host unit tests: lib/ C sources (never the assembly), the kernel sources
# listed here (pure logic, and code that runs over the host shim), the shim
# and every test file.
UNIT_KERNEL_SRCS := $(wildcard drivers/virtio/virtqueue.c drivers/pci_parse.c drivers/scsi.c block/mbr.c kernel/timerq.c kernel/ktimer.c kernel/waitq.c kernel/waitgroup.c kernel/shell_line.c kernel/shell_parse.c kernel/shell_exec.c kernel/params.c mm/buddy.c mm/pool.c drivers/acpi_tables.c)
UNIT_KERNEL_SRCS += $(wildcard block/blk.c block/blkdev.c block/blk_slot.c block/part.c boot/mb2.c)
# nanofs's core (without its VFS glue, which needs the VFS: below).
NANOFS_CORE_SRCS := $(filter-out fs/nanofs_vfs.c,$(wildcard fs/nanofs*.c))
UNIT_KERNEL_SRCS += $(NANOFS_CORE_SRCS)
# The VFS, ramfs and nanofs's VFS glue (the shell commands in fs/fs_cmds.c
# stay kernel-only).
UNIT_KERNEL_SRCS += $(wildcard fs/vfs*.c fs/ramfs*.c fs/nanofs_vfs.c)
# The network stack but its shell commands (net/*_cmds.c stay kernel-only).
UNIT_KERNEL_SRCS += $(filter-out net/%_cmds.c,$(NET_SRCS))
UNIT_SRCS := $(filter %.c,$(LIB_SRCS)) $(UNIT_KERNEL_SRCS) $(wildcard tests/unit/*.c tests/unit/shim/*.c)
UNIT_OBJS := $(patsubst %,out/host/%.o,$(UNIT_SRCS))
UNIT_BIN  := out/unit-tests

.PHONY: all clean deps run debug disk run-disk test unit selftest systest stress bench check-tools iso \
	fuzz fuzz-build fuzz-smoke
all: $(ISO) $(KERNEL) $(NANOFS_TOOL)

# -------------------------------------------------------- pattern rules ----
# V=1 shows whole command lines.
Q := $(if $(V),,@)
out/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

out/k/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $<")
	$(Q)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

out/host/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $<")
	$(Q)$(HOSTCC) $(HOSTCFLAGS) -c $< -o $@

# ------------------------------------------------------- two-pass link ----
# Pass 1 links with an empty symbol table; its text symbols become
# out/ksyms.asm, and pass 2 links that in.  The table sits after .text and
# .rodata, so no function moves between the passes — checked below.
out/ksyms_empty.asm:
	@mkdir -p out
	$(Q)scripts/gen-ksyms.sh /dev/null > $@

out/kernel.pass1.elf: $(KOBJS) out/k/out/ksyms_empty.asm.o build/linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(LDFLAGS) -o $@ $(KOBJS) out/k/out/ksyms_empty.asm.o

out/ksyms.asm: out/kernel.pass1.elf scripts/gen-ksyms.sh
	$(Q)scripts/gen-ksyms.sh $< > $@

$(KERNEL): out/kernel.pass1.elf out/k/out/ksyms.asm.o
	@mkdir -p bin
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(LDFLAGS) -o $@ $(KOBJS) out/k/out/ksyms.asm.o
	@scripts/gen-ksyms.sh out/kernel.pass1.elf | cmp -s - <(scripts/gen-ksyms.sh $@) \
		|| { echo "ksyms: text moved between link passes" >&2; rm -f $@; exit 1; }

out/kernel.pass1.elf out/k/kernel/selftest.c.o: $(BUILD_OPTIONS)
out/k/kernel/selftest.c.o: KCFLAGS += -DNOS_KTESTS=$(KTESTS)

out/k/out/%.asm.o: out/%.asm
	@mkdir -p $(dir $@)
	$(Q)$(NASM) $(NASMFLAGS) $< -o $@

# ------------------------------------------------------------------ ISO ----
# nos.iso's kernel command line (what `make run` boots): the UDP shell on
# port 9000, which scripts/qemu.sh forwards from the host's 127.0.0.1.  The
# system tests build their own ISOs for other command lines.  The value is
# remembered in out/iso-cmdline, so changing it remakes the ISO.
ISO_CMDLINE ?= udpshell=9000
ISO_CMDLINE_FILE := out/iso-cmdline
$(shell mkdir -p out && { echo '$(ISO_CMDLINE)' | cmp -s - $(ISO_CMDLINE_FILE) \
	|| echo '$(ISO_CMDLINE)' > $(ISO_CMDLINE_FILE); })

$(ISO): $(KERNEL) build/grub.cfg scripts/mkiso.sh $(ISO_CMDLINE_FILE)
	@$(if $(Q),echo "  ISO     $@")
	$(Q)scripts/mkiso.sh $(KERNEL) $@ "$(ISO_CMDLINE)"

iso: $(ISO)

# ------------------------------------------------------ bin/nanofs tool ----
# The host tool for nanofs images: the same fs/nanofs*.c as the kernel, over
# a file, with a small host environment of its own (tools/nanofs/env shadows
# kernel/mutex.h, kernel/printk.h and mm/kmalloc.h, as the test shim does).
TOOL_SRCS := $(wildcard tools/nanofs/*.c) $(NANOFS_CORE_SRCS) lib/crc32.c lib/string.c \
	lib/format.c block/mbr.c
TOOL_OBJS := $(patsubst %,out/tool/%.o,$(TOOL_SRCS))
TOOLCFLAGS := -iquote tools/nanofs/env $(COMMON_CFLAGS) -O2 -DNOS_HOST -DNOS_TOOL

out/tool/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TOOLCC  $<")
	$(Q)$(HOSTCC) $(TOOLCFLAGS) -c $< -o $@

$(NANOFS_TOOL): $(TOOL_OBJS)
	@mkdir -p bin
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(HOSTCC) $(TOOLCFLAGS) $^ -o $@

# ----------------------------------------------------------- unit tests ----
$(UNIT_BIN): $(UNIT_OBJS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(HOSTCC) $(HOSTCFLAGS) $^ -o $@

unit: check-tools $(UNIT_BIN)
	$(UNIT_BIN)

# -------------------------------------------------------------- fuzzing ----
# libFuzzer targets (tests/fuzz/fuzz_<name>.c, docs/testing.md): the unit
# tests' kernel sources and shim compiled again with the fuzzer's coverage
# (-fsanitize=fuzzer-no-link; libFuzzer's main comes in at the link, so
# tests/unit/main.c and the unit tests' own test files stay out), plus the
# runner and the unit tests' helpers that hold no test (list_corrupted(),
# the fake disk's core, the TCP tests' scripted peer).  Every target links
# every shared object; only its own KTEST is in it.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SHARED_SRCS := $(filter-out tests/unit/%,$(UNIT_SRCS)) $(wildcard tests/unit/shim/*.c) \
	tests/unit/host_list.c tests/unit/fake_blk_core.c tests/unit/host_tcp_peer.c \
	tests/fuzz/runner.c
FUZZ_SHARED_OBJS := $(patsubst %,out/fuzz/%.o,$(FUZZ_SHARED_SRCS))
FUZZ_BINS := $(patsubst %,out/fuzz/%,$(FUZZ_TARGETS))
FUZZCFLAGS := $(filter-out -fsanitize=%,$(HOSTCFLAGS)) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5

out/fuzz/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(HOSTCC) $(FUZZCFLAGS) -c $< -o $@

$(FUZZ_BINS): out/fuzz/%: out/fuzz/tests/fuzz/%.c.o $(FUZZ_SHARED_OBJS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(HOSTCC) $(FUZZCFLAGS) -fsanitize=fuzzer $^ -o $@

fuzz-build: check-tools $(FUZZ_BINS)

# Each target for FUZZ_SECONDS over its checked-in seeds; new inputs go to
# out/fuzz/corpus/<target>, crashes to out/fuzz/artifacts/<target>/.
fuzz: fuzz-build
	$(Q)for t in $(FUZZ_TARGETS); do scripts/fuzz.sh $$t $(FUZZ_SECONDS) || exit 1; done

# What `make test` runs: every seed, then FUZZ_SMOKE_SECONDS of fuzzing each.
fuzz-smoke: fuzz-build
	$(Q)for t in $(FUZZ_TARGETS); do scripts/fuzz.sh $$t $(FUZZ_SMOKE_SECONDS) || exit 1; done

# --------------------------------------------------------- user targets ----
check-tools:
	@scripts/install-deps.sh --check-or-install

deps:
	scripts/install-deps.sh

run: check-tools all
	scripts/qemu.sh $(ISO)

# QEMU stopped, its GDB server on 127.0.0.1:NOS_GDB_PORT (1234); then, in
# another terminal, scripts/gdb.sh (docs/debugging.md).
debug: check-tools all
	NOS_DEBUG=1 scripts/qemu.sh $(ISO)

# The bootable disk image for QEMU and the clouds (docs/cloud.md): nos.img,
# nos.qcow2 and nos-gce.tar.gz, made by an ordinary user.
disk: check-tools $(KERNEL) $(NANOFS_TOOL)
	scripts/build-disk.sh

run-disk: disk
	scripts/qemu-disk.sh

selftest: check-tools all
	scripts/selftest.sh

systest: check-tools all
	$(PYTHON) -m pytest -q tests/system

# Boot after boot, 50 on each of pc and q35 at -smp 1, 2, 4 and 8, typing
# at the first prompt; fails on any panic or wrong reply, with that boot's
# serial log (tests/system/test_stress.py).
stress: check-tools all
	NOS_STRESS_BOOTS=$${NOS_STRESS_BOOTS:-400} $(PYTHON) -m pytest -q -s -m stress \
		tests/system/test_stress.py

test: check-tools
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) selftest
	$(MAKE) systest

bench: check-tools all
	$(PYTHON) scripts/bench.py

clean:
	rm -rf out bin $(ISO) bench.json nos.img nos.qcow2 nos-gce.tar.gz

SHELL := /bin/bash
-include $(shell find out -name '*.d' 2>/dev/null)
