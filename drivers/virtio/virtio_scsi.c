/*
 * virtio_scsi.c — virtio SCSI host adapters (virtio 1.x, section 5.6):
 * each disk LUN behind the adapter becomes a blkdev (sda, sdb, ...).
 *
 * Every command travels on request queue 2 (0 and 1 are the control and
 * event queues, which nos does not use) as one chain: the request header
 * with the LUN address and a 32-byte CDB, data out, then the response
 * (status, sense) and data in.  Headers live in an array of commands
 * allocated once, so they are always DMA-able.
 *
 * The scan, at probe: for each target up to SCAN_TARGETS, REPORT LUNS (or,
 * if the target refuses it, LUNs 0-7 one by one); for each LUN an INQUIRY
 * (only direct-access disks are kept), TEST UNIT READY until the power-on
 * unit attention is consumed, READ CAPACITY (10, then 16 when the disk is
 * too big for it), and MODE SENSE (6, or 10 when 6 is refused) for the
 * write-protect bit: a write-protected LUN is registered read-only, like a
 * virtio-blk disk without write access (a LUN that answers neither is
 * taken as writable, as Linux does).  Scan commands are synchronous and
 * use the adapter's own page for data, and their parsers are handed only
 * the bytes the device says it sent; block requests come from the block
 * layer.
 *
 * Errors: a transport failure (response other than OK) is -EIO; a CHECK
 * CONDITION is decoded from its sense data into an errno and logged.
 *
 * vq_lock protects the ring and the command free list (task, SoftIrq and
 * IRQ context, so always with interrupts off); completions are handed on
 * after it is dropped.
 *
 * Probe: the command and scan pages first, then the transport, the queue
 * and the configuration check; a failure until the interrupts are set up
 * undoes all of it (device reset first).  Nothing fails after them: a LUN
 * that cannot be registered is only reported.
 */
#include "block/blkdev_driver.h"
#include "drivers/scsi.h"
#include "drivers/virtio/virtio_pci.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"

#define REQUEST_QUEUE 2
#define QUEUE_MAX 256
#define CDB_SIZE 32
#define SENSE_SIZE 96
#define CMD_PAGES 2
#define SCAN_TARGETS 16
#define SCAN_LUNS 8
#define MAX_LUNS 16
#define SCAN_TIMEOUT_NS 5000000000ULL
#define TUR_TRIES 4
#define MODE_SENSE_LEN 192      /* the header and then some, as Linux asks */

/* Device configuration offsets. */
#define CFG_NUM_QUEUES 0
#define CFG_SENSE_SIZE 20
#define CFG_CDB_SIZE 24
#define CFG_MAX_TARGET 30

#define RESP_OK 0
#define RESP_BAD_TARGET 3

struct __packed vscsi_req {
	u8 lun[8];
	u64 id;
	u8 task_attr, prio, crn;
	u8 cdb[CDB_SIZE];
};

struct __packed vscsi_resp {
	u32 sense_len;
	u32 residual;
	u16 status_qualifier;
	u8 status;
	u8 response;
	u8 sense[SENSE_SIZE];
};

struct vscsi;

struct vscsi_lun {
	struct blkdev disk;
	struct vscsi *host;
	u8 target;
	u16 lun;
};

struct vscsi_cmd {
	struct vscsi_req req;          /* device-readable */
	struct vscsi_resp resp;        /* device-writable */
	struct blk_req *breq;          /* a block request, or NULL for a scan command */
	struct waitgroup *wg;          /* a scan command's waiter */
	struct vscsi_lun *lun;
	struct vscsi_cmd *next_free;
};

struct vscsi {
	struct virtio_pci vp;
	spinlock_t vq_lock;            /* q, free_cmds */
	struct virtq q;                /* [vq_lock] */
	struct vscsi_cmd *cmds;        /* [I] CMD_PAGES pages */
	struct vscsi_cmd *free_cmds;   /* [vq_lock] */
	u8 *scan_buf;                  /* [I] one page for scan data */
	u32 scan_got;                  /* bytes the last scan command received */
	struct vscsi_lun *luns[MAX_LUNS];
	unsigned nluns;
	struct waitgroup scan_wg;      /* the scan command in flight */
	bool dead;                     /* a scan command timed out: scan no more */
};

/* Single-level LUN structure: 1, target, flat-addressed LUN, zeros. */
static void lun_address(u8 out[8], u8 target, u16 lun)
{
	memset(out, 0, 8);
	out[0] = 1;
	out[1] = target;
	out[2] = (u8)(0x40 | (lun >> 8));
	out[3] = (u8)lun;
}

