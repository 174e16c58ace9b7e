/*
 * tcp_api.c — the owner's calls on an open connection (see tcp.h): send,
 * receive, flush, shutdown, close, abort, TCP_NODELAY.
 *
 * The rings' owner ends are driven here without the connection's lock: a
 * sender writes the send ring (its only producer), a reader reads the
 * receive ring (its only consumer), and lib/ring.h's ordering makes the
 * bytes visible before the counters.  The lock is taken only to hand the
 * protocol side its work: tcp_output() after queueing, a window update
 * after reading.
 *
 * A waiter publishes what it waits for before it looks (snd_want,
 * rcv_waiting, with a full fence: the other side stores the ring counter,
 * fences, then reads the flag), so input knows whom to wake and a wake-up
 * cannot be lost between the look and the sleep.  Wake-ups come from the
 * TCP SoftIrq after the input batch (tcp_wake_later).
 */
#include "net/tcp_priv.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/time.h"

/* -------------------------------------------------------- data transfer */

struct send_wait {
	struct tcp_conn *c;
	u32 want;
};

static bool can_send_state(enum tcp_state s)
{
	return s == TCP_ESTABLISHED || s == TCP_CLOSE_WAIT;
}

static bool send_ready(void *arg)
{
	struct send_wait *w = arg;
	struct tcp_conn *c = w->c;

	return ring_free(&c->snd) >= w->want || !can_send_state(tcp_state_of(c)) || tcp_error_of(c) ||
	       __atomic_load_n(&c->shut_wr, __ATOMIC_ACQUIRE);
}

/* The error a send on @c gets now, or 0 when it may go on. */
static int send_error(struct tcp_conn *c)
{
	if (tcp_error_of(c))
		return tcp_error_of(c);
	if (__atomic_load_n(&c->shut_wr, __ATOMIC_ACQUIRE))
		return -EPIPE;
	if (!can_send_state(tcp_state_of(c)))
		return tcp_state_of(c) == TCP_CLOSED ? -ENOTCONN : -EPIPE;
	return 0;
}

s64 tcp_send(struct tcp_conn *c, const void *buf, size_t len, u64 timeout_ns)
{
	u64 deadline = tcp_deadline(timeout_ns);
	size_t done = 0;
	int rc = 0;

	if (!c || (!buf && len))
		return -EINVAL;
	while (done < len) {
		struct send_wait w = { c, 0 };
		size_t n;

		rc = send_error(c);
		if (rc)
			break;
		n = ring_write(&c->snd, (const u8 *)buf + done, len - done);
		if (n) {
			done += n;
			spin_lock(&c->lock);
			tcp_output(c);
			tcp_unlock(c);
			continue;
		}
		/*
		 * Wait for a quarter of the ring (or the rest, if less): input
		 * wakes us when the free space reaches snd_want.
		 */
		w.want = (u32)MIN(len - done, (size_t)c->sndbuf / 4);
		__atomic_store_n(&c->snd_want, w.want, __ATOMIC_SEQ_CST);
		rc = tcp_wait(&c->wait, send_ready, &w, deadline);
		__atomic_store_n(&c->snd_want, 0, __ATOMIC_RELAXED);
		if (rc)
			break;
	}
	return done ? (s64)done : rc;
}

struct recv_wait {
	struct tcp_conn *c;
};

static bool recv_ready(void *arg)
{
	struct tcp_conn *c = arg;

	return !ring_empty(&c->rcv) || __atomic_load_n(&c->fin_rcvd, __ATOMIC_ACQUIRE) ||
	       tcp_error_of(c) || tcp_state_of(c) == TCP_CLOSED;
}

/* After reading: a window update if reading opened the window enough. */
static void recv_done(struct tcp_conn *c)
{
	spin_lock(&c->lock);
	if (c->state != TCP_CLOSED && tcp_window_update_due(c))
		tcp_send_ack(c);
	tcp_unlock(c);
}

