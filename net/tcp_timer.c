/*
 * tcp_timer.c — the connections' timers: retransmission (RFC 6298),
 * persist (zero-window probes), delayed ACK, TIME_WAIT and the orphaned
 * FIN_WAIT_2 timeout.
 *
 * A connection's timers are only deadlines: rexmt_at (the retransmission
 * timer, or the persist timer when c->persist), delack_at and tw_at, in
 * time_ns() nanoseconds, 0 when off.  Setting one is a store under the
 * connection's lock — cheap enough to do for every segment — and
 * tcp_timer_update() keeps c->deadline, the earliest, and the count of
 * connections that have any.
 *
 * One TCP-wide periodic ktimer of TCP_TICK_MS serves them all, and it runs
 * only while that count is above zero: tcp_timer_sync(), called whenever a
 * connection's lock is dropped (tcp_unlock), arms it when the first
 * deadline appears and cancels it when the last goes, so an idle stack has
 * no timer at all.  The ktimer callback only raises SOFTIRQ_TCP_TIMER; the
 * SoftIrq collects the connections whose deadline passed (with a
 * reference, under the table lock, reading c->deadline atomically) and
 * runs each one's timers under its own lock.  Deadlines therefore fire up
 * to one tick late, which the constants allow for.
 *
 * Why not one ktimer per connection: re-arming a ktimer waits for its
 * running callback, which would have to happen outside the connection's
 * lock — on every segment.  A deadline costs a store.
 *
 * Locks: "tcp timer" guards armed and the ktimer calls, and is taken with
 * no TCP lock held; the ktimer callback takes nothing, so cancelling under
 * it cannot wait on a callback that waits on us.
 */
#include "net/tcp_priv.h"
#include "errno.h"
#include "kernel/softirq.h"
#include "kernel/time.h"

/* Legend: [k] the "tcp timer" lock; [a] atomic. */
static struct {
	spinlock_t lock;
	struct ktimer tick;         /* [k] to arm or cancel */
	bool armed;                 /* [k] written, [a] read */
	u32 ntimed;                 /* [a] connections with a deadline */
	u32 busy;                   /* [a] a tick pass is running */
	u32 tick_due;               /* [a] the ktimer fired */
	spinlock_t wlock;           /* "tcp wakes": the list below */
	struct list_head wakes;     /* [w] conns whose waiters input wants woken */
} tt = { .lock = SPINLOCK_INIT("tcp timer"), .wlock = SPINLOCK_INIT("tcp wakes") };

#define TICK_NS ((u64)TCP_TICK_MS * NS_PER_MS)

void tcp_timer_update(struct tcp_conn *c)
{
	u64 d = 0, at[3] = { c->rexmt_at, c->delack_at, c->tw_at };
	bool timed;

	for (unsigned i = 0; i < 3; i++)
		if (at[i] && (!d || at[i] < d))
			d = at[i];
	__atomic_store_n(&c->deadline, d, __ATOMIC_RELEASE);
	timed = d != 0;
	if (timed == c->timed)
		return;
	c->timed = timed;
	if (timed)
		__atomic_fetch_add(&tt.ntimed, 1, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_sub(&tt.ntimed, 1, __ATOMIC_SEQ_CST);
}

void tcp_timer_sync(void)
{
	bool want = __atomic_load_n(&tt.ntimed, __ATOMIC_SEQ_CST) != 0;

	if (want == __atomic_load_n(&tt.armed, __ATOMIC_SEQ_CST))
		return;
	spin_lock(&tt.lock);
	want = __atomic_load_n(&tt.ntimed, __ATOMIC_SEQ_CST) != 0;
	if (want && !tt.armed) {
		ktimer_start(&tt.tick, TICK_NS, TICK_NS);
		__atomic_store_n(&tt.armed, true, __ATOMIC_SEQ_CST);
	} else if (!want && tt.armed) {
		ktimer_cancel(&tt.tick);
		__atomic_store_n(&tt.armed, false, __ATOMIC_SEQ_CST);
	}
	spin_unlock(&tt.lock);
}

/* The RTO doubled @shift times, at most TCP_RTO_MAX_MS, in ns. */
static u64 backed_off(const struct tcp_conn *c, unsigned shift)
{
	u64 ms = c->rto_ms;

	for (unsigned i = 0; i < shift && ms < TCP_RTO_MAX_MS; i++)
		ms <<= 1;
	return MIN(ms, (u64)TCP_RTO_MAX_MS) * NS_PER_MS;
}

u64 tcp_rto_ns(const struct tcp_conn *c)
{
	return backed_off(c, c->retries);
}

/* The persist interval: backs off per probe even while the peer answers them. */
static u64 persist_ns(const struct tcp_conn *c)
{
	return backed_off(c, c->persist_shift);
}

void tcp_timer_rexmt_start(struct tcp_conn *c)
{
	c->persist = false;
	c->rexmt_at = time_ns() + tcp_rto_ns(c);
	tcp_timer_update(c);
}

void tcp_timer_rexmt_stop(struct tcp_conn *c)
{
	c->persist = false;
	c->rexmt_at = 0;
	tcp_timer_update(c);
}

void tcp_timer_delack(struct tcp_conn *c)
{
	if (c->delack_at)
		return;
	c->delack_at = time_ns() + (u64)TCP_DELACK_MS * NS_PER_MS;
	tcp_timer_update(c);
}

/* Unsent bytes in the send ring. */
static u32 unsent(const struct tcp_conn *c)
{
	return (u32)(c->snd.head - (c->snd_nxt - c->iss - 1));
}

void tcp_timer_persist_check(struct tcp_conn *c)
{
	if (c->rexmt_at || c->snd_una != c->snd_max || !c->snd_mem || !unsent(c))
		return;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT &&
	    c->state != TCP_FIN_WAIT_1 && c->state != TCP_LAST_ACK)
		return;
	c->persist = true;
	c->rexmt_at = time_ns() + persist_ns(c);
	tcp_timer_update(c);
}