static struct vscsi_cmd *cmd_get(struct vscsi *h)
{
	struct vscsi_cmd *c = h->free_cmds;

	if (c)
		h->free_cmds = c->next_free;
	return c;
}

static void cmd_put(struct vscsi *h, struct vscsi_cmd *c)
{
	c->next_free = h->free_cmds;
	h->free_cmds = c;
}

/*
 * Queue @c with @len bytes of data at bus address @dma in direction
 * @write; tell the device at once when @notify (else commit does).
 */
static int cmd_add(struct vscsi *h, struct vscsi_cmd *c, u64 dma, u32 len, bool write,
		   bool notify)
{
	struct virtq_sg sg[3];
	unsigned n = 0, nout;

	sg[n++] = (struct virtq_sg){ virt_to_phys(&c->req), sizeof(c->req) };
	if (len && write)
		sg[n++] = (struct virtq_sg){ dma, len };
	nout = n;
	sg[n++] = (struct virtq_sg){ virt_to_phys(&c->resp), sizeof(c->resp) };
	if (len && !write)
		sg[n++] = (struct virtq_sg){ dma, len };
	c->resp.response = 0xFF;
	c->resp.status = 0xFF;
	if (virtq_add(&h->q, sg, nout, n - nout, c))
		return -EAGAIN;
	if (notify)
		virtio_pci_kick(&h->vp, &h->q);
	return 0;
}

/* The errno for a finished command; CHECK CONDITIONs are logged. */
static int cmd_result(struct vscsi_cmd *c)
{
	struct scsi_sense sense;

	if (c->resp.response != RESP_OK)
		return c->resp.response == RESP_BAD_TARGET ? -ENODEV : -EIO;
	if (c->resp.status == SCSI_STATUS_GOOD)
		return 0;
	if (c->resp.status != SCSI_STATUS_CHECK_CONDITION)
		return -EIO;
	scsi_sense_decode(c->resp.sense, MIN(c->resp.sense_len, (u32)SENSE_SIZE), &sense);
	if (c->breq)
		pr_warn("%s: cdb %02x: %s, asc %02x ascq %02x", c->lun->disk.name, c->req.cdb[0],
			scsi_sense_key_str(sense.key), sense.asc, sense.ascq);
	return scsi_sense_errno(&sense);
}

/* Take finished commands off the ring; complete them after unlocking. */
static void vscsi_collect(struct vscsi *h)
{
	struct vscsi_cmd *done[32];
	unsigned n;

	do {
		u64 flags = spin_lock_irqsave(&h->vq_lock);
		struct vscsi_cmd *c;

		for (n = 0; n < ARRAY_SIZE(done) && (c = virtq_get_used(&h->q, NULL)); n++)
			done[n] = c;
		spin_unlock_irqrestore(&h->vq_lock, flags);
		for (unsigned i = 0; i < n; i++) {
			struct vscsi_cmd *c = done[i];
			struct blk_req *breq = c->breq;
			struct waitgroup *wg = c->wg;
			int rc = cmd_result(c);

			if (breq) {
				flags = spin_lock_irqsave(&h->vq_lock);
				cmd_put(h, c);
				spin_unlock_irqrestore(&h->vq_lock, flags);
				blk_complete(breq, rc == -EAGAIN ? -EIO : rc);
			} else if (wg) {
				waitgroup_done(wg); /* the scanner reads the result, then frees */
			}
		}
	} while (n == ARRAY_SIZE(done));
}

/* ------------------------------------------------------- block requests */

static int vscsi_submit(struct blkdev *disk, struct blk_req *req)
{
	struct vscsi_lun *l = disk->priv;
	struct vscsi *h = l->host;
	struct vscsi_cmd *c;
	int rc = -EAGAIN;
	u64 flags = spin_lock_irqsave(&h->vq_lock);

	c = cmd_get(h);
	if (c) {
		memset(&c->req, 0, sizeof(c->req));
		lun_address(c->req.lun, l->target, l->lun);
		c->req.id = (u64)(uintptr_t)c;
		if (req->op == BLK_FLUSH)
			scsi_cdb_sync_cache(c->req.cdb);
		else
			scsi_cdb_rw(c->req.cdb, req->op == BLK_WRITE, req->lba, req->count);
		c->breq = req;
		c->wg = NULL;
		c->lun = l;
		rc = cmd_add(h, c, req->dma, req->count * disk->sector_size, req->op == BLK_WRITE,
			     false);
		if (rc)
			cmd_put(h, c);
	}
	spin_unlock_irqrestore(&h->vq_lock, flags);
	return rc;
}

