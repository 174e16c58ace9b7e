/*
 * main.c — kmain, the order in which the kernel comes up.
 *
 * boot.asm arrives here on the BSP in 64-bit mode, on the BSP stack, with
 * the boot page tables (low 4 GiB at 0 and at the direct map) and
 * interrupts off.  The order below matters:
 *   1. console devices first, so that every later step can report;
 *   2. descriptor tables, so a fault from here on gives a panic report,
 *      not a triple fault; then the identity map goes, so a stray low
 *      pointer faults instead of quietly working;
 *   3. the TSC calibration, which gives dmesg its timestamps;
 *   4. the boot information and kernel parameters;
 *   5. memory management: the page allocator and the real page tables;
 *   6. the platform: ACPI, interrupt controllers, timers, interrupts on;
 *      then the scheduler and the other CPUs;
 *   7. a guarded stack for the rest of the boot;
 *   8. the SoftIrq tasks, PCI enumeration and drivers, then the shell (or, with `selftest`, the boot
 *      tests) as the first task; the boot context becomes CPU 0's idle task.
 */
#include "boot/mb2.h"
#include "config.h"
#include "block/blkdev.h"
#include "drivers/pci.h"
#include "drivers/rdrand.h"
#include "fs/vfs.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/params.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/random.h"
#include "kernel/selftest.h"
#include "kernel/shell.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/softirq.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/mm.h"
#include "mm/stack.h"
#include "net/net.h"
#include "net/netdev_driver.h"

KPARAM(selftest, "selftest", "", "run the boot tests, then leave QEMU with the result");
KPARAM(smp, "smp", "off|on", "smp=off runs on the boot CPU alone");

#define KMAIN_STACK_PAGES 8

extern u64 boot_pml4[512];
void console_apply_params(void);
void console_remap(void);
void kmain(u32 magic, u64 info_phys, u64 entry_tsc);
__noreturn void boot_switch_stack(u64 top, void (*fn)(void));

/* Drop the identity map boot.asm needed to reach the higher half. */
static void unmap_identity(void)
{
	u64 *pml4 = phys_to_virt((u64)boot_pml4);

	pml4[0] = 0;
	write_cr3(read_cr3());
}

/*
 * @cmdline with the value of every parameter whose name ends in "key"
 * (udpshell.key=...) replaced by "(hidden)": the log is readable by anyone
 * at the console or the remote shell, a secret must not be in it.
 */
static const char *cmdline_for_log(const char *cmdline)
{
	static char out[PARAM_CMDLINE_MAX + 64];
	size_t o = 0;

	for (const char *p = cmdline; *p && o + 16 < sizeof(out);) {
		const char *eq = NULL, *end = p;

		while (*end && *end != ' ') {
			if (*end == '=' && !eq)
				eq = end;
			end++;
		}
		if (eq && eq - p >= 3 && !memcmp(eq - 3, "key", 3)) {
			size_t n = MIN((size_t)(eq + 1 - p), sizeof(out) - o - 16);

			memcpy(out + o, p, n);
			o += n;
			memcpy(out + o, "(hidden)", 8);
			o += 8;
		} else {
			size_t n = MIN((size_t)(end - p), sizeof(out) - o - 16);

			memcpy(out + o, p, n);
			o += n;
		}
		for (p = end; *p == ' ' && o + 16 < sizeof(out); p++)
			out[o++] = ' ';
	}
	out[o] = 0;
	return out;
}

static void boot_report(void)
{
	pr_info("boot: loader '%s', command line '%s'", boot_info.loader,
		cmdline_for_log(boot_info.cmdline));
	pr_info("boot: %u memory map entries, ACPI RSDP %s, %u unknown boot tags",
		boot_info.mmap_count, boot_info.rsdp_len == 36 ? "2.0+" :
		boot_info.rsdp_len ? "1.0" : "absent", boot_info.unknown_tags);
}

static __noreturn void kmain_late(void);

/*
 * Leave the boot stack in .bss (it has no guard page) for a guarded one, so
 * that an overflow in the shell or a command is caught and named.
 */
static __noreturn void kmain_switch_stack(void)
{
	static struct kstack stack;

	if (stack_alloc(&stack, "kmain", KMAIN_STACK_PAGES))
		panic("boot: cannot allocate the kmain stack");
	boot_switch_stack(stack.top, kmain_late);
}

void kmain(u32 magic, u64 info_phys, u64 entry_tsc)
{
	console_init();
	cpu_init_tables(0);
	unmap_identity();
	pr_info("nos %s starting (x86_64, built with clang %s)", NOS_VERSION, CLANG_VERSION);
	time_init(entry_tsc);
	if (magic == MB2_BOOTLOADER_MAGIC)
		mb2_parse(phys_to_virt(info_phys), info_phys);
	params_init(boot_info.cmdline);
	console_apply_params();
	boot_report();
	mm_init();
	console_remap();
	platform_init();
	sched_init();
	smp_init();
	kmain_switch_stack();
}

static void shell_task(void *arg)
{
	pr_info("boot: shell ready in %llu.%03llu ms since kernel entry",
		(unsigned long long)(time_ns() / 1000000),
		(unsigned long long)(time_ns() / 1000 % 1000));
	shell_run_console();
	pr_info("shell exited");
}

static void selftest_task(void *arg)
{
	selftest_boot_and_exit();
}

/*
 * The rest of the boot, on a guarded stack: the SoftIrq tasks, then the
 * shell (or the boot tests) as a task of its own, while this context
 * becomes the boot CPU's idle task.
 */
static __noreturn void kmain_late(void)
{
	bool selftest = param_is("selftest", NULL);

	softirq_init();
	rdrand_init();
	random_init();
	blk_init();
	netdev_init();
	net_init();
	pci_init();
	net_start();
	vfs_init();
	if (!task_create(selftest ? "selftest" : "shell", selftest ? selftest_task : shell_task,
			 NULL, 0))
		panic("boot: cannot start the first task");
	sched_become_idle();
}