void tcp_rtt_sample(struct tcp_conn *c, u32 r)
{
	u32 rto_us, var4;

	if (!r)
		r = 1;
	if (!c->srtt_us) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
	} else {
		u32 delta = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;

		c->rttvar_us = (3 * c->rttvar_us + delta) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
	}
	var4 = 4 * c->rttvar_us;
	rto_us = c->srtt_us + MAX(var4, (u32)TCP_TICK_MS * 1000);
	c->rto_ms = MIN(MAX((rto_us + 999) / 1000, (u32)TCP_RTO_MIN_MS), (u32)TCP_RTO_MAX_MS);
}

static bool synchronized(enum tcp_state s)
{
	return s != TCP_CLOSED && s != TCP_LISTEN && s != TCP_SYN_SENT && s != TCP_SYN_RECEIVED;
}

/*
 * The retransmission timer went off with the peer's window shut and our
 * data in flight.  tcp_output() would send nothing into the window, and
 * the persist timer does not run while data is in flight, so this timer
 * tests the window (RFC 9293 3.8.6.1: keep retransmitting to a zero
 * window): the first unacknowledged segment goes again, as a probe.  It
 * backs off like persist probes, and like theirs an answer (ack_in())
 * clears the retries: a peer that answers may keep its window shut for
 * as long as it likes, one that stays silent is given up on.
 */
static void shut_window_probe(struct tcp_conn *c)
{
	tcp_retransmit_first(c);
	if (c->persist_shift < 16)
		c->persist_shift++;
	c->persist = false;
	c->rexmt_at = time_ns() + persist_ns(c);
	tcp_timer_update(c);
}

/* The retransmission timer went off: back off, collapse cwnd, go back to snd_una. */
static void rexmt_fire(struct tcp_conn *c)
{
	unsigned limit = c->state == TCP_SYN_SENT ? TCP_SYN_RETRIES :
			 c->state == TCP_SYN_RECEIVED ? TCP_SYNACK_RETRIES : TCP_DATA_RETRIES;

	TCP_STAT_INC(rto_expiries);
	if (++c->retries > limit) {
		if (synchronized(c->state))
			tcp_send_rst_conn(c);
		tcp_conn_drop(c, -ETIMEDOUT);
		return;
	}
	c->rtt_timing = false; /* Karn: no sample from a retransmitted segment */
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
		int rc;

		c->snd_nxt = c->iss;
		c->retransmits++;
		TCP_STAT_INC(retransmits);
		rc = tcp_send_syn(c);
		if (c->state == TCP_SYN_SENT && (rc == -EHOSTUNREACH || rc == -ENETUNREACH)) {
			tcp_conn_drop(c, rc); /* ARP gave up, or the route went */
			return;
		}
		tcp_timer_rexmt_start(c);
		return;
	}
	if (c->retries == 1)
		c->ssthresh = MAX((c->snd_max - c->snd_una) / 2, 2u * c->mss);
	c->cwnd = c->mss;
	c->ca_acked = 0;
	c->in_recovery = false;
	c->dupacks = 0;
	c->recover = c->snd_max;
	c->snd_nxt = c->snd_una;
	if (!c->snd_wnd) {
		shut_window_probe(c);
		return;
	}
	tcp_output(c);
	if (!c->rexmt_at)
		tcp_timer_rexmt_start(c);
}

