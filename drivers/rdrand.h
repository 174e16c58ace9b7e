/*
 * rdrand.h — register RDSEED/RDRAND as entropy sources when the CPU has them.
 */
#ifndef NOS_RDRAND_H
#define NOS_RDRAND_H

void rdrand_init(void);

#endif