s64 tcp_recv(struct tcp_conn *c, void *buf, size_t len, u64 timeout_ns)
{
	u64 deadline = tcp_deadline(timeout_ns);
	int rc;

	if (!c || !buf || !len)
		return -EINVAL;
	if (!c->rcv_mem)
		return tcp_error_of(c) ? tcp_error_of(c) : -ENOTCONN;
	for (;;) {
		bool fin = __atomic_load_n(&c->fin_rcvd, __ATOMIC_ACQUIRE);
		size_t n = ring_read(&c->rcv, buf, len);

		if (n) {
			recv_done(c);
			return (s64)n;
		}
		if (fin)
			return 0;
		if (tcp_error_of(c))
			return tcp_error_of(c);
		if (tcp_state_of(c) == TCP_CLOSED)
			return -ENOTCONN;
		/* Flag first, then look (wait_until checks before sleeping): input
		 * writes the ring, then reads the flag. */
		__atomic_store_n(&c->rcv_waiting, true, __ATOMIC_SEQ_CST);
		rc = tcp_wait(&c->wait, recv_ready, c, deadline);
		__atomic_store_n(&c->rcv_waiting, false, __ATOMIC_RELAXED);
		if (rc)
			return rc;
	}
}

static bool flushed(void *arg)
{
	struct tcp_conn *c = arg;

	return ring_empty(&c->snd) || tcp_error_of(c) || tcp_state_of(c) == TCP_CLOSED;
}

int tcp_flush(struct tcp_conn *c, u64 timeout_ns)
{
	int rc;

	if (!c)
		return -EINVAL;
	rc = tcp_wait(&c->wait, flushed, c, tcp_deadline(timeout_ns));
	if (rc)
		return rc;
	if (tcp_error_of(c))
		return tcp_error_of(c);
	return ring_empty(&c->snd) ? 0 : -ENOTCONN;
}

/* Queue our FIN (lock held): the state moves as RFC 9293's CLOSE says. */
static void shutdown_locked(struct tcp_conn *c)
{
	if (c->shut_wr)
		return;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		__atomic_store_n(&c->state, TCP_FIN_WAIT_1, __ATOMIC_RELEASE);
		break;
	case TCP_CLOSE_WAIT:
		__atomic_store_n(&c->state, TCP_LAST_ACK, __ATOMIC_RELEASE);
		break;
	default:
		return;
	}
	__atomic_store_n(&c->shut_wr, true, __ATOMIC_RELEASE);
	tcp_output(c);
}

int tcp_shutdown(struct tcp_conn *c)
{
	int rc;

	if (!c)
		return -EINVAL;
	spin_lock(&c->lock);
	rc = c->error;
	if (!rc)
		shutdown_locked(c);
	tcp_unlock(c);
	return rc;
}

void tcp_close(struct tcp_conn *c)
{
	if (!c)
		return;
	spin_lock(&c->lock);
	c->owned = false;
	c->orphan = true;
	if (c->rcv_mem && !ring_empty(&c->rcv) && c->state != TCP_CLOSED &&
	    c->state != TCP_TIME_WAIT) {
		tcp_send_rst_conn(c);
		tcp_conn_drop(c, 0);
	} else {
		switch (c->state) {
		case TCP_SYN_SENT:
		case TCP_CLOSED:
			tcp_conn_drop(c, 0);
			break;
		case TCP_FIN_WAIT_2:
			c->tw_at = time_ns() + (u64)TCP_FIN_WAIT2_MS * NS_PER_MS;
			tcp_timer_update(c);
			break;
		case TCP_TIME_WAIT:
			tcp_conn_free_rings(c);
			break;
		default:
			shutdown_locked(c);
		}
	}
	tcp_unlock(c);
	tcp_conn_put(c);
}

void tcp_abort(struct tcp_conn *c)
{
	if (!c)
		return;
	spin_lock(&c->lock);
	c->owned = false;
	c->orphan = true;
	if (c->state != TCP_CLOSED && c->state != TCP_SYN_SENT && c->state != TCP_TIME_WAIT)
		tcp_send_rst_conn(c);
	tcp_conn_drop(c, -ECONNABORTED);
	tcp_unlock(c);
	tcp_conn_put(c);
}

void tcp_set_nodelay(struct tcp_conn *c, bool nodelay)
{
	if (!c)
		return;
	spin_lock(&c->lock);
	c->nodelay = nodelay;
	if (nodelay && c->state != TCP_CLOSED)
		tcp_output(c);
	tcp_unlock(c);
}