/* One notification for everything submit() queued. */
static void vscsi_commit(struct blkdev *disk)
{
	struct vscsi *h = ((struct vscsi_lun *)disk->priv)->host;
	u64 flags = spin_lock_irqsave(&h->vq_lock);

	virtio_pci_kick(&h->vp, &h->q);
	spin_unlock_irqrestore(&h->vq_lock, flags);
}

static void vscsi_poll(struct blkdev *disk)
{
	vscsi_collect(((struct vscsi_lun *)disk->priv)->host);
}

static void vscsi_on_queue(void *ctx, struct virtq *q)
{
	struct vscsi *h = ctx;

	(void)q;
	for (unsigned i = 0; i < h->nluns; i++)
		__atomic_add_fetch(&h->luns[i]->disk.interrupts, 1, __ATOMIC_RELAXED);
	vscsi_collect(h);
}

static const struct blkdev_ops vscsi_ops = {
	.submit = vscsi_submit,
	.commit = vscsi_commit,
	.poll = vscsi_poll,
};

/* ---------------------------------------------------------------- scan */

/* Wait for a scan command: by interrupt, or polling a polled adapter. */
static int scan_wait(struct vscsi *h, struct waitgroup *wg)
{
	u64 deadline = time_ns() + SCAN_TIMEOUT_NS;

	if (h->vp.irq_mode != VIRTIO_IRQ_POLL)
		return waitgroup_wait(wg, SCAN_TIMEOUT_NS);
	while (waitgroup_count(wg)) {
		vscsi_collect(h);
		if (time_ns() > deadline)
			return -ETIMEDOUT;
		sched_sleep_ns(50000);
	}
	return 0;
}

/*
 * Run one scan command for @target/@lun with @len bytes of data in
 * h->scan_buf.  Returns its errno; a command the device never finishes
 * marks the adapter dead (the command and buffer stay its own).
 */
static int scan_cmd(struct vscsi *h, u8 target, u16 lun, const u8 *cdb, unsigned cdb_len,
		    u32 len)
{
	struct waitgroup *wg = &h->scan_wg; /* not on the stack: a late answer may still come */
	struct vscsi_cmd *c;
	u64 flags;
	int rc;

	if (h->dead)
		return -EIO;
	waitgroup_init(wg);
	waitgroup_add(wg, 1);
	flags = spin_lock_irqsave(&h->vq_lock);
	c = cmd_get(h);
	if (c) {
		memset(&c->req, 0, sizeof(c->req));
		lun_address(c->req.lun, target, lun);
		c->req.id = (u64)(uintptr_t)c;
		memcpy(c->req.cdb, cdb, cdb_len);
		c->breq = NULL;
		c->wg = wg;
		memset(h->scan_buf, 0, len);
		if (cmd_add(h, c, virt_to_phys(h->scan_buf), len, false, true)) {
			cmd_put(h, c);
			c = NULL;
		}
	}
	spin_unlock_irqrestore(&h->vq_lock, flags);
	if (!c)
		return -EAGAIN;
	if (scan_wait(h, wg)) {
		h->dead = true;
		pr_err("virtio-scsi: target %u lun %u does not answer; giving up the scan", target,
		       lun);
		return -ETIMEDOUT;
	}
	rc = cmd_result(c);
	h->scan_got = len - MIN(c->resp.residual, len); /* what the device says it sent */
	flags = spin_lock_irqsave(&h->vq_lock);
	cmd_put(h, c);
	spin_unlock_irqrestore(&h->vq_lock, flags);
	return rc;
}

static int scan_inquiry(struct vscsi *h, u8 target, u16 lun, struct scsi_inquiry *inq)
{
	u8 cdb[SCSI_CDB_MAX];
	unsigned n = scsi_cdb_inquiry(cdb, 96);
	int rc = scan_cmd(h, target, lun, cdb, n, 96);

	return rc ? rc : scsi_parse_inquiry(h->scan_buf, h->scan_got, inq);
}

