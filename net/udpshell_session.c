/*
 * udpshell_session.c — the UDP shell's sessions: the table, what each
 * request means for its session, the stored replies and resending them.
 *
 * A request that passed ush_input()'s checks comes here.  Under the lock,
 * in one pass: expired sessions are reaped, the client's session is found
 * (or, for a newcomer, a free slot is taken — never a live session's), the
 * counter rules are applied when a key is set, and the request is noted
 * (its seq, its counter, the time).  Then it is one of:
 *
 *   - the seq of the stored reply: a retransmission.  The session is
 *     marked and the resend task sends everything kept so far; if the
 *     command still runs, its later chunks follow as it makes them.
 *   - a session still running another command: "busy", not stored.
 *   - no job slot free (USH_RUN_MAX commands run): "busy", not stored.
 *   - otherwise a new command: the old reply is dropped, a job slot is
 *     claimed and the runner is asked to start it.
 *
 * A request answered "busy" is still noted as the session's last one, so
 * with a key its counter is spent: the same datagram replayed later is
 * either the session's last request (and runs once, since it never ran)
 * or older than the last counter (dropped).
 *
 * The counter rules (keyed requests only; docs/udpshell.md): a request is
 * accepted when its counter is above the session's last, or equal to it
 * with the same seq (an exact retransmission).  A session that has no
 * counter yet under the current key — a new one, or one from before the
 * key changed — also needs the counter within USH_WINDOW_US of our wall
 * clock, must not be one of the keyed requests accepted lately (from
 * anywhere: see "Replays" in udpshell_priv.h), and without a wall clock
 * it is refused.  The last counter is kept across key changes, so a
 * change never lowers it.
 *
 * Resending runs in a task (ush_resend_work()): it may sleep while the
 * device's queue is full, and it copies one chunk at a time out under the
 * lock, checking the reply's gen each time, so it stops at once when the
 * session starts another command, expires, or the server stops.
 */
#include "net/udpshell_priv.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

enum ush_act { USH_ACT_NONE, USH_ACT_DROP, USH_ACT_START, USH_ACT_RESEND, USH_ACT_BUSY,
	       USH_ACT_ALL_BUSY, USH_ACT_FULL };

bool ush_session_live(const struct ush_session *s, u64 now)
{
	if (!s->used)
		return false;
	return s->job || now < s->last_ns || now - s->last_ns <= USH_IDLE_NS;
}

void ush_chunks_free(struct ush_chunk *c)
{
	while (c) {
		struct ush_chunk *next = c->next;

		kfree(c);
		c = next;
	}
}

/* Lock held: move @s's kept chunks onto *@out and empty its reply (a fresh gen). */
static void ush_reply_drop(struct ush_session *s, struct ush_chunk **out)
{
	struct ush_reply *rp = &s->reply;

	if (rp->tail) {
		rp->tail->next = *out;
		*out = rp->head;
	}
	ush.stored -= rp->bytes;
	memset(rp, 0, sizeof(*rp));
	rp->gen = ++ush.next_gen;
}

void ush_reap_locked(u64 now, struct ush_chunk **out)
{
	for (unsigned i = 0; i < USH_SESSIONS; i++) {
		struct ush_session *s = &ush.sessions[i];

		if (s->used && !ush_session_live(s, now)) {
			ush_reply_drop(s, out);
			s->used = false;
		}
	}
}

/*
 * Reaping only when a request comes (or the store is full) would keep an
 * expired session's reply — up to USH_KEEP_REPLY each — for as long as the
 * shell stays quiet, which can be for ever: the resender calls this every
 * USH_REAP_NS, so a reply goes within that much of its session's expiry.
 */
void ush_reap_expired(u64 now)
{
	struct ush_chunk *freed = NULL;

	spin_lock(&ush.lock);
	ush_reap_locked(now, &freed);
	spin_unlock(&ush.lock);
	ush_chunks_free(freed);
}

void ush_sessions_reset(void)
{
	struct ush_chunk *freed = NULL;

	spin_lock(&ush.lock);
	for (unsigned i = 0; i < USH_SESSIONS; i++) {
		ush_reply_drop(&ush.sessions[i], &freed);
		ush.sessions[i].used = false;
		ush.sessions[i].job = NULL;
		ush.sessions[i].resend = false;
	}
	for (unsigned i = 0; i < USH_RUN_MAX; i++)
		ush.jobs[i].in_use = false;
	ush.nlogged = 0;
	spin_unlock(&ush.lock);
	ush_chunks_free(freed);
}

