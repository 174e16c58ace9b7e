/*
 * types.h — the fixed-width integer types every layer uses.
 *
 * The kernel is freestanding: it includes no libc header except the ones the
 * C standard guarantees to a freestanding implementation (stddef, stdint,
 * stdbool, stdarg).  The same headers exist on the host, so lib/ and the
 * other pure-logic sources compile unchanged for the unit tests.
 */
#ifndef NOS_TYPES_H
#define NOS_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

typedef u64 phys_addr_t;

#endif
