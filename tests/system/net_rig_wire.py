"""
net_rig_wire — the wire formats the network rig speaks itself: a DNS query
and its answer, the few DHCP messages a probe client needs, and hostile
Ethernet frames for flooding a guest.

Pure functions over bytes (no sockets, no namespaces: net_rig.py does
those), so a test can also build a frame or parse a reply on its own.
Malformed input raises WireError; nothing here trusts a length it read.

Hostile frames (garbage_frames) are reproducible from their seed and cycle
through GARBAGE_KINDS, so every kind appears in any flood of a dozen or
more:

  random            random bytes, 14..1514 long
  runt              an Ethernet header and under 46 bytes of payload
  truncated_arp     ARP cut anywhere inside its 28 bytes
  truncated_ipv4    an IPv4 header cut before 20 bytes
  bad_ip_checksum   a whole IPv4/UDP packet with a wrong header checksum
  bad_ip_length     total length 0, < IHL, past the frame, or 65535
  bad_ihl           IHL 0/4/15 and versions 4/6/15
  bad_udp_checksum  a right IPv4 header, a wrong UDP checksum
  truncated_udp     a UDP header cut short, or a UDP length past the packet
  bad_icmp_checksum an echo request the guest must not answer
  hostile_fragment  fragment offsets at the top of the range, MF+DF
  oversized         1515..oversize_max bytes (the rig's taps allow 9014)
"""

import random
import socket
import struct
from dataclasses import dataclass

DHCP_MAGIC = 0x63825363


class WireError(ValueError):
    """A message that does not parse."""


# ------------------------------------------------------------- DNS ----

