/*
 * serial.h — the COM1 16550 UART at 115200 8N1.
 */
#ifndef NOS_SERIAL_H
#define NOS_SERIAL_H

#include "types.h"

void serial_init(void);
/* Write bytes, turning '\n' into CR LF; waits for the transmitter. */
void serial_write(const char *buf, size_t len);
/* Next received byte, or -1 when none is waiting. */
int serial_trygetc(void);
bool serial_present(void);
/* Switch input to the IRQ 4 handler.  0, or -errno (input stays polled). */
int serial_enable_irq(void);

#endif