/* TEST UNIT READY until the power-on unit attention has been reported. */
static int scan_ready(struct vscsi *h, u8 target, u16 lun)
{
	u8 cdb[SCSI_CDB_MAX];
	unsigned n = scsi_cdb_test_unit_ready(cdb);
	int rc = -EAGAIN;

	for (unsigned i = 0; i < TUR_TRIES && rc == -EAGAIN; i++)
		rc = scan_cmd(h, target, lun, cdb, n, 0);
	return rc;
}

static int scan_capacity(struct vscsi *h, u8 target, u16 lun, u64 *blocks, u32 *bsize)
{
	u8 cdb[SCSI_CDB_MAX];
	bool need16 = false;
	int rc = scan_cmd(h, target, lun, cdb, scsi_cdb_read_capacity10(cdb), 8);

	if (!rc)
		rc = scsi_parse_read_capacity10(h->scan_buf, h->scan_got, blocks, bsize, &need16);
	if (!rc && !need16)
		return 0;
	rc = scan_cmd(h, target, lun, cdb, scsi_cdb_read_capacity16(cdb, 32), 32);
	return rc ? rc : scsi_parse_read_capacity16(h->scan_buf, h->scan_got, blocks, bsize);
}

/* The WP bit from MODE SENSE (6), else (10); false when neither gives it. */
static bool scan_write_protected(struct vscsi *h, u8 target, u16 lun)
{
	u8 cdb[SCSI_CDB_MAX];
	bool wp = false;
	unsigned n = scsi_cdb_mode_sense6(cdb, SCSI_MODE_PAGE_ALL, MODE_SENSE_LEN);
	int rc = scan_cmd(h, target, lun, cdb, n, MODE_SENSE_LEN);

	if (!rc && !scsi_parse_mode_sense6(h->scan_buf, h->scan_got, &wp))
		return wp;
	n = scsi_cdb_mode_sense10(cdb, SCSI_MODE_PAGE_ALL, MODE_SENSE_LEN);
	rc = scan_cmd(h, target, lun, cdb, n, MODE_SENSE_LEN);
	if (!rc && !scsi_parse_mode_sense10(h->scan_buf, h->scan_got, &wp))
		return wp;
	pr_warn("virtio-scsi: target %u lun %u: no write-protect bit from MODE SENSE (%s); "
		"taken as writable", target, lun, rc ? errno_name(rc) : "short reply");
	return false;
}

static void add_lun(struct vscsi *h, u8 target, u16 lun, const struct scsi_inquiry *inq,
		    u64 blocks, u32 bsize, bool read_only)
{
	struct vscsi_lun *l = kzalloc(sizeof(*l));
	struct pci_dev *d = h->vp.pdev;

	if (!l || h->nluns == MAX_LUNS) {
		kfree(l);
		pr_warn("virtio-scsi: no room for target %u lun %u", target, lun);
		return;
	}
	l->host = h;
	l->target = target;
	l->lun = lun;
	snprintf(l->disk.model, sizeof(l->disk.model), "virtio-scsi %02x:%02x.%u %u:%u %s %s",
		 d->bus, d->dev, d->fn, target, lun, inq->vendor, inq->product);
	l->disk.sector_size = bsize;
	l->disk.sectors = blocks;
	l->disk.read_only = read_only;
	l->disk.polled = h->vp.irq_mode == VIRTIO_IRQ_POLL;
	l->disk.ops = &vscsi_ops;
	l->disk.priv = l;
	h->luns[h->nluns++] = l;
	if (blkdev_register(&l->disk, "sd"))
		pr_warn("virtio-scsi: target %u lun %u not registered", target, lun);
}

static void scan_lun(struct vscsi *h, u8 target, u16 lun)
{
	struct scsi_inquiry inq;
	u64 blocks;
	u32 bsize;
	int rc = scan_inquiry(h, target, lun, &inq);

	if (rc || inq.qualifier != 0 || inq.peripheral_type != SCSI_TYPE_DISK)
		return; /* nothing there, or not a disk */
	rc = scan_ready(h, target, lun);
	if (!rc)
		rc = scan_capacity(h, target, lun, &blocks, &bsize);
	if (rc || bsize > 4096) {
		pr_warn("virtio-scsi: target %u lun %u (%s %s) unusable: %s", target, lun,
			inq.vendor, inq.product, rc ? errno_name(rc) : "block size over 4096");
		return;
	}
	add_lun(h, target, lun, &inq, blocks, bsize, scan_write_protected(h, target, lun));
}