/* ---------------------------------------------------- finding a session */

static struct ush_session *ush_find(const struct ush_req *r)
{
	for (unsigned i = 0; i < USH_SESSIONS; i++) {
		struct ush_session *s = &ush.sessions[i];

		if (s->used && s->port == r->port && ip_eq(&s->addr, &r->addr))
			return s;
	}
	return NULL;
}

/* A free slot for @r's client (after reaping), or NULL when every slot is live. */
static struct ush_session *ush_new(const struct ush_req *r)
{
	for (unsigned i = 0; i < USH_SESSIONS; i++) {
		struct ush_session *s = &ush.sessions[i];
		u32 gen = s->reply.gen;

		if (s->used)
			continue;
		memset(s, 0, sizeof(*s));
		s->reply.gen = gen;
		s->used = true;
		s->addr = r->addr;
		s->port = r->port;
		return s;
	}
	return NULL;
}

/* -------------------------------------------------------- counter rules */

/* Is @counter within the window around @r's arrival time (our clock)?  0 or why not. */
static unsigned ush_window_check_at(u64 counter, const struct ush_req *r)
{
	u64 now_us;

	if (r->wall_rc || r->wall_ns < 0)
		return USH_DROP_NO_CLOCK;
	now_us = (u64)r->wall_ns / 1000;
	if (now_us > USH_WINDOW_US && counter < now_us - USH_WINDOW_US)
		return USH_DROP_WINDOW;
	if (counter > now_us + USH_WINDOW_US)
		return USH_DROP_WINDOW;
	return 0;
}

/* A counter for a session with none yet: within the window around our clock? */
static unsigned ush_window_check(const struct ush_req *r)
{
	return ush_window_check_at(r->counter, r);
}

/* Lock held: is @r one of the keyed requests accepted lately? */
static bool ush_seen_has(const struct ush_req *r)
{
	unsigned n = (unsigned)MIN(ush.nseen, (u64)USH_SEEN);

	for (unsigned i = 0; i < n; i++)
		if (ush.seen[i].counter == r->counter &&
		    !memcmp(ush.seen[i].tag, r->tag, USH_SEEN_TAG))
			return true;
	return false;
}

/*
 * Lock held: remember @r.  The entry it pushes out raises the floor unless
 * it is surely outside the window already (without a clock, it raises it).
 */
static void ush_seen_add(const struct ush_req *r)
{
	struct ush_seen *e = &ush.seen[ush.nseen % USH_SEEN];

	if (ush.nseen >= USH_SEEN && e->counter > ush.seen_floor &&
	    ush_window_check_at(e->counter, r) != USH_DROP_WINDOW)
		ush.seen_floor = e->counter;
	e->counter = r->counter;
	memcpy(e->tag, r->tag, USH_SEEN_TAG);
	ush.nseen++;
}

/* Lock held: may @r open a session (or be the first under a new key)? */
static unsigned ush_fresh_check(const struct ush_req *r)
{
	unsigned why = ush_window_check(r);

	if (why)
		return why;
	if (ush_seen_has(r))
		return USH_DROP_OLD;
	return r->counter <= ush.seen_floor ? USH_DROP_WINDOW : 0;
}

/*
 * Lock held: may @r go on in @s (NULL: a new session)?  0 or a drop
 * reason.  *@again is set for an exact retransmission (nothing new to
 * remember).
 */
static unsigned ush_counter_check(const struct ush_session *s, const struct ush_req *r,
				  bool *again)
{
	*again = false;
	if (!r->auth)
		return 0;
	if (s && s->counted) {
		if (r->counter < s->last_counter)
			return USH_DROP_OLD;
		if (r->counter == s->last_counter && !(s->has_seq && r->seq == s->last_seq))
			return USH_DROP_OLD;
		*again = r->counter == s->last_counter;
		if (s->key_gen == r->key_gen)
			return 0;
	}
	return *again ? 0 : ush_fresh_check(r);
}

