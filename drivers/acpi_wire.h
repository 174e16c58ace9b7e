/*
 * acpi_wire.h — the ACPI table layouts, byte for byte, as firmware writes
 * them (ACPI 6.5 chapter 5).  Only drivers/acpi_tables.c and its tests need
 * these; everyone else uses the decoded struct acpi_info (acpi_tables.h).
 *
 * All multi-byte fields are little endian and the structures are packed:
 * tables sit at arbitrary byte addresses (QEMU's MADT starts at ...acb), so
 * every struct here has alignment 1 and a member read never assumes more.
 * A table may be shorter than its struct (an ACPI 1.0 FADT is 116 bytes of
 * the 276 declared here): the parser checks ACPI_FIELD_END(type, member)
 * against the table's length before it touches a member.
 *
 * Layouts (offsets in bytes):
 *
 *   RSDP    0 "RSD PTR "  8 checksum (bytes 0-19)  9 OEM id[6]  15 revision
 *           16 RSDT address (u32)                       -- 20 bytes, ACPI 1.0
 *           20 length  24 XSDT address (u64)  32 extended checksum (all
 *           of length)  33 reserved[3]                  -- 36 bytes, rev >= 2
 *   header  0 signature[4]  4 length  8 revision  9 checksum  10 OEM id[6]
 *           16 OEM table id[8]  24 OEM revision  28 creator id  32 creator
 *           revision  -- 36 bytes; the whole table sums to 0 mod 256
 *   RSDT    header, then u32 physical addresses;  XSDT: the same with u64
 *   MADT    header, 36 local APIC address (u32), 40 flags (bit 0 PCAT_COMPAT),
 *           44.. entries {u8 type, u8 length, ...} (structs below)
 *   FADT    header, then struct acpi_fadt's fields (see the offsets there)
 *   MCFG    header, 36 reserved[8], 44.. 16-byte allocations
 *   HPET    header, 36 event timer block id, 40 base address (GAS),
 *           52 HPET number, 53 minimum tick (u16), 55 page protection
 *   GAS     0 address space id  1 bit width  2 bit offset  3 access size
 *           4 address (u64)  -- 12 bytes
 */
#ifndef NOS_DRIVERS_ACPI_WIRE_H
#define NOS_DRIVERS_ACPI_WIRE_H

#include "compiler.h"
#include "types.h"

/* Byte offset just past @member of @type: "is this field inside the table?" */
#define ACPI_FIELD_END(type, member)                                           \
	(__builtin_offsetof(type, member) + sizeof(((type *)0)->member))

struct acpi_rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
	/* revision >= 2 only */
	u32 length;
	u64 xsdt_address;
	u8 ext_checksum;
	u8 reserved[3];
} __packed;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP is 36 bytes");
#define ACPI_RSDP_V1_LEN 20

struct acpi_sdt_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header is 36 bytes");

