/*
 * irq.c — vector allocation and dispatch (see irq.h).
 *
 * Each vector has a singly linked chain of actions.  Chains only grow, and
 * a new action is fully built before it is published with a release store,
 * so dispatch walks them without a lock; irq_lock only serialises
 * registration.  Device vectors are handed out one per GSI, so handlers
 * that share a line share its vector.
 */
#include "kernel/irq.h"
#include "compiler.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "errno.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/regs.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "mm/kmalloc.h"

struct isa_route {
	u32 gsi;
	bool level, active_low, overridden;
};

static struct irq_action *chains[256];
static u8 next_vector = IRQ_VECTOR_FIRST;
static u64 spurious;
static spinlock_t irq_lock = SPINLOCK_INIT("irq"); /* chains (writers), next_vector */

/* ISA IRQs are edge-triggered, active high, on the GSI of the same number,
 * unless the MADT says otherwise; a PC without an MADT still has the PIT on
 * IOAPIC pin 2. */
static struct isa_route isa_routes[16];

void irq_set_isa_override(unsigned isa, u32 gsi, bool level, bool active_low)
{
	if (isa < ARRAY_SIZE(isa_routes))
		isa_routes[isa] = (struct isa_route){ gsi, level, active_low, true };
}

static struct isa_route isa_route_of(unsigned isa)
{
	if (isa_routes[isa].overridden)
		return isa_routes[isa];
	return (struct isa_route){ .gsi = isa == 0 ? 2 : isa };
}

static struct irq_action *action_new(u8 vector, u32 gsi, irq_handler_fn fn, void *arg,
				     const char *name)
{
	struct irq_action *a = kzalloc(sizeof(*a));

	if (!a)
		return NULL;
	a->handler = fn;
	a->arg = arg;
	a->name = name;
	a->vector = vector;
	a->gsi = gsi;
	return a;
}

/* Append @a to its vector's chain; dispatch may be walking it meanwhile. */
static void action_publish(struct irq_action *a)
{
	struct irq_action **link = &chains[a->vector];

	while (*link)
		link = &(*link)->next;
	__atomic_store_n(link, a, __ATOMIC_RELEASE);
}

int irq_request_vector(u8 vector, irq_handler_fn handler, void *arg, const char *name)
{
	struct irq_action *a = action_new(vector, ~0u, handler, arg, name);
	u64 flags;

	if (!a)
		return -ENOMEM;
	flags = spin_lock_irqsave(&irq_lock);
	action_publish(a);
	spin_unlock_irqrestore(&irq_lock, flags);
	return 0;
}

/* The vector already serving @gsi, or a new one; 0 when none are left. */
static u8 vector_for_gsi(u32 gsi, bool *fresh)
{
	for (unsigned v = IRQ_VECTOR_FIRST; v < next_vector; v++)
		if (chains[v] && chains[v]->gsi == gsi) {
			*fresh = false;
			return (u8)v;
		}
	*fresh = true;
	return next_vector <= IRQ_VECTOR_LAST ? next_vector++ : 0;
}

int irq_request_gsi(u32 gsi, bool level, bool active_low, irq_handler_fn handler, void *arg,
		    const char *name)
{
	struct irq_action *a = action_new(0, gsi, handler, arg, name);
	bool fresh;
	int rc = 0;
	u64 flags;

	if (!a)
		return -ENOMEM;
	flags = spin_lock_irqsave(&irq_lock);
	a->vector = vector_for_gsi(gsi, &fresh);
	if (!a->vector)
		rc = -ENOSPC;
	else if (fresh)
		rc = ioapic_route(gsi, a->vector, percpu_of(0)->apic_id, level, active_low);
	if (!rc)
		action_publish(a);
	spin_unlock_irqrestore(&irq_lock, flags);
	if (rc) {
		kfree(a);
		return rc;
	}
	return ioapic_mask(gsi, false);
}

int irq_request_msi(irq_handler_fn handler, void *arg, const char *name, struct irq_msi *msg)
{
	struct irq_action *a = action_new(0, ~0u, handler, arg, name);
	u64 flags;

	if (!a)
		return -ENOMEM;
	flags = spin_lock_irqsave(&irq_lock);
	a->vector = next_vector <= IRQ_VECTOR_LAST ? next_vector++ : 0;
	if (a->vector)
		action_publish(a);
	spin_unlock_irqrestore(&irq_lock, flags);
	if (!a->vector) {
		kfree(a);
		return -ENOSPC;
	}
	/* Fixed delivery, physical destination: the boot CPU, edge-triggered. */
	msg->address = MSI_ADDRESS_BASE | (percpu_of(0)->apic_id << 12);
	msg->data = a->vector;
	return 0;
}

int irq_request_isa(unsigned isa, irq_handler_fn handler, void *arg, const char *name)
{
	struct isa_route r;

	if (isa >= ARRAY_SIZE(isa_routes))
		return -EINVAL;
	r = isa_route_of(isa);
	return irq_request_gsi(r.gsi, r.level, r.active_low, handler, arg, name);
}

void irq_dispatch(struct regs *r)
{
	struct irq_action *a = __atomic_load_n(&chains[r->vector], __ATOMIC_ACQUIRE);
	unsigned cpu = this_cpu()->cpu;
	bool handled = false;

	if (r->vector == LAPIC_SPURIOUS_VECTOR || (r->vector >= 0x20 && r->vector < 0x30)) {
		spurious++; /* no EOI for a spurious interrupt */
		return;
	}
	this_cpu()->irq_depth++;
	this_cpu()->irq_regs = r;
	for (; a; a = __atomic_load_n(&a->next, __ATOMIC_ACQUIRE)) {
		if (a->handler(a->arg) == IRQ_HANDLED) {
			a->count[cpu]++;
			handled = true;
		}
	}
	if (!handled)
		spurious++;
	lapic_eoi();
	this_cpu()->irq_depth--;
	sched_irq_exit(); /* a switch that became due happens here, after the EOI */
}

const struct irq_action *irq_next_action(const struct irq_action *prev)
{
	unsigned v = 0;

	if (prev) {
		if (prev->next)
			return prev->next;
		v = prev->vector + 1u;
	}
	for (; v < 256; v++)
		if (chains[v])
			return chains[v];
	return NULL;
}

u64 irq_spurious_count(void)
{
	return spurious;
}