static void ush_note_request(struct ush_session *s, const struct ush_req *r)
{
	if (r->now_ns > s->last_ns)
		s->last_ns = r->now_ns;
	s->has_seq = true;
	s->last_seq = r->seq;
	if (r->auth) {
		s->counted = true;
		s->last_counter = r->counter;
		s->key_gen = r->key_gen;
	}
}

/* ------------------------------------------------------------- deciding */

static struct ush_job *ush_job_claim(void)
{
	for (unsigned i = 0; i < USH_RUN_MAX; i++)
		if (!ush.jobs[i].in_use) {
			ush.jobs[i].in_use = true;
			return &ush.jobs[i];
		}
	return NULL;
}

/* Lock held: @s's reply becomes the one @job will make for @r. */
static void ush_reply_begin(struct ush_session *s, const struct ush_req *r, struct ush_job *job,
			    struct ush_chunk **freed)
{
	ush_reply_drop(s, freed);
	s->reply.valid = true;
	s->reply.seq = r->seq;
	s->reply.counter = r->counter;
	s->reply.auth = r->auth;
	s->job = job;
	s->resend = false;
	job->slot = (unsigned)(s - ush.sessions);
	job->gen = s->reply.gen;
}

/* Lock held: what @r means (see the top of the file). */
static enum ush_act ush_decide(const struct ush_req *r, struct ush_chunk **freed,
			       struct ush_job **job, unsigned *why)
{
	struct ush_session *s;

	bool again;

	ush_reap_locked(r->now_ns, freed);
	s = ush_find(r);
	*why = ush_counter_check(s, r, &again);
	if (*why)
		return USH_ACT_DROP;
	if (r->auth && !again)
		ush_seen_add(r); /* even if refused below: it must not run elsewhere later */
	if (!s && !(s = ush_new(r)))
		return USH_ACT_FULL;
	ush_note_request(s, r);
	if (s->reply.valid && s->reply.seq == r->seq) {
		s->resend = true;
		return USH_ACT_RESEND;
	}
	if (s->job)
		return USH_ACT_BUSY;
	*job = ush_job_claim();
	if (!*job)
		return USH_ACT_ALL_BUSY;
	ush_reply_begin(s, r, *job, freed);
	return USH_ACT_START;
}

/* Fill the claimed @job from @r and hand it to the runner; "busy" if that fails. */
static void ush_launch(struct ush_job *job, const struct ush_req *r, const struct ush_ops *ops)
{
	u32 n = MIN(r->len, (u32)USH_LINE_MAX); /* one over the shell's limit: it says so */
	struct ush_session *s;

	job->seq = r->seq;
	job->counter = r->counter;
	job->addr = r->addr;
	job->port = r->port;
	job->auth = r->auth;
	job->key = r->key;
	memcpy(job->line, r->line, n);
	job->line[n] = '\0';
	job->chunk = job->fill = 0;
	job->unkept = job->cut = false;
	USH_COUNT(requests);
	if (ops->start(job) == 0)
		return;
	spin_lock(&ush.lock);
	s = &ush.sessions[job->slot];
	if (s->job == job && s->reply.gen == job->gen) {
		s->job = NULL;
		s->reply.valid = false; /* never ran: the same seq may run later */
	}
	job->in_use = false;
	spin_unlock(&ush.lock);
	USH_COUNT(busy);
	ush_say(r, "udpshell: busy: cannot start the command now; try again\n");
}

void ush_session_request(const struct ush_req *r)
{
	struct ush_chunk *freed = NULL;
	struct ush_job *job = NULL;
	const struct ush_ops *ops;
	enum ush_act act = USH_ACT_NONE;
	unsigned why = 0;

	spin_lock(&ush.lock);
	ops = ush.ops;
	if (ush.state == USH_ON)
		act = ush_decide(r, &freed, &job, &why);
	spin_unlock(&ush.lock);
	ush_chunks_free(freed);
	switch (act) {
	case USH_ACT_DROP:
		ush_auth_fail(&r->addr, r->port, why, r->now_ns);
		break;
	case USH_ACT_START:
		ush_launch(job, r, ops);
		break;
	case USH_ACT_RESEND:
		USH_COUNT(retransmissions);
		ops->kick();
		break;
	case USH_ACT_BUSY:
		USH_COUNT(busy);
		ush_say(r, "udpshell: busy: this session's command is still running\n");
		break;
	case USH_ACT_ALL_BUSY:
		USH_COUNT(busy);
		ush_say(r, "udpshell: busy: the server runs as many commands as it can; try again\n");
		break;
	case USH_ACT_FULL:
		USH_COUNT(refused);
		ush_say(r, "udpshell: too many clients (every session is in use); try again later\n");
		break;
	default:
		break;
	}
}