def dns_name(msg, off, hops=0):
    """(name, offset after it) at @off of DNS message @msg."""
    labels = []
    while True:
        if off >= len(msg) or hops > 20:
            raise WireError("bad DNS name (past the end, or a pointer loop)")
        n = msg[off]
        if n >= 0xc0:
            if off + 2 > len(msg):
                raise WireError("DNS name pointer cut short")
            ptr = struct.unpack(">H", msg[off:off + 2])[0] & 0x3fff
            rest, _ = dns_name(msg, ptr, hops + 1)
            return ".".join(labels + [rest] if rest else labels), off + 2
        if n == 0:
            return ".".join(labels), off + 1
        if n >= 0x40 or off + 1 + n > len(msg):
            raise WireError("bad DNS label (reserved type, or past the end)")
        labels.append(msg[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n


@dataclass
class DnsAnswer:
    rcode: int                    # 0 ok, 3 NXDOMAIN, 5 REFUSED ...
    addresses: list               # A records, in order
    cnames: list                  # CNAME targets, in order
    ttls: list


def dns_question(qid, name, qtype=1):
    """A recursive query for @name (type @qtype, class IN)."""
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return q + struct.pack(">HH", qtype, 1)


def parse_dns(msg):
    """The rcode, A addresses, CNAME targets and TTLs of reply @msg."""
    if len(msg) < 12:
        raise WireError("DNS message shorter than its header")
    try:
        return _parse_dns(msg)
    except struct.error as e:
        raise WireError(f"DNS record cut short: {e}") from e


def _parse_dns(msg):
    flags, qd, an = struct.unpack(">HHH", msg[2:8])
    off = 12
    for _ in range(qd):
        off = dns_name(msg, off)[1] + 4
        if off > len(msg):
            raise WireError("DNS question cut short")
    ans = DnsAnswer(flags & 15, [], [], [])
    for _ in range(an):
        off = dns_name(msg, off)[1]
        rtype, _cls, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        if off + rdlen > len(msg):
            raise WireError("DNS record data past the end")
        if rtype == 1 and rdlen == 4:
            ans.addresses.append(socket.inet_ntoa(msg[off:off + 4]))
        elif rtype == 5:
            ans.cnames.append(dns_name(msg, off)[0])
        ans.ttls.append(ttl)
        off += rdlen
    return ans


# ------------------------------------------------------------ DHCP ----

def dhcp_packet(xid, mac, msg_type, ciaddr="0.0.0.0", options=b""):
    """A client's BOOTREQUEST of DHCP type @msg_type (1 DISCOVER, 3
    REQUEST), broadcast flag set, asking for mask, router, DNS, lease."""
    head = struct.pack(">BBBBIHH4s4s4s4s16s64s128sI", 1, 1, 6, 0, xid, 0,
                       0x8000, socket.inet_aton(ciaddr), bytes(4), bytes(4),
                       bytes(4), mac, b"", b"", DHCP_MAGIC)
    return (head + bytes([53, 1, msg_type]) + options
            + bytes([55, 4, 1, 3, 6, 51, 255]))


def dhcp_reply(data, xid):
    """The options of server reply @data to transaction @xid, with its
    yiaddr under "yiaddr" and type under 53; None if it is not one."""
    if len(data) < 240 or struct.unpack(">I", data[4:8])[0] != xid or \
            struct.unpack(">I", data[236:240])[0] != DHCP_MAGIC:
        return None
    opts = dhcp_options(data[240:])
    if 53 not in opts:
        return None
    opts["yiaddr"] = socket.inet_ntoa(data[16:20])
    return opts


def dhcp_options(raw):
    """{code: bytes} of the options in @raw (after the magic cookie)."""
    opts, i = {}, 0
    while i < len(raw) and raw[i] != 255:
        if raw[i] == 0:
            i += 1
            continue
        if i + 1 >= len(raw):
            raise WireError("DHCP option runs off the packet")
        n = raw[i + 1]
        if i + 2 + n > len(raw):
            raise WireError("DHCP option runs off the packet")
        opts[raw[i]] = raw[i + 2:i + 2 + n]
        i += 2 + n
    return opts


# ----------------------------------------------------- bad frames ----

def checksum(data):
    """The Internet checksum (RFC 1071) of @data."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def ipv4_packet(src, dst, proto, payload, *, ident=0x4e4f, ttl=64, frag=0,
                total=None, ihl=5, version=4, bad_csum=False):
    """An IPv4 header (fields as given, even wrong ones) and @payload."""
    hdr = struct.pack(">BBHHHBBH4s4s", (version << 4) | ihl, 0,
                      total if total is not None else 20 + len(payload),
                      ident, frag, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    c = checksum(hdr) ^ (0x5a5a if bad_csum else 0)
    return hdr[:10] + struct.pack(">H", c) + hdr[12:] + payload


GARBAGE_KINDS = ("random", "runt", "truncated_arp", "truncated_ipv4",
                 "bad_ip_checksum", "bad_ip_length", "bad_ihl",
                 "bad_udp_checksum", "truncated_udp", "bad_icmp_checksum",
                 "hostile_fragment", "oversized")


def garbage_frames(count, dst_mac, dst_ip, *, src_ip, seed=1,
                   kinds=GARBAGE_KINDS, oversize_max=4000):
    """@count hostile frames for a guest at @dst_mac/@dst_ip, cycling
    through @kinds, reproducible from @seed: [(kind, bytes)].

    @src_ip must not be an address the guest talks to (the gateway): the
    frames come from random locally administered MACs.  "oversized" frames
    are 1515..@oversize_max bytes (the taps' MTU allows up to 9014).
    """
    rng = random.Random(seed)
    dst = bytes.fromhex(dst_mac.replace(":", ""))
    frames = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        src = bytes([0x02]) + rng.randbytes(5)
        frames.append((kind, _garbage(kind, rng, dst, src, dst_ip, src_ip,
                                      oversize_max)))
    return frames


def _garbage(kind, rng, dst, src, dst_ip, src_ip, oversize_max):
    eth4 = dst + src + b"\x08\x00"
    udp = struct.pack(">HHHH", rng.randrange(1024, 65536), rng.randrange(1, 65536),
                      8 + 16, 0) + rng.randbytes(16)
    if kind == "random":
        return rng.randbytes(rng.randrange(14, 1515))
    if kind == "runt":
        etype = rng.choice([b"\x08\x00", b"\x08\x06", b"\x86\xdd", rng.randbytes(2)])
        return dst + src + etype + rng.randbytes(rng.randrange(0, 46))
    if kind == "truncated_arp":
        arp = struct.pack(">HHBBH", 1, 0x0800, 6, 4, rng.choice([1, 2])) + src
        return dst + src + b"\x08\x06" + arp[:rng.randrange(1, 28)]
    if kind == "truncated_ipv4":
        full = ipv4_packet(src_ip, dst_ip, 17, udp)
        return eth4 + full[:rng.randrange(1, 20)]
    if kind == "bad_ip_checksum":
        return eth4 + ipv4_packet(src_ip, dst_ip, 17, udp, bad_csum=True)
    if kind == "bad_ip_length":
        total = rng.choice([0, 19, 21 + len(udp), 1500, 65535])
        return eth4 + ipv4_packet(src_ip, dst_ip, 17, udp, total=total)
    if kind == "bad_ihl":
        return eth4 + ipv4_packet(src_ip, dst_ip, 17, udp, ihl=rng.choice([0, 4, 15]),
                            version=rng.choice([4, 6, 15]))
    if kind == "bad_udp_checksum":
        bad = udp[:6] + b"\xde\xad" + udp[8:]
        return eth4 + ipv4_packet(src_ip, dst_ip, 17, bad)
    if kind == "truncated_udp":
        cut = udp[:rng.randrange(1, 8)] if rng.random() < 0.5 else \
            udp[:4] + struct.pack(">H", 1000) + udp[6:]
        return eth4 + ipv4_packet(src_ip, dst_ip, 17, cut)
    if kind == "bad_icmp_checksum":
        icmp = struct.pack(">BBHHH", 8, 0, 0xbeef, 0x4242, 1) + rng.randbytes(32)
        return eth4 + ipv4_packet(src_ip, dst_ip, 1, icmp)
    if kind == "hostile_fragment":
        frag = rng.choice([0x2000 | 0x1fff, 0x1fff, 0x2000 | 1, 0x4000 | 0x2000])
        return eth4 + ipv4_packet(src_ip, dst_ip, 17, udp, frag=frag)
    if kind == "oversized":
        n = rng.randrange(1515, oversize_max + 1)
        payload = rng.randbytes(n - 14 - 20)
        return eth4 + ipv4_packet(src_ip, dst_ip, 17, payload)
    raise ValueError(f"unknown garbage kind {kind!r}")
