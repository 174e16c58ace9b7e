/*
 * host_tcp_api.c — the calls' side of TCP on the host: waits, their
 * limits and Ctrl-C, listeners, the status calls.
 *
 * A blocked tcp_recv() wakes for data and for the peer's FIN.  Every
 * blocking call (tcp_connect, tcp_accept, tcp_recv, tcp_send, tcp_flush)
 * returns -EINTR when the task is interrupted (the shell's
 * Ctrl-C: task_interrupt() from a timer while the test's task waits) and
 * -ETIMEDOUT at its limit, and leaves the connection usable — or, for an
 * interrupted tcp_connect(), nothing at all: a late SYN-ACK then finds no
 * connection and is reset.  tcp_send() that queued part of its data
 * returns the part.  A listener's buffer sizes reach its connections (the
 * SYN-ACK's window and window scale follow them); closing a listener
 * resets what was not accepted.  tcp_for_each() shows every connection
 * with its state, addresses, ports and queues; tcp_get_stats() counts
 * segments both ways.
 */
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/time.h"
#include "lib/string.h"

#define LPORT 8084

static u8 big[300u << 10];

static void drop_conn(struct tcp_peer *p, struct tcp_conn *c)
{
	tcp_abort(c);
	tp_drain(p);
}

static void interrupt_test(struct ktimer *t, void *arg)
{
	task_interrupt(shim_test_task());
}

/* Ctrl-C @ns from now. */
static void ctrl_c_in(struct ktimer *t, u64 ns)
{
	ktimer_init(t, interrupt_test, NULL);
	ktimer_start(t, ns, 0);
}

KTEST(tcp_api, ctrl_c_interrupts_every_blocking_call)
{
	TCP_BEGIN();
	struct ip_addr dst = ip_v4(PEER_IP);
	struct tcp_listener *l;
	struct tcp_conn *c, *c2 = NULL;
	struct ktimer t;
	char b;
	u64 t0;
	s64 n;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	/* tcp_recv() with nothing to read. */
	t0 = time_ns();
	ctrl_c_in(&t, 300 * NS_MS);
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, 10 * NS_S), -EINTR);
	task_clear_interrupt();
	KT_EXPECT(time_ns() - t0 < NS_S);
	/* tcp_send() into a full buffer (the peer's window is shut): the part it queued. */
	p->wnd = 0;
	tp_ack(p);
	ctrl_c_in(&t, 300 * NS_MS);
	n = tcp_send(c, big, sizeof(big), 10 * NS_S);
	task_clear_interrupt();
	KT_EXPECT(n > 0 && n < (s64)sizeof(big));
	KT_EXPECT_EQ(tp_info(c).snd_queued, (u32)n);
	ctrl_c_in(&t, 300 * NS_MS);
	KT_EXPECT_EQ(tcp_send(c, big, 100, 10 * NS_S), -EINTR); /* none queued */
	task_clear_interrupt();
	/* tcp_flush() of what will not go. */
	ctrl_c_in(&t, 300 * NS_MS);
	KT_EXPECT_EQ(tcp_flush(c, 10 * NS_S), -EINTR);
	task_clear_interrupt();
	KT_EXPECT_EQ(tp_info(c).error, 0);
	drop_conn(p, c);
	/* tcp_accept() with nobody coming. */
	KT_ASSERT_EQ(tcp_listen(LPORT, 1, &l), 0);
	ctrl_c_in(&t, 300 * NS_MS);
	KT_EXPECT_EQ(tcp_accept(l, 10 * NS_S, &c2), -EINTR);
	task_clear_interrupt();
	tcp_listener_close(l);
	/* tcp_connect() to a peer that does not answer: nothing left behind. */
	ctrl_c_in(&t, 300 * NS_MS);
	KT_EXPECT_EQ(tcp_connect(&dst, TP_PORT + 1, 10 * NS_S, &c2), -EINTR);
	task_clear_interrupt();
	KT_EXPECT_EQ(tp_conns(), 0);
	KT_ASSERT(TP_EXPECT(p, TP_SYN, TP_ANY, TP_ANY));
	tp_drain(p);
	/* The SYN-ACK that comes too late finds no connection: reset. */
	p->port = TP_PORT + 1;
	p->our_port = p->last.sport;
	tp_send(p, TP_SYN | TP_ACK, p->iss, p->last.seq + 1, NULL, 0);
	KT_EXPECT(TP_EXPECT_RST(p, p->last.seq + 1));
	TCP_END();
}

static void push_data(struct tcp_peer *p)
{
	tp_push(p, TP_PSH, "late", 4);
}

static void push_fin(struct tcp_peer *p)
{
	tp_push(p, TP_FIN, NULL, 0);
}