struct acpi_gas_wire {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __packed;
_Static_assert(sizeof(struct acpi_gas_wire) == 12, "GAS is 12 bytes");

/* ---- MADT --------------------------------------------------------------- */

struct acpi_madt {
	struct acpi_sdt_header hdr;
	u32 lapic_address;
	u32 flags;
} __packed;
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT fixed part is 44 bytes");

#define ACPI_MADT_PCAT_COMPAT 0x1

enum acpi_madt_type {
	ACPI_MADT_LAPIC = 0,
	ACPI_MADT_IOAPIC = 1,
	ACPI_MADT_ISO = 2,
	ACPI_MADT_NMI_SRC = 3,
	ACPI_MADT_LAPIC_NMI = 4,
	ACPI_MADT_LAPIC_ADDR = 5,
	ACPI_MADT_X2APIC = 9,
	ACPI_MADT_X2APIC_NMI = 10,
};

struct acpi_madt_entry {
	u8 type;
	u8 length;
} __packed;

struct acpi_madt_lapic {
	struct acpi_madt_entry e;
	u8 processor_id;
	u8 apic_id;
	u32 flags;
} __packed;
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT type 0 is 8 bytes");

struct acpi_madt_ioapic {
	struct acpi_madt_entry e;
	u8 id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __packed;
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT type 1 is 12 bytes");

struct acpi_madt_iso {
	struct acpi_madt_entry e;
	u8 bus;
	u8 source;
	u32 gsi;
	u16 flags;
} __packed;
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT type 2 is 10 bytes");

struct acpi_madt_nmi_src {
	struct acpi_madt_entry e;
	u16 flags;
	u32 gsi;
} __packed;
_Static_assert(sizeof(struct acpi_madt_nmi_src) == 8, "MADT type 3 is 8 bytes");

struct acpi_madt_lapic_nmi {
	struct acpi_madt_entry e;
	u8 processor_id;
	u16 flags;
	u8 lint;
} __packed;
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT type 4 is 6 bytes");

struct acpi_madt_lapic_addr {
	struct acpi_madt_entry e;
	u16 reserved;
	u64 address;
} __packed;
_Static_assert(sizeof(struct acpi_madt_lapic_addr) == 12, "MADT type 5 is 12 bytes");

struct acpi_madt_x2apic {
	struct acpi_madt_entry e;
	u16 reserved;
	u32 x2apic_id;
	u32 flags;
	u32 uid;
} __packed;
_Static_assert(sizeof(struct acpi_madt_x2apic) == 16, "MADT type 9 is 16 bytes");

struct acpi_madt_x2apic_nmi {
	struct acpi_madt_entry e;
	u16 flags;
	u32 uid;
	u8 lint;
	u8 reserved[3];
} __packed;
_Static_assert(sizeof(struct acpi_madt_x2apic_nmi) == 12, "MADT type 10 is 12 bytes");

/* ---- FADT --------------------------------------------------------------- */

struct acpi_fadt {
	struct acpi_sdt_header hdr;
	u32 firmware_ctrl;        /*  36 FACS */
	u32 dsdt;                 /*  40 */
	u8 int_model;             /*  44 (ACPI 1.0 only) */
	u8 preferred_pm_profile;  /*  45 */
	u16 sci_int;              /*  46 */
	u32 smi_cmd;              /*  48 */
	u8 acpi_enable;           /*  52 */
	u8 acpi_disable;          /*  53 */
	u8 s4bios_req;            /*  54 */
	u8 pstate_cnt;            /*  55 */
	u32 pm1a_evt_blk;         /*  56 */
	u32 pm1b_evt_blk;         /*  60 */
	u32 pm1a_cnt_blk;         /*  64 */
	u32 pm1b_cnt_blk;         /*  68 */
	u32 pm2_cnt_blk;          /*  72 */
	u32 pm_tmr_blk;           /*  76 */
	u32 gpe0_blk;             /*  80 */
	u32 gpe1_blk;             /*  84 */
	u8 pm1_evt_len;           /*  88 */
	u8 pm1_cnt_len;           /*  89 */
	u8 pm2_cnt_len;           /*  90 */
	u8 pm_tmr_len;            /*  91 */
	u8 gpe0_blk_len;          /*  92 */
	u8 gpe1_blk_len;          /*  93 */
	u8 gpe1_base;             /*  94 */
	u8 cst_cnt;               /*  95 */
	u16 p_lvl2_lat;           /*  96 */
	u16 p_lvl3_lat;           /*  98 */
	u16 flush_size;           /* 100 */
	u16 flush_stride;         /* 102 */
	u8 duty_offset;           /* 104 */
	u8 duty_width;            /* 105 */
	u8 day_alrm;              /* 106 */
	u8 mon_alrm;              /* 107 */
	u8 century;               /* 108 */
	u16 iapc_boot_arch;       /* 109 (reserved before FADT revision 3) */
	u8 reserved1;             /* 111 */
	u32 flags;                /* 112 */
	/* ---- 116: end of the ACPI 1.0 FADT (revision 1) */
	struct acpi_gas_wire reset_reg; /* 116 */
	u8 reset_value;           /* 128 */
	u16 arm_boot_arch;        /* 129 */
	u8 minor_version;         /* 131 */
	u64 x_firmware_ctrl;      /* 132 */
	u64 x_dsdt;               /* 140 */
	struct acpi_gas_wire x_pm1a_evt_blk; /* 148 */
	struct acpi_gas_wire x_pm1b_evt_blk; /* 160 */
	struct acpi_gas_wire x_pm1a_cnt_blk; /* 172 */
	struct acpi_gas_wire x_pm1b_cnt_blk; /* 184 */
	struct acpi_gas_wire x_pm2_cnt_blk;  /* 196 */
	struct acpi_gas_wire x_pm_tmr_blk;   /* 208 */
	struct acpi_gas_wire x_gpe0_blk;     /* 220 */
	struct acpi_gas_wire x_gpe1_blk;     /* 232 */
	/* ---- 244: end of the ACPI 2.0-4.0 FADT (revision 3/4) */
	struct acpi_gas_wire sleep_control_reg; /* 244 */
	struct acpi_gas_wire sleep_status_reg;  /* 256 */
	u64 hypervisor_vendor_id; /* 268 */
} __packed;
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT (ACPI 6) is 276 bytes");
_Static_assert(__builtin_offsetof(struct acpi_fadt, flags) == 112, "FADT flags at 112");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT at 140");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_pm1a_cnt_blk) == 172, "X_PM1a_CNT at 172");
#define ACPI_FADT_V1_LEN 116

/* ---- MCFG and HPET ------------------------------------------------------ */

struct acpi_mcfg {
	struct acpi_sdt_header hdr;
	u8 reserved[8];
} __packed;
_Static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG fixed part is 44 bytes");

struct acpi_mcfg_alloc {
	u64 base;
	u16 segment;
	u8 start_bus;
	u8 end_bus;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct acpi_mcfg_alloc) == 16, "MCFG allocation is 16 bytes");

struct acpi_hpet {
	struct acpi_sdt_header hdr;
	u32 block_id;
	struct acpi_gas_wire base;
	u8 number;
	u16 min_tick;
	u8 page_protection;
} __packed;
_Static_assert(sizeof(struct acpi_hpet) == 56, "HPET table is 56 bytes");

/* ---- AML (just what the \_S5 search needs) ------------------------------ */

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_QWORD_PREFIX 0x0E
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR 0x5C /* '\\' */
#define AML_ONES_OP 0xFF

#endif
