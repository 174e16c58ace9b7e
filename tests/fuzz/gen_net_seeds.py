#!/usr/bin/python3
"""gen_net_seeds.py DIR — write the seeds of fuzz_net_input and fuzz_tcp_states
into DIR/<target>/ (the layouts are in those files' tops).

    /usr/bin/python3 tests/fuzz/gen_net_seeds.py tests/fuzz/corpus

writes the checked-in seeds again, byte for byte; the two inputs that found
the zero-window bug (close-wait-window-shut-*) came from libFuzzer and are
kept beside them, not made here.
"""
import os, struct, sys

root = sys.argv[1]
OUR_MAC = bytes([2, 0, 0, 0, 0, 1]); PEER_MAC = bytes([2, 0, 0, 0, 0xaa, 2]); BC = b'\xff' * 6
OUR = bytes([10, 0, 0, 1]); PEER = bytes([10, 0, 0, 2]); OTHER = bytes([10, 0, 0, 3])

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def eth(dst, src, typ, payload): return dst + src + struct.pack('!H', typ) + payload

def arp(op, sha, spa, tha, tpa):
    return struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa

def ipv4(src, dst, proto, payload, opts=b'', frag=0x4000, tl=None, ihl=None):
    hl = 20 + len(opts)
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | (ihl if ihl is not None else hl // 4), 0,
                    tl if tl is not None else hl + len(payload), 1, frag, 64, proto, 0, src, dst) + opts
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload

def l4sum(src, dst, proto, seg):
    return csum(src + dst + struct.pack('!BBH', 0, proto, len(seg)) + seg)

def udp(src, dst, sport, dport, data):
    u = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
    s = l4sum(src, dst, 17, u) or 0xffff
    return u[:6] + struct.pack('!H', s) + u[8:]

def icmp(typ, code, rest, data):
    m = struct.pack('!BBH', typ, code, 0) + rest + data
    return m[:2] + struct.pack('!H', csum(m)) + m[4:]