KTEST(tcp_api, a_blocked_reader_is_woken_by_data_and_by_fin)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	char buf[8];
	u64 t0;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	t0 = time_ns();
	tp_later(p, 200 * NS_MS, push_data);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), 10 * NS_S), 4);
	KT_EXPECT(!memcmp(buf, "late", 4));
	KT_EXPECT(time_ns() - t0 >= 200 * NS_MS && time_ns() - t0 < NS_S);
	t0 = time_ns();
	tp_later(p, 200 * NS_MS, push_fin);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), 10 * NS_S), 0);
	KT_EXPECT(time_ns() - t0 >= 200 * NS_MS && time_ns() - t0 < NS_S);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_api, limits_return_etimedout_and_leave_the_connection_usable)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c, *c2;
	char b;
	u64 t0;
	s64 n;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	t0 = time_ns();
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, 2 * NS_S), -ETIMEDOUT);
	KT_EXPECT(time_ns() - t0 >= 2 * NS_S);
	KT_EXPECT_EQ(tp_info(c).state, TCP_ESTABLISHED);
	tp_push(p, TP_PSH, "k", 1);
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, NS_S), 1);
	/* A full send buffer: the part queued, then -ETIMEDOUT with none. */
	p->wnd = 0;
	tp_ack(p);
	n = tcp_send(c, big, sizeof(big), NS_S);
	KT_EXPECT(n > 0 && n < (s64)sizeof(big));
	KT_EXPECT_EQ(tcp_send(c, big, 10, 500 * NS_MS), -ETIMEDOUT);
	KT_EXPECT_EQ(tcp_flush(c, 500 * NS_MS), -ETIMEDOUT);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	drop_conn(p, c);
	KT_ASSERT_EQ(tcp_listen(LPORT, 1, &l), 0);
	t0 = time_ns();
	KT_EXPECT_EQ(tcp_accept(l, NS_S, &c2), -ETIMEDOUT);
	KT_EXPECT(time_ns() - t0 >= NS_S);
	tcp_listener_close(l);
	TCP_END();
}

KTEST(tcp_api, listener_buffer_sizes_reach_the_handshake)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;

	KT_ASSERT_EQ(tcp_listen(LPORT, 2, &l), 0);
	/* 5000 rounds up to 8 KiB: no scaling needed, the window says the buffer. */
	KT_ASSERT_EQ(tcp_listener_set_bufsize(l, 5000, 5000), 0);
	p->offer_ws = true;
	KT_ASSERT_EQ(tp_accept(p, l, &c), 0);
	KT_EXPECT_EQ(p->syn.win, 8192);
	KT_EXPECT(p->syn.o.has_ws && p->syn.o.ws == 0);
	drop_conn(p, c);
	/* Past the maximum: clamped to it, and the shift follows (65535 << 4 > 512 KiB). */
	KT_ASSERT_EQ(tcp_listener_set_bufsize(l, ~0u, ~0u), 0);
	p->port++;
	KT_ASSERT_EQ(tp_accept(p, l, &c), 0);
	KT_EXPECT(p->syn.o.has_ws && p->syn.o.ws == 4);
	KT_EXPECT_EQ(TCP_BUF_MAX, 512u << 10);
	KT_EXPECT_EQ(p->syn.win, 65535);
	KT_EXPECT(tp_wnd(p, &p->syn) <= TCP_BUF_MAX);
	drop_conn(p, c);
	tcp_listener_close(l);
	TCP_END();
}

KTEST(tcp_api, closing_a_listener_resets_what_was_not_accepted)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tp_seg s;
	unsigned rsts = 0;

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	p->our_port = LPORT;
	/* One finished its handshake, one is half-open; neither accepted. */
	tp_push(p, TP_SYN, NULL, 0);
	KT_ASSERT(TP_EXPECT(p, TP_SYN | TP_ACK, TP_ANY, p->iss + 1));
	p->irs = p->last.seq;
	p->rcv_nxt = p->irs + 1;
	tp_ack(p);
	p->port++;
	p->snd_nxt = p->iss;
	tp_push(p, TP_SYN, NULL, 0);
	tp_drain(p);
	KT_EXPECT_EQ(tp_conns(), 2);
	tcp_listener_close(l);
	while (tp_pop(p, &s))
		if ((s.flags & TP_RST) && s.dport == TP_PORT && s.seq == p->irs + 1)
			rsts++;
	KT_EXPECT_EQ(rsts, 1);
	KT_EXPECT_EQ(tp_conns(), 0);
	/* The port is free. */
	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	tcp_listener_close(l);
	TCP_END();
}

