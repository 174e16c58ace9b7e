/*
 * test_ring_race.c — the byte ring (lib/ring.c) with its producer and its
 * consumer on two CPUs at once, as the serial driver uses it (interrupt
 * handler in, shell task out).
 *
 * The consumer takes one byte at a time into a one-byte slot with guard
 * bytes on both sides.  A consumer that reads the producer's head twice —
 * once to compare with the one byte asked for, once more for the count it
 * copies — copies everything that arrived in between and tramples the
 * guards: that was the panic at the first command typed after boot, where
 * the "guards" were the shell's saved frame pointer.  Every byte must also
 * come out once, in order.  (With the double read, this test failed on
 * the first few thousand bytes.)
 */
#include "drivers/lapic.h"
#include "kernel/irq.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/smp.h"
#include "lib/ktest.h"
#include "lib/ring.h"
#include "lib/string.h"

#define RACE_BYTES 12000u
#define GUARD 0xA5
#define VECTOR_RING_TEST 0xE9

/*
 * The producer is an interrupt handler on the consumer's own CPU, fed by
 * IPIs from another CPU, exactly like the serial driver: interrupts land
 * between any two instructions of the consumer, the double read's window
 * included.  Each interrupt writes a burst of up to 7 bytes.
 */
struct race {
	struct ring ring;
	u8 storage[1024];
	u32 produced;           /* [irq] bytes written so far */
	u32 target_apic;        /* [I] the consumer's CPU */
	volatile bool stop;
};

static struct race race;

static enum irq_result race_irq(void *arg)
{
	u8 chunk[7];
	size_t n = MIN((size_t)(RACE_BYTES - race.produced), sizeof(chunk));

	for (size_t k = 0; k < n; k++)
		chunk[k] = (u8)(race.produced + k);
	race.produced += (u32)ring_write(&race.ring, chunk, n);
	return IRQ_HANDLED;
}

static void race_kicker(void *arg)
{
	while (!race.stop && READ_ONCE(race.produced) < RACE_BYTES) {
		lapic_send_ipi(race.target_apic, IPI_FIXED, VECTOR_RING_TEST);
		for (unsigned spin = 0; spin < 200; spin++)
			cpu_relax();
	}
}

KTEST(ring, one_byte_reads_race_an_interrupt_producer)
{
	static bool registered;
	struct { u8 before[16]; u8 c; u8 after[16]; } slot;
	struct task *t;
	u32 next = 0;
	bool guards_ok = true, order_ok = true;
	u64 deadline = time_ns() + 60000000000ULL;
	unsigned self;

	if (smp_cpu_count() < 2) {
		ktest_log(kt, "one CPU: no one to send the interrupts");
		return;
	}
	if (!registered)
		KT_ASSERT_EQ(irq_request_vector(VECTOR_RING_TEST, race_irq, NULL, "ring-test"), 0);
	registered = true;
	KT_ASSERT_EQ(ring_init(&race.ring, race.storage, sizeof(race.storage)), 0);
	preempt_disable(); /* stay on this CPU, where the interrupts go */
	self = this_cpu()->cpu;
	race.produced = 0;
	race.stop = false;
	race.target_apic = this_cpu()->apic_id;
	memset(&slot, GUARD, sizeof(slot));
	t = task_create("ring-kicker", race_kicker, NULL, self == 0 ? 1 : 0);
	while (t && next < RACE_BYTES && guards_ok && order_ok && time_ns() < deadline) {
		if (ring_get(&race.ring, &slot.c))
			continue;
		for (unsigned k = 0; k < sizeof(slot.after); k++)
			guards_ok &= slot.before[k] == GUARD && slot.after[k] == GUARD;
		order_ok = slot.c == (u8)next++;
	}
	race.stop = true;
	preempt_enable();
	KT_ASSERT(t);
	task_join(t);
	KT_EXPECT(guards_ok);
	KT_EXPECT(order_ok);
	KT_EXPECT_EQ(next, RACE_BYTES);
}
