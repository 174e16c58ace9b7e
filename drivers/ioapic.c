/*
 * ioapic.c — the I/O APICs.
 *
 * Each IOAPIC is two MMIO registers, an index (IOREGSEL, offset 0) and a
 * window (IOWIN, offset 0x10).  Register 1 holds the number of redirection
 * entries in bits 16-23; entry n is registers 0x10 + 2n (low: vector,
 * delivery mode, polarity bit 13, trigger bit 15, mask bit 16) and
 * 0x11 + 2n (high: destination APIC id in bits 24-31).  ioapic_lock keeps
 * the index/window pair atomic.
 */
#include "drivers/ioapic.h"
#include "compiler.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "mm/paging.h"

#define MAX_IOAPICS 8
#define REG_VER 0x01
#define REG_REDIR 0x10
#define RED_ACTIVE_LOW (1u << 13)
#define RED_LEVEL (1u << 15)
#define RED_MASKED (1u << 16)

struct ioapic {
	volatile u32 *mmio;
	u8 id;
	u32 gsi_base;
	unsigned lines;
};

static struct ioapic ioapics[MAX_IOAPICS];
static unsigned nr_ioapics;
static spinlock_t ioapic_lock = SPINLOCK_INIT("ioapic"); /* register index/window pairs */

static u32 io_read(struct ioapic *io, u32 reg)
{
	io->mmio[0] = reg;
	return io->mmio[4];
}

static void io_write(struct ioapic *io, u32 reg, u32 v)
{
	io->mmio[0] = reg;
	io->mmio[4] = v;
}

int ioapic_add(u8 id, u64 phys, u32 gsi_base)
{
	struct ioapic *io;

	if (nr_ioapics == MAX_IOAPICS)
		return -ENOSPC;
	io = &ioapics[nr_ioapics];
	io->mmio = mmio_map(phys, 32);
	if (!io->mmio)
		return -ENOMEM;
	io->id = id;
	io->gsi_base = gsi_base;
	io->lines = ((io_read(io, REG_VER) >> 16) & 0xFF) + 1;
	for (unsigned i = 0; i < io->lines; i++)
		io_write(io, REG_REDIR + 2 * i, RED_MASKED);
	nr_ioapics++;
	pr_info("ioapic: id %u at 0x%llx, GSIs %u-%u", id, (unsigned long long)phys, gsi_base,
		gsi_base + io->lines - 1);
	return 0;
}

static struct ioapic *ioapic_for(u32 gsi, unsigned *line)
{
	for (unsigned i = 0; i < nr_ioapics; i++) {
		struct ioapic *io = &ioapics[i];

		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->lines) {
			*line = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

int ioapic_route(u32 gsi, u8 vector, u32 dest, bool level, bool active_low)
{
	unsigned line;
	struct ioapic *io = ioapic_for(gsi, &line);
	u32 low = vector | RED_MASKED | (level ? RED_LEVEL : 0) | (active_low ? RED_ACTIVE_LOW : 0);
	u64 flags;

	if (!io)
		return -ENOENT;
	flags = spin_lock_irqsave(&ioapic_lock);
	io_write(io, REG_REDIR + 2 * line + 1, dest << 24);
	io_write(io, REG_REDIR + 2 * line, low);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	return 0;
}

int ioapic_mask(u32 gsi, bool masked)
{
	unsigned line;
	struct ioapic *io = ioapic_for(gsi, &line);
	u64 flags;
	u32 low;

	if (!io)
		return -ENOENT;
	flags = spin_lock_irqsave(&ioapic_lock);
	low = io_read(io, REG_REDIR + 2 * line);
	io_write(io, REG_REDIR + 2 * line, masked ? low | RED_MASKED : low & ~RED_MASKED);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	return 0;
}

unsigned ioapic_count(void)
{
	return nr_ioapics;
}
