/*
 * config.h — build-time defaults.  A build may override any of them with
 * -DNAME=value; each is guarded so that the override wins.
 */
#ifndef NOS_CONFIG_H
#define NOS_CONFIG_H

#ifndef NOS_VERSION
#define NOS_VERSION "0.1.0"
#endif

/* Virtual base of the direct map of all physical memory. */
#define KERNEL_DIRECT_MAP 0xFFFF800000000000ULL
/* Physical load address of the kernel image (it runs at DIRECT_MAP + this). */
#define KERNEL_PHYS_BASE 0x1000000ULL

#ifndef CONFIG_MAX_CPUS
#define CONFIG_MAX_CPUS 8
#endif

/* dmesg ring: text bytes and message slots. */
#ifndef CONFIG_DMESG_BYTES
#define CONFIG_DMESG_BYTES (512 * 1024)
#endif
#ifndef CONFIG_DMESG_MSGS
#define CONFIG_DMESG_MSGS 2048
#endif

/* Longest shell input line; longer input is refused, not truncated silently. */
#ifndef CONFIG_SHELL_LINE_MAX
#define CONFIG_SHELL_LINE_MAX 1024
#endif
#ifndef CONFIG_SHELL_HISTORY
#define CONFIG_SHELL_HISTORY 32
#endif

/*
 * Lock checks (kernel/spinlock.h): owner, recursion, interrupt state and
 * declared order, panicking with the lock's name.  On by default; a
 * release build may turn them off with -DCONFIG_LOCK_DEBUG=0.
 */
#ifndef CONFIG_LOCK_DEBUG
#define CONFIG_LOCK_DEBUG 1
#endif

/* isa-debug-exit port used by the boot tests to leave QEMU. */
#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_PASS 0x10 /* QEMU exits with (0x10 << 1) | 1 = 33 */
#define DEBUG_EXIT_FAIL 0x11 /* QEMU exits with 35 */

#endif