/* The LUNs of @target: REPORT LUNS, or 0..SCAN_LUNS-1 when it is refused. */
static unsigned target_luns(struct vscsi *h, u8 target, u16 *luns)
{
	u8 cdb[SCSI_CDB_MAX];
	u32 len = 8 + 8 * MAX_LUNS;
	int rc = scan_cmd(h, target, 0, cdb, scsi_cdb_report_luns(cdb, len), len);

	if (rc == -ENODEV)
		return 0; /* no such target */
	if (!rc && (rc = scsi_parse_report_luns(h->scan_buf, len, luns, MAX_LUNS)) >= 0)
		return (unsigned)rc;
	for (unsigned i = 0; i < SCAN_LUNS; i++)
		luns[i] = (u16)i;
	return SCAN_LUNS;
}

static void scan(struct vscsi *h, u16 max_target)
{
	u16 luns[MAX_LUNS];

	for (unsigned t = 0; t <= max_target && t < SCAN_TARGETS && !h->dead; t++) {
		unsigned n = target_luns(h, (u8)t, luns);

		for (unsigned i = 0; i < n && !h->dead; i++)
			scan_lun(h, (u8)t, luns[i]);
	}
}

/* -------------------------------------------------------------- probe */

static int check_config(struct vscsi *h, u16 *max_target)
{
	u32 cdb_size, sense_size;

	virtio_pci_config(&h->vp, CFG_CDB_SIZE, &cdb_size, 4);
	virtio_pci_config(&h->vp, CFG_SENSE_SIZE, &sense_size, 4);
	virtio_pci_config(&h->vp, CFG_MAX_TARGET, max_target, 2);
	if (cdb_size != CDB_SIZE || sense_size != SENSE_SIZE) {
		pr_err("virtio-scsi: cdb size %u, sense size %u: only %u/%u are supported", cdb_size,
		       sense_size, CDB_SIZE, SENSE_SIZE);
		return -ENODEV;
	}
	return 0;
}

/*
 * The commands on the free list: as many as the command pages hold, a
 * quarter of the ring at most (a command takes up to 4 descriptors);
 * -ENOSPC for a ring too small for even one.
 */
static int fill_cmds(struct vscsi *h)
{
	unsigned ncmds = MIN((unsigned)(CMD_PAGES * 4096 / sizeof(struct vscsi_cmd)),
			     h->q.size / 4u);

	for (unsigned i = 0; i < ncmds; i++)
		cmd_put(h, &h->cmds[i]);
	return ncmds ? 0 : -ENOSPC;
}

static int vscsi_probe(struct pci_dev *pdev)
{
	struct vscsi *h = kzalloc(sizeof(*h));
	struct virtq *qs[1];
	u16 max_target = 0;
	int rc = -ENOMEM;

	if (!h)
		return -ENOMEM;
	spin_lock_init(&h->vq_lock, "virtio-scsi");
	h->cmds = page_zalloc(CMD_PAGES);
	if (!h->cmds)
		goto out_free;
	h->scan_buf = page_zalloc(1);
	if (!h->scan_buf)
		goto out_free_cmds;
	rc = virtio_pci_setup(&h->vp, pdev, 0);
	if (rc)
		goto out_teardown;
	rc = virtio_pci_queue(&h->vp, &h->q, REQUEST_QUEUE, QUEUE_MAX);
	if (rc)
		goto out_teardown;
	rc = check_config(h, &max_target);
	if (rc)
		goto out_teardown;
	rc = fill_cmds(h);
	if (rc)
		goto out_teardown;
	qs[0] = &h->q;
	virtio_pci_irq(&h->vp, qs, 1, vscsi_on_queue, h, "virtio-scsi");
	pdev->driver_data = &h->vp; /* for virtio_pci_shutdown */
	virtio_pci_ready(&h->vp);
	pr_info("virtio-scsi: %s transport, %s, queue of %u, targets 0-%u", h->vp.modern ? "modern" :
		"legacy", virtio_irq_mode_name(h->vp.irq_mode), h->q.size,
		MIN(max_target, (u16)(SCAN_TARGETS - 1)));
	scan(h, max_target);
	return 0;

out_teardown:
	virtio_pci_teardown(&h->vp);
	page_free(h->scan_buf, 1);
out_free_cmds:
	page_free(h->cmds, CMD_PAGES);
out_free:
	kfree(h);
	return rc;
}

VIRTIO_PCI_DRIVER(virtio_scsi_driver, "virtio-scsi", VIRTIO_ID_SCSI, vscsi_probe);