/* The persist timer went off: probe the zero window, or push what a small one allows. */
static void persist_fire(struct tcp_conn *c)
{
	if (++c->retries > TCP_DATA_RETRIES) {
		tcp_send_rst_conn(c);
		tcp_conn_drop(c, -ETIMEDOUT);
		return;
	}
	if (c->snd_wnd) {
		c->force_send = true;
		tcp_output(c);
		c->force_send = false;
	} else {
		tcp_send_probe(c);
	}
	if (c->persist_shift < 16)
		c->persist_shift++;
	if (!c->rexmt_at) {
		c->persist = true;
		c->rexmt_at = time_ns() + persist_ns(c);
		tcp_timer_update(c);
	}
}

/* Run @c's timers that are due at @now (lock held). */
static void conn_timers(struct tcp_conn *c, u64 now)
{
	if (c->state == TCP_CLOSED)
		return;
	if (c->tw_at && now >= c->tw_at) {
		c->tw_at = 0;
		tcp_conn_drop(c, 0);
		return;
	}
	if (c->delack_at && now >= c->delack_at) {
		c->delack_at = 0;
		tcp_send_ack(c);
	}
	if (c->rexmt_at && now >= c->rexmt_at) {
		bool persist = c->persist;

		c->rexmt_at = 0;
		c->persist = false;
		if (persist)
			persist_fire(c);
		else
			rexmt_fire(c);
	}
	tcp_timer_update(c);
}

void tcp_timer_tick(void)
{
	struct list_head due;
	u64 now = time_ns();

	if (__atomic_exchange_n(&tt.busy, 1, __ATOMIC_ACQUIRE))
		return;
	list_init(&due);
	tcp_collect_due(now, &due);
	while (!list_empty(&due)) {
		struct tcp_conn *c = list_first_entry(&due, struct tcp_conn, ticklink);

		list_del_init(&c->ticklink);
		spin_lock(&c->lock);
		conn_timers(c, now);
		spin_unlock(&c->lock);
		tcp_conn_put(c);
	}
	__atomic_store_n(&tt.busy, 0, __ATOMIC_RELEASE);
	tcp_timer_sync();
	tcp_reap();
}

/* ------------------------------------------------------ deferred wakes */

void tcp_wake_later(struct tcp_conn *c)
{
	bool first;

	if (__atomic_load_n(&c->wake_queued, __ATOMIC_ACQUIRE))
		return;
	spin_lock(&tt.wlock);
	first = !c->wake_queued;
	if (first) {
		c->wake_queued = true;
		tcp_conn_get(c);
		list_add_tail(&c->wakelink, &tt.wakes);
	}
	spin_unlock(&tt.wlock);
	if (first)
		softirq_raise(SOFTIRQ_TCP_TIMER);
}

void tcp_ack_later(struct tcp_conn *c)
{
	c->ack_later = true;
	tcp_wake_later(c);
}

/* Wake every connection's waiters that input asked for, and send the ACKs it owes. */
static void run_wakes(void)
{
	for (;;) {
		struct tcp_conn *c = NULL;

		spin_lock(&tt.wlock);
		if (!list_empty(&tt.wakes)) {
			c = list_first_entry(&tt.wakes, struct tcp_conn, wakelink);
			list_del_init(&c->wakelink);
			__atomic_store_n(&c->wake_queued, false, __ATOMIC_RELEASE);
		}
		spin_unlock(&tt.wlock);
		if (!c)
			return;
		if (READ_ONCE(c->ack_later)) {
			spin_lock(&c->lock);
			if (c->ack_later && c->state != TCP_CLOSED)
				tcp_send_ack(c);
			c->ack_later = false;
			tcp_unlock(c);
		}
		waitq_wake_all(&c->wait);
		tcp_conn_put(c);
	}
}

static void tcp_softirq(void)
{
	run_wakes();
	if (__atomic_exchange_n(&tt.tick_due, 0, __ATOMIC_ACQUIRE))
		tcp_timer_tick();
}

static void tick_fn(struct ktimer *t, void *arg)
{
	(void)t;
	(void)arg;
	__atomic_store_n(&tt.tick_due, 1, __ATOMIC_RELEASE);
	softirq_raise(SOFTIRQ_TCP_TIMER);
}

void tcp_timer_init(void)
{
	list_init(&tt.wakes);
	ktimer_init(&tt.tick, tick_fn, NULL);
	tcp_timer_register();
}

void tcp_timer_register(void)
{
	softirq_register(SOFTIRQ_TCP_TIMER, tcp_softirq);
}
