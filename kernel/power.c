/*
 * power.c — reboot, halt and the QEMU debug exit.
 *
 * Reboot tries, in order: the ACPI reset register from the FADT, the 8042
 * controller's reset line (pulse output port bit 0 with command 0xFE), then
 * a triple fault (load an empty IDT and raise an exception), which every x86
 * CPU answers with a reset.  Power-off is ACPI S5 (the sleep type from the
 * DSDT's \_S5 written to the PM1 control registers); if that does not stop
 * the machine the command says so and the shell carries on.  Both first
 * ask the PCI drivers to quiesce their devices (virtio devices are reset).
 */
#include "kernel/power.h"
#include "config.h"
#include "errno.h"
#include "drivers/acpi.h"
#include "drivers/pci.h"
#include "kernel/console.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/x86.h"

#define KBC_STATUS 0x64
#define KBC_INPUT_FULL 0x02
#define KBC_CMD_RESET 0xFE

static void reset_8042(void)
{
	for (unsigned i = 0; i < 100000 && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
		io_wait();
	outb(KBC_STATUS, KBC_CMD_RESET);
	time_udelay(50000);
}

static __noreturn void triple_fault(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed empty = { 0, 0 };

	__asm__ __volatile__("lidt %0; int3" : : "m"(empty));
	halt_forever();
}

__noreturn void power_reboot(void)
{
	console_set_shell_active(false);
	pr_info("power: rebooting");
	pci_shutdown_all();
	if (acpi_reset() == 0) {
		time_udelay(50000);
		pr_warn("power: the ACPI reset register did not reset the machine");
	}
	cli();
	reset_8042();
	pr_warn("power: 8042 reset did not work; forcing a triple fault");
	triple_fault();
}

__noreturn void power_halt(void)
{
	halt_forever();
}

__noreturn void power_qemu_exit(u8 code)
{
	outb(DEBUG_EXIT_PORT, code);
	/* Still here: not QEMU, or no isa-debug-exit device. */
	pr_warn("power: isa-debug-exit absent; halting instead of exiting");
	halt_forever();
}

static int cmd_reboot(struct sh *sh, int argc, char **argv)
{
	sh_printf(sh, "rebooting\n");
	power_reboot();
}

SHELL_CMD("reboot", "", "restart the machine", 0, 0, cmd_reboot);

static int cmd_poweroff(struct sh *sh, int argc, char **argv)
{
	int rc;

	sh_printf(sh, "powering off\n");
	console_set_shell_active(false);
	pr_info("power: powering off (ACPI S5)");
	pci_shutdown_all();
	rc = acpi_poweroff();
	time_udelay(100000); /* S5 takes effect at once; give it a moment */
	console_set_shell_active(true);
	sh_printf(sh, "%s: the machine did not power off (%s)\n", argv[0],
		  errno_name(rc ? rc : -EIO));
	return -EIO;
}
SHELL_CMD("poweroff", "", "switch the machine off (ACPI S5)", 0, 0, cmd_poweroff);

static int cmd_shutdown(struct sh *sh, int argc, char **argv)
{
	return cmd_poweroff(sh, argc, argv);
}
SHELL_CMD("shutdown", "", "the same as poweroff", 0, 0, cmd_shutdown);
