/*
 * irq.h — interrupt vectors, handlers and their statistics.
 *
 * Vector map:
 *   0x00-0x1F  CPU exceptions (kernel/exceptions.c)
 *   0x20-0x2F  the masked 8259s' range (a spurious IRQ 7/15 is ignored)
 *   0x30-0xDF  device interrupts, handed out by irq_alloc_vector()
 *   0xE0       the local APIC timer (each CPU's tick)
 *   0xF0-0xFE  inter-processor interrupts
 *   0xFF       the local APIC spurious vector
 *
 * A handler runs in hard-IRQ context with interrupts off on its CPU.  It
 * returns IRQ_HANDLED when its device raised the interrupt, IRQ_NONE
 * otherwise: several handlers may share one level-triggered line, and each
 * is asked in turn.  The EOI is sent after the handlers.  Every handler has
 * a name and a counter per CPU (`irqstat`).
 *
 * Lock order: irq_lock (registration only) is taken before ioapic_lock.
 */
#ifndef NOS_IRQ_H
#define NOS_IRQ_H

#include "types.h"
#include "config.h"

#define IRQ_VECTOR_FIRST 0x30
#define IRQ_VECTOR_LAST 0xDF
#define VECTOR_LAPIC_TIMER 0xE0
#define VECTOR_IPI_CALL 0xF0
#define VECTOR_IPI_TLB 0xF1
#define VECTOR_IPI_STOP 0xF2
#define VECTOR_IPI_RESCHED 0xF3
#define VECTOR_IPI_BACKTRACE 0xF4

enum irq_result { IRQ_NONE, IRQ_HANDLED };

typedef enum irq_result (*irq_handler_fn)(void *arg);

struct irq_action {
	irq_handler_fn handler;       /* [I] */
	void *arg;                    /* [I] */
	const char *name;             /* [I] */
	u8 vector;                    /* [I] */
	u32 gsi;                      /* [I] ~0u when not a GSI */
	u64 count[CONFIG_MAX_CPUS];   /* [L] per CPU */
	struct irq_action *next;      /* [I] next on the same vector */
};

/* Attach @handler to a fixed vector (timer, IPIs).  Returns 0 or -errno. */
int irq_request_vector(u8 vector, irq_handler_fn handler, void *arg, const char *name);
/*
 * Attach @handler to ISA IRQ @isa (0-15), applying the firmware's
 * interrupt source overrides (polarity, trigger, GSI), route it to the
 * boot CPU and unmask it.
 */
int irq_request_isa(unsigned isa, irq_handler_fn handler, void *arg, const char *name);
/* Attach @handler to @gsi with the given trigger and polarity (PCI INTx:
 * level, active low).  Handlers of one GSI share its vector. */
int irq_request_gsi(u32 gsi, bool level, bool active_low, irq_handler_fn handler, void *arg,
		    const char *name);
#define MSI_ADDRESS_BASE 0xFEE00000u

/* What a device writes to raise a message-signalled interrupt. */
struct irq_msi {
	u32 address;
	u32 data;
};

/*
 * Attach @handler to a vector of its own for a message-signalled interrupt
 * (MSI/MSI-X), delivered to the boot CPU; @msg gets the address and data
 * to program into the device.  Returns 0, -ENOSPC when the vectors are
 * used up, or -ENOMEM.
 */
int irq_request_msi(irq_handler_fn handler, void *arg, const char *name, struct irq_msi *msg);
/* Record an override from the MADT: ISA IRQ @isa arrives on @gsi. */
void irq_set_isa_override(unsigned isa, u32 gsi, bool level, bool active_low);

struct regs;
/* Called by isr_dispatch for vectors 32-255. */
void irq_dispatch(struct regs *r);

/* Walk the registered handlers (for irqstat). */
const struct irq_action *irq_next_action(const struct irq_action *prev);
u64 irq_spurious_count(void);

#endif