struct seen {
	struct tcp_conn_info i[8];
	unsigned n;
};

static void note(void *arg, const struct tcp_conn_info *i)
{
	struct seen *s = arg;

	if (s->n < ARRAY_SIZE(s->i))
		s->i[s->n] = *i;
	s->n++;
}

static const struct tcp_conn_info *find(const struct seen *s, u16 lport, u16 rport)
{
	for (unsigned k = 0; k < s->n && k < ARRAY_SIZE(s->i); k++)
		if (s->i[k].lport == lport && s->i[k].rport == rport)
			return &s->i[k];
	return NULL;
}

KTEST(tcp_api, for_each_lists_every_connection_with_its_state)
{
	TCP_BEGIN();
	struct tcp_peer q, r;
	struct tcp_listener *l;
	struct tcp_conn *a, *b, *d;
	struct seen seen = { .n = 0 };
	const struct tcp_conn_info *i;
	unsigned visited;

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	/* a: ours, established, 10 bytes unread and 3 unacknowledged. */
	KT_ASSERT_EQ(tp_connect(p, &a), 0);
	tp_push(p, TP_PSH, "0123456789", 10);
	KT_ASSERT_EQ(tcp_send(a, "abc", 3, NS_S), 3);
	tp_drain(p);
	/* b: accepted, the peer has sent FIN. */
	tp_init(kt, &q, f, TP_PORT + 1);
	KT_ASSERT_EQ(tp_accept(&q, l, &b), 0);
	tp_push(&q, TP_FIN, NULL, 0);
	tp_drain(&q);
	/* d: ours, closed by us first and gone to TIME_WAIT, given up by its owner. */
	tp_init(kt, &r, f, TP_PORT + 2);
	KT_ASSERT_EQ(tp_connect(&r, &d), 0);
	tcp_close(d);
	KT_ASSERT(TP_EXPECT(&r, TP_FIN | TP_ACK, r.rcv_nxt, r.snd_nxt));
	r.rcv_nxt++;
	tp_push(&r, TP_FIN, NULL, 0);
	tp_drain(&r);

	visited = tcp_for_each(note, &seen);
	KT_EXPECT_EQ(visited, seen.n);
	KT_EXPECT_EQ(visited, 4);
	i = find(&seen, LPORT, 0);
	KT_EXPECT(i && i->state == TCP_LISTEN);
	i = find(&seen, p->our_port, TP_PORT);
	KT_ASSERT(i);
	KT_EXPECT_EQ(i->state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(i->local.v4, OUR_IP);
	KT_EXPECT_EQ(i->remote.v4, PEER_IP);
	KT_EXPECT_EQ(i->rcv_queued, 10);
	KT_EXPECT_EQ(i->snd_queued, 3);
	KT_EXPECT_EQ(i->mss, 1460);
	i = find(&seen, LPORT, TP_PORT + 1);
	KT_EXPECT(i && i->state == TCP_CLOSE_WAIT);
	i = find(&seen, r.our_port, TP_PORT + 2);
	KT_EXPECT(i && i->state == TCP_TIME_WAIT);
	KT_EXPECT_EQ(tp_stats().conns, 3);
	KT_EXPECT_EQ(tp_stats().listeners, 1);
	KT_EXPECT_EQ(tp_stats().time_wait, 1);
	drop_conn(p, a);
	drop_conn(&q, b);
	tcp_listener_close(l);
	tp_fini(&q);
	tp_fini(&r);
	TCP_END();
}

KTEST(tcp_api, stats_count_segments_both_ways)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_stats st0 = tp_stats(), st;
	unsigned out;
	char buf[8];

	KT_ASSERT_EQ(tp_connect(p, &c), 0); /* in: SYN-ACK; out: SYN, ACK */
	tp_push(p, TP_PSH, "abc", 3);         /* in */
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 3);
	KT_ASSERT_EQ(tcp_send(c, "xyz", 3, NS_S), 3); /* out, with the ACK */
	out = tp_drain(p);
	p->rcv_nxt += 3;
	tp_ack(p);                             /* in */
	st = tp_stats();
	KT_EXPECT_EQ(st.segs_in, st0.segs_in + 3);
	KT_EXPECT_EQ(st.segs_out, st0.segs_out + 2 + out);
	KT_EXPECT_EQ(st.active_opens, st0.active_opens + 1);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_api, state_names)
{
	static const char *const names[TCP_STATES] = {
		"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
		"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
	};

	for (unsigned s = 0; s < TCP_STATES; s++)
		KT_EXPECT_STREQ(tcp_state_name((enum tcp_state)s), names[s]);
	KT_EXPECT(tcp_state_name(TCP_STATES) != NULL);
}
