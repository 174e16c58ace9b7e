/*
 * pic.h — the legacy 8259 pair, moved out of the way and silenced.
 */
#ifndef NOS_PIC_H
#define NOS_PIC_H

/* Remap IRQ 0-15 to vectors 0x20-0x2F and mask every line. */
void pic_disable(void);

#endif