void ush_say(const struct ush_req *r, const char *text)
{
	struct ush_hdr h = { .seq = r->seq, .flags = USH_F_REPLY | USH_F_LAST,
			     .len = (u16)strlen(text) };
	u8 pkt[USH_PKT_MAX];
	size_t n = ush_build(pkt, &h, text, r->auth ? &r->key : NULL, r->counter);

	if (n)
		ush_send(pkt, n, &r->addr, r->port, false);
}

/* ------------------------------------------------------------ resending */

/* Where one resent datagram goes, and what it is. */
struct ush_resend {
	struct ip_addr addr;
	u16 port;
	bool note;                  /* the chunk was not kept: send a note */
	struct ush_hdr h;           /* for a note */
	bool seal;
	struct ush_key key;
	u64 counter;
};

/* Lock held: the note that stands for chunk @idx of @rp, which was not kept. */
static void ush_resend_note(const struct ush_reply *rp, u32 idx, struct ush_resend *out)
{
	out->note = true;
	out->h.seq = rp->seq;
	out->h.chunk = (u16)idx;
	out->h.flags = USH_F_REPLY;
	if (rp->done && idx + 1 == rp->nchunks)
		out->h.flags |= USH_F_LAST;
	out->seal = rp->auth && ush.keyed;
	if (out->seal)
		out->key = ush.key;
	out->counter = rp->counter;
}

/*
 * Lock held: chunk @idx of session @s's reply @gen into @pkt (a kept one,
 * copied, advancing *@cur) or a note's description into @out.  False when
 * there is nothing more to send.
 */
static bool ush_resend_next(struct ush_session *s, u32 gen, u32 idx,
			    const struct ush_chunk **cur, u8 *pkt, size_t *n,
			    struct ush_resend *out)
{
	const struct ush_reply *rp = &s->reply;

	if (ush.state != USH_ON || !s->used || rp->gen != gen || idx >= rp->nchunks)
		return false;
	out->addr = s->addr;
	out->port = s->port;
	out->note = false;
	if (idx >= rp->nkept) {
		ush_resend_note(rp, idx, out);
		return true;
	}
	*cur = *cur ? (*cur)->next : rp->head;
	memcpy(pkt, (*cur)->pkt, (*cur)->len);
	*n = (*cur)->len;
	return true;
}

static size_t ush_note_build(u8 *pkt, struct ush_resend *rs)
{
	char text[96];
	int len = snprintf(text, sizeof(text),
			   "\nudpshell: chunk %u of this reply was not kept; it cannot be sent again\n",
			   rs->h.chunk);

	rs->h.len = (u16)MIN(len, (int)sizeof(text) - 1);
	return ush_build(pkt, &rs->h, text, rs->seal ? &rs->key : NULL, rs->counter);
}

/* Send again what session @slot's reply @gen has, chunk by chunk. */
static void ush_resend_session(unsigned slot, u32 gen)
{
	const struct ush_chunk *cur = NULL;
	struct ush_resend rs;
	u8 pkt[USH_PKT_MAX];
	size_t n = 0;
	bool more;

	for (u32 idx = 0;; idx++) {
		spin_lock(&ush.lock);
		more = ush_resend_next(&ush.sessions[slot], gen, idx, &cur, pkt, &n, &rs);
		spin_unlock(&ush.lock);
		if (!more)
			break;
		if (rs.note) {
			n = ush_note_build(pkt, &rs);
			crypto_memzero(&rs.key, sizeof(rs.key));
			USH_COUNT(notes);
		}
		ush_send(pkt, n, &rs.addr, rs.port, true);
		USH_COUNT(resent);
	}
}

void ush_resend_work(void)
{
	for (unsigned i = 0; i < USH_SESSIONS; i++) {
		struct ush_session *s = &ush.sessions[i];
		bool take;
		u32 gen;

		spin_lock(&ush.lock);
		take = s->used && s->resend;
		s->resend = false;
		gen = s->reply.gen;
		spin_unlock(&ush.lock);
		if (take)
			ush_resend_session(i, gen);
	}
}
