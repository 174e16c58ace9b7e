/*
 * virtio_blk.c — virtio block devices (virtio 1.x, section 5.2) as blkdevs.
 *
 * One request queue.  A request is a chain of three descriptors: the
 * 16-byte header (type, reserved, sector) the device reads, the data, and
 * one status byte the device writes (a flush has no data).  Headers and
 * status bytes live in an array of commands allocated once, so they are
 * always DMA-able; a request takes a free command, which also bounds the
 * requests in flight to what the ring can hold.
 *
 * The header's sector is always in 512-byte units, whatever the device's
 * logical block size (VIRTIO_BLK_F_BLK_SIZE); so is the capacity.
 *
 * vq_lock protects the ring and the command free list; it is taken by
 * submission (task or SoftIrq, under the disk's queue lock) and by the
 * interrupt handler, so always with interrupts off.  Completions are
 * handed to the block layer after it is dropped.
 *
 * Probe: the command page first, then the transport and the queue; a
 * failure until the interrupts are set up undoes all of it (device reset
 * first), one after them resets the device and keeps the memory, which
 * the interrupt handler still points at (virtio_pci.h).
 */
#include "block/blkdev_driver.h"
#include "drivers/virtio/virtio_pci.h"
#include "errno.h"
#include "kernel/printk.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"

#define F_SIZE_MAX (1ULL << 1)
#define F_SEG_MAX (1ULL << 2)
#define F_RO (1ULL << 5)
#define F_BLK_SIZE (1ULL << 6)
#define F_FLUSH (1ULL << 9)

#define CFG_CAPACITY 0
#define CFG_BLK_SIZE 20

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4

#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

#define QUEUE_MAX 256
#define CMDS_PER_PAGE (4096 / sizeof(struct vblk_cmd))

struct vblk_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

struct vblk_cmd {
	struct vblk_hdr hdr;         /* device-readable */
	u8 status;                   /* device-writable */
	struct blk_req *req;
	struct vblk_cmd *next_free;
};

struct vblk {
	struct virtio_pci vp;
	struct blkdev disk;
	spinlock_t vq_lock;          /* q, free_cmds */
	struct virtq q;              /* [vq_lock] */
	struct vblk_cmd *cmds;       /* [I] one page */
	struct vblk_cmd *free_cmds;  /* [vq_lock] */
	u32 units_per_sector;        /* [I] 512-byte units per logical block */
};

static struct vblk_cmd *cmd_get(struct vblk *b)
{
	struct vblk_cmd *c = b->free_cmds;

	if (c)
		b->free_cmds = c->next_free;
	return c;
}

static void cmd_put(struct vblk *b, struct vblk_cmd *c)
{
	c->next_free = b->free_cmds;
	b->free_cmds = c;
}

static int add_chain(struct vblk *b, struct vblk_cmd *c, struct blk_req *req)
{
	struct virtq_sg sg[3];
	unsigned n = 0, nout;

	sg[n++] = (struct virtq_sg){ virt_to_phys(&c->hdr), sizeof(c->hdr) };
	if (req->op != BLK_FLUSH)
		sg[n++] = (struct virtq_sg){ req->dma, req->count * b->disk.sector_size };
	nout = req->op == BLK_READ ? 1 : n;
	sg[n++] = (struct virtq_sg){ virt_to_phys(&c->status), 1 };
	return virtq_add(&b->q, sg, nout, n - nout, c);
}

static int vblk_submit(struct blkdev *disk, struct blk_req *req)
{
	struct vblk *b = disk->priv;
	struct vblk_cmd *c;
	int rc = -EAGAIN;
	u64 flags;

	if (req->op == BLK_FLUSH && !(b->vp.features & F_FLUSH))
		return -EOPNOTSUPP;
	flags = spin_lock_irqsave(&b->vq_lock);
	c = cmd_get(b);
	if (c) {
		c->hdr = (struct vblk_hdr){
			.type = req->op == BLK_READ ? T_IN : req->op == BLK_WRITE ? T_OUT : T_FLUSH,
			.sector = req->op == BLK_FLUSH ? 0 : req->lba * b->units_per_sector,
		};
		c->status = 0xFF;
		c->req = req;
		rc = add_chain(b, c, req);
		if (rc) {
			cmd_put(b, c);
			rc = -EAGAIN;
		}
	}
	spin_unlock_irqrestore(&b->vq_lock, flags);
	return rc;
}

/* One notification for everything submit() queued. */
static void vblk_commit(struct blkdev *disk)
{
	struct vblk *b = disk->priv;
	u64 flags = spin_lock_irqsave(&b->vq_lock);

	virtio_pci_kick(&b->vp, &b->q);
	spin_unlock_irqrestore(&b->vq_lock, flags);
}