def tcp(sport, dport, seq, ack, flags, win=65535, opts=b'', data=b''):
    while len(opts) % 4: opts += b'\x01'
    return struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                       (5 + len(opts) // 4) << 4, flags, win, 0, 0) + opts + data

def tcp_ip(src, dst, seg):
    s = l4sum(src, dst, 6, seg)
    return ipv4(src, dst, 6, seg[:16] + struct.pack('!H', s) + seg[18:])

def frame(ctl, fr): return bytes([ctl]) + struct.pack('!H', len(fr)) + fr

def write(target, name, data):
    d = os.path.join(root, target); os.makedirs(d, exist_ok=True)
    assert len(data) < 2048, name
    open(os.path.join(d, name), 'wb').write(data)

FIN, SYN, RST, PSH, ACK, URG = 1, 2, 4, 8, 16, 32
MSS = b'\x02\x04\x05\xb4'

# ------------------------------------------------------------ fuzz_net_input
N = 'fuzz_net_input'
def to_us(payload_ip): return eth(OUR_MAC, PEER_MAC, 0x0800, payload_ip)
def echo(src=PEER, dst=OUR, n=32, seq=1):
    return ipv4(src, dst, 1, icmp(8, 0, struct.pack('!HH', 0x1234, seq), bytes(i & 255 for i in range(n))))

write(N, 'arp-request', b'\x00' + frame(0, eth(BC, PEER_MAC, 0x0806, arp(1, PEER_MAC, PEER, b'\0' * 6, OUR))))
write(N, 'arp-reply-resolves', b'\x00' +
      frame(0, to_us(echo())) +          # the reply waits for ARP
      frame(0x10, eth(OUR_MAC, PEER_MAC, 0x0806, arp(2, PEER_MAC, PEER, OUR_MAC, OUR))))
write(N, 'arp-by-peer', b'\x02' + frame(0, to_us(echo())) + frame(0x40, to_us(echo(seq=2))))
write(N, 'icmp-echo', b'\x01' + frame(0, to_us(echo())) + frame(0, to_us(echo(n=1400, seq=2))))
write(N, 'icmp-echo-bcast', b'\x01' + frame(0, eth(BC, PEER_MAC, 0x0800, echo(dst=bytes([10, 0, 0, 255])))))
quoted = ipv4(OUR, PEER, 17, udp(OUR, PEER, 5353, 53, b'q' * 12))
write(N, 'icmp-unreach', b'\x01' +
      frame(0, to_us(ipv4(PEER, OUR, 1, icmp(3, 3, b'\0' * 4, quoted[:28])))) +
      frame(0, to_us(ipv4(PEER, OUR, 1, icmp(3, 4, struct.pack('!HH', 0, 576), tcp_ip(OUR, PEER, tcp(80, 40000, 1, 2, ACK))[:28])))) +
      frame(0, to_us(ipv4(PEER, OUR, 1, icmp(11, 0, b'\0' * 4, quoted[:28])))))
write(N, 'udp-ports', b'\x01' +
      frame(0, to_us(ipv4(PEER, OUR, 17, udp(PEER, OUR, 40000, 7, b'echo me')))) +
      b''.join(frame(0, to_us(ipv4(PEER, OUR, 17, udp(PEER, OUR, 40001, 5353, b'q%d' % i)))) for i in range(6)) +
      frame(0, to_us(ipv4(PEER, OUR, 17, udp(PEER, OUR, 40002, 9999, b'nobody')))))
write(N, 'udp-no-csum', b'\x01' + frame(0x08, to_us(ipv4(PEER, OUR, 17, struct.pack('!HHHH', 1, 7, 12, 0) + b'abcd'))))
write(N, 'tcp-syn', b'\x01' +
      frame(0, to_us(tcp_ip(PEER, OUR, tcp(40000, 80, 1000, 0, SYN, opts=MSS)))) +
      frame(0, to_us(tcp_ip(PEER, OUR, tcp(40001, 81, 1000, 0, SYN, opts=MSS)))) +
      frame(0, to_us(tcp_ip(PEER, OUR, tcp(40000, 80, 1001, 1, ACK)))) +
      frame(0, to_us(tcp_ip(PEER, OUR, tcp(40000, 80, 1000, 0, SYN, opts=MSS)))))
write(N, 'ip-options', b'\x01' +
      frame(0, to_us(echo()[:0] + ipv4(PEER, OUR, 1, icmp(8, 0, b'\x00\x01\x00\x01', b'x' * 8), opts=b'\x01\x01\x01\x00'))) +
      frame(0, to_us(ipv4(PEER, OUR, 17, udp(PEER, OUR, 1, 7, b'rr'), opts=b'\x07\x07\x04' + b'\0' * 4 + b'\0'))))
write(N, 'ip-fragments', b'\x01' +
      frame(0, to_us(ipv4(PEER, OUR, 17, udp(PEER, OUR, 1, 7, b'A' * 64), frag=0x2000))) +
      frame(0, to_us(ipv4(PEER, OUR, 17, b'B' * 32, frag=0x0009))))
write(N, 'bad-csum', b'\x01' +
      frame(0x08, to_us(echo()[:10] + b'\xde\xad' + echo()[12:])) +
      frame(0x08, to_us(ipv4(PEER, OUR, 17, struct.pack('!HHHH', 1, 7, 12, 0x1234) + b'abcd'))) +
      frame(0x08, to_us(ipv4(PEER, OUR, 6, tcp(1, 80, 0, 0, SYN)))))
e = echo()
write(N, 'bad-lengths', b'\x01' +
      frame(0, to_us(e[:2] + struct.pack('!H', 200) + e[4:])) +   # total length past the frame
      frame(0, to_us(e[:2] + struct.pack('!H', 12) + e[4:])) +    # shorter than its header
      frame(0, to_us(bytes([0x44]) + e[1:])) +                   # IHL 4
      frame(0, to_us(bytes([0x4f]) + e[1:])) +                   # IHL 15, past the packet
      frame(0, to_us(e[:20] + e[20:24])) +                       # ICMP cut short
      frame(0, eth(OUR_MAC, PEER_MAC, 0x0806, arp(1, PEER_MAC, PEER, b'\0' * 6, OUR)[:20])) +
      frame(0, OUR_MAC + PEER_MAC))
write(N, 'rewritten', b'\x03' +                                  # addresses made ours by ctl
      frame(0x07, eth(BC, BC, 0x0800, echo(src=OTHER, dst=OTHER))) +
      frame(0x07, eth(BC, BC, 0x0806, arp(1, BC, OTHER, b'\0' * 6, OTHER))) +
      frame(0x03, eth(BC, PEER_MAC, 0x0800, ipv4(OTHER, OTHER, 17, udp(OTHER, OTHER, 9, 7, b'x')))))

# ----------------------------------------------------------- fuzz_tcp_states
T = 'fuzz_tcp_states'
REL_SEQ, REL_ACK, RAW, ADV = 1, 2, 4, 8
def seg(ctl, s, read=False, delay=0):
    return bytes([ctl | (delay << 4)]) + struct.pack('!H', len(s) | (0x8000 if read else 0)) + s
def pseg(flags, seq=0, ack=0, data=b'', opts=b'', ctl=REL_SEQ | REL_ACK | ADV, win=65535, **kw):
    return seg(ctl, tcp(0, 0, seq, ack, flags, win, opts, data), **kw)

LISTEN, SYN_SENT, SYN_RCVD, EST, FW1, FW2, CW, CLOSING, LAST_ACK, TW = range(10)
PASSIVE, NODELAY, OPTS, SEND = 16, 32, 64, 128
ABORT, GRACE, WAIT_TW = 0, 4, 0xff

write(T, 'listen-handshake', bytes([LISTEN, GRACE]) + pseg(SYN, opts=MSS) + pseg(ACK) +
      pseg(ACK | PSH, data=b'GET / HTTP/1.0\r\n\r\n'))
write(T, 'listen-rst-ack', bytes([LISTEN, ABORT]) + pseg(ACK, ack=12345, ctl=REL_SEQ) + pseg(RST))
write(T, 'syn-sent-synack', bytes([SYN_SENT, GRACE]) + pseg(SYN | ACK, opts=MSS) +
      pseg(ACK | PSH, data=b'hello', read=True))
write(T, 'syn-sent-rst', bytes([SYN_SENT, ABORT]) + pseg(RST | ACK, ctl=REL_ACK))
write(T, 'syn-sent-simultaneous', bytes([SYN_SENT, ABORT]) + pseg(SYN, opts=MSS, delay=11) + pseg(ACK))
write(T, 'syn-rcvd-ack-data', bytes([SYN_RCVD, GRACE]) + pseg(ACK | PSH, data=b'x' * 100, read=True))
write(T, 'syn-rcvd-timeout', bytes([SYN_RCVD, ABORT]) + pseg(ACK, ack=5, ctl=REL_SEQ, delay=13))
write(T, 'est-data-ooo', bytes([EST, GRACE]) + pseg(ACK | PSH, data=b'a' * 200) +
      pseg(ACK, seq=400, data=b'c' * 200, ctl=REL_SEQ | REL_ACK) + pseg(ACK | PSH, data=b'b' * 200, read=True))
UNA = -3000 & 0xffffffff    # the peer's rcv_nxt is past all 3000 bytes queued: this is snd_una
write(T, 'est-send-dupacks', bytes([EST | SEND | NODELAY, ABORT]) + pseg(ACK, ack=UNA + 1460) +
      pseg(ACK, ack=UNA + 1460) + pseg(ACK, ack=UNA + 1460) + pseg(ACK, ack=UNA + 1460, delay=11) +
      pseg(ACK, ack=0))
write(T, 'est-options', bytes([EST | OPTS | PASSIVE, GRACE]) +
      pseg(ACK, data=b'z' * 50, opts=b'\x01\x01\x08\x0a' + struct.pack('!II', 6000, 0)) +
      pseg(ACK, opts=b'\x01\x01\x05\x0a' + struct.pack('!II', 1, 100)))
write(T, 'est-rst-syn', bytes([EST, ABORT]) + pseg(SYN, opts=MSS, ctl=REL_SEQ) + pseg(RST, seq=1, ctl=REL_SEQ))
write(T, 'est-zero-window', bytes([EST | SEND, ABORT]) + pseg(ACK, win=0, ctl=REL_SEQ | REL_ACK, delay=12))
write(T, 'fin-wait-1-ack', bytes([FW1, GRACE]) + pseg(ACK) + pseg(ACK | FIN))
write(T, 'fin-wait-1-retransmit', bytes([FW1, ABORT]) + pseg(ACK, ack=0xffffffff, delay=12))
write(T, 'fin-wait-2-data-fin', bytes([FW2, GRACE]) + pseg(ACK | PSH, data=b'late' * 10, read=True) + pseg(ACK | FIN))
write(T, 'close-wait-send', bytes([CW | SEND, GRACE]) + pseg(ACK, ack=UNA + 1460) + pseg(ACK, delay=8))
write(T, 'closing-ack', bytes([CLOSING, GRACE]) + pseg(ACK))
write(T, 'last-ack-ack', bytes([LAST_ACK, GRACE]) + pseg(ACK))
write(T, 'last-ack-lost', bytes([LAST_ACK | PASSIVE, ABORT]) + pseg(ACK, ack=0xffffffff, delay=12))
write(T, 'time-wait-fin-again', bytes([TW, WAIT_TW]) + pseg(ACK | FIN, seq=0xffffffff, ctl=REL_SEQ | REL_ACK) +
      pseg(ACK, delay=13))
write(T, 'time-wait-syn', bytes([TW, ABORT]) + pseg(SYN, seq=100000, opts=MSS, ctl=REL_SEQ))
write(T, 'bad-csum', bytes([EST, ABORT]) + seg(RAW | REL_SEQ | REL_ACK, tcp(0, 0, 0, 0, ACK | PSH, data=b'q') [:16] + b'\xbe\xef\0\0q'))