static int status_errno(u8 status)
{
	return status == S_OK ? 0 : status == S_UNSUPP ? -EOPNOTSUPP : -EIO;
}

/* Take every finished command off the ring; complete them after unlocking. */
static void vblk_collect(struct vblk *b)
{
	struct blk_req *done[32];
	int status[32];
	unsigned n;

	do {
		u64 flags = spin_lock_irqsave(&b->vq_lock);
		struct vblk_cmd *c;

		for (n = 0; n < ARRAY_SIZE(done) && (c = virtq_get_used(&b->q, NULL)); n++) {
			done[n] = c->req;
			status[n] = status_errno(c->status);
			cmd_put(b, c);
		}
		spin_unlock_irqrestore(&b->vq_lock, flags);
		for (unsigned i = 0; i < n; i++)
			blk_complete(done[i], status[i]);
	} while (n == ARRAY_SIZE(done));
}

static void vblk_poll(struct blkdev *disk)
{
	vblk_collect(disk->priv);
}

static void vblk_on_queue(void *ctx, struct virtq *q)
{
	struct vblk *b = ctx;

	(void)q;
	__atomic_add_fetch(&b->disk.interrupts, 1, __ATOMIC_RELAXED);
	vblk_collect(b);
}

static const struct blkdev_ops vblk_ops = {
	.submit = vblk_submit,
	.commit = vblk_commit,
	.poll = vblk_poll,
};

static void read_geometry(struct vblk *b)
{
	u64 capacity;
	u32 blk_size = 512;

	virtio_pci_config(&b->vp, CFG_CAPACITY, &capacity, sizeof(capacity));
	if (b->vp.features & F_BLK_SIZE)
		virtio_pci_config(&b->vp, CFG_BLK_SIZE, &blk_size, sizeof(blk_size));
	if (blk_size < 512 || blk_size > 4096 || (blk_size & (blk_size - 1)))
		blk_size = 512; /* nonsense from the device: use the default */
	b->units_per_sector = blk_size / 512;
	b->disk.sector_size = blk_size;
	b->disk.sectors = capacity / b->units_per_sector;
	b->disk.read_only = (b->vp.features & F_RO) != 0;
}

/*
 * As many commands as the ring holds chains of three (one page of them at
 * most); -ENOSPC for a ring too small for even one.
 */
static int fill_cmds(struct vblk *b)
{
	unsigned n = MIN((unsigned)CMDS_PER_PAGE, b->q.size / 3u);

	for (unsigned i = 0; i < n; i++)
		cmd_put(b, &b->cmds[i]);
	return n ? 0 : -ENOSPC;
}

static void describe(struct vblk *b, enum virtio_irq_mode mode)
{
	struct pci_dev *d = b->vp.pdev;

	snprintf(b->disk.model, sizeof(b->disk.model), "virtio-blk %02x:%02x.%u %s %s", d->bus,
		 d->dev, d->fn, b->vp.modern ? "modern" : "legacy", virtio_irq_mode_name(mode));
	b->disk.polled = mode == VIRTIO_IRQ_POLL;
}

static int vblk_probe(struct pci_dev *pdev)
{
	struct vblk *b = kzalloc(sizeof(*b));
	struct virtq *qs[1];
	int rc;

	if (!b)
		return -ENOMEM;
	spin_lock_init(&b->vq_lock, "virtio-blk");
	b->cmds = page_zalloc(1);
	if (!b->cmds) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = virtio_pci_setup(&b->vp, pdev, F_RO | F_BLK_SIZE | F_FLUSH);
	if (rc)
		goto out_teardown;
	rc = virtio_pci_queue(&b->vp, &b->q, 0, QUEUE_MAX);
	if (rc)
		goto out_teardown;
	rc = fill_cmds(b);
	if (rc)
		goto out_teardown;
	read_geometry(b);
	qs[0] = &b->q;
	describe(b, virtio_pci_irq(&b->vp, qs, 1, vblk_on_queue, b, "virtio-blk"));
	b->disk.ops = &vblk_ops;
	b->disk.priv = b;
	pdev->driver_data = &b->vp; /* for virtio_pci_shutdown */
	virtio_pci_ready(&b->vp);
	rc = blkdev_register(&b->disk, "vd");
	if (rc)
		goto out_give_up;
	return 0;

out_give_up:
	virtio_pci_give_up(&b->vp);
	return rc; /* @b stays: the interrupt handler points at it */
out_teardown:
	virtio_pci_teardown(&b->vp);
	page_free(b->cmds, 1);
out_free:
	kfree(b);
	return rc;
}

VIRTIO_PCI_DRIVER(virtio_blk_driver, "virtio-blk", VIRTIO_ID_BLOCK, vblk_probe);
