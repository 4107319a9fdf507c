#!/usr/bin/env python3
"""A scripted DNS server for lws-rs tests: what dnsmasq will not do.

Standard library only (socket, struct, threading). Listens on UDP and TCP
on one port of 127.0.0.1 (--port 0 picks a free one), prints
"PORT <n>" once ready, and logs every question it gets as
"Q <udp|tcp> <name> <A|AAAA|type>" on stdout. It exits when its stdin
closes, so it never outlives the test that started it.

How it answers depends on the first label of the name asked (any domain):

  ok         A 127.0.0.1 and AAAA ::1
  v4         A 127.0.0.1; AAAA: no data (NOERROR, empty)
  noisy      like v4, but each answer comes after a reply with a wrong id,
             one for another question, one of the wrong type, a datagram
             of garbage and a malformed message with the right id (the
             decoy addresses are 10.9.9.x)
  garbage    only garbage (never the query's id): the client times out
  garbled    only malformed messages with the right id
  mismatch   only answers to another question
  silent     nothing at all
  slow       like v4, after 300 ms
  tc         over UDP an empty answer with TC set; over TCP like v4
  nx         NXDOMAIN
  servfail   SERVFAIL
  afirst     A 127.0.0.1 at once; AAAA never answered
  aaaafirst  AAAA ::1 at once; A never answered
"""

import argparse
import socket
import struct
import sys
import threading

QTYPE_NAMES = {1: "A", 28: "AAAA"}
LOCK = threading.Lock()


def log(line):
    with LOCK:
        print(line, flush=True)


def parse_question(msg):
    """(id, flags, name, qtype, end of question) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", msg[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    labels, i = [], 12
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        i += 1
        if n == 0:
            break
        if n > 63 or i + n > len(msg):
            return None
        labels.append(msg[i:i + n].decode("ascii", "replace").lower())
        i += n
    if i + 4 > len(msg):
        return None
    qtype = struct.unpack(">H", msg[i:i + 2])[0]
    return qid, flags, ".".join(labels), qtype, i + 4


def encode_name(name):
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def message(qid, rd, name, qtype, rcode=0, answers=(), tc=False):
    """A response to (name, qtype) with `answers`: (rtype, rdata) tuples."""
    flags = 0x8000 | rd | 0x0080 | rcode | (0x0200 if tc else 0)
    head = struct.pack(">HHHHHH", qid, flags, 1, len(answers), 0, 0)
    body = encode_name(name) + struct.pack(">HH", qtype, 1)
    for rtype, rdata in answers:
        # A pointer to the question's name, class IN, TTL 60.
        body += struct.pack(">HHHIH", 0xC00C, rtype, 1, 60, len(rdata)) + rdata
    return head + body


def addr(rtype, text):
    family = socket.AF_INET if rtype == 1 else socket.AF_INET6
    return (rtype, socket.inet_pton(family, text))


def plain(name, qtype, v6=None):
    """The records of a name that has 127.0.0.1 (and `v6`, if given)."""
    if qtype == 1:
        return [addr(1, "127.0.0.1")]
    if qtype == 28 and v6:
        return [addr(28, v6)]
    return []


def replies(kind, q, tcp):
    """The datagrams (or TCP messages) to send for question `q`, each with
    a delay in seconds; None for the answer means 'never'."""
    qid, flags, name, qtype, _ = q
    rd = flags & 0x0100
    ok = lambda answers, rcode=0: message(qid, rd, name, qtype, rcode, answers)
    if kind == "ok":
        return [(0, ok(plain(name, qtype, "::1")))]
    if kind == "v4":
        return [(0, ok(plain(name, qtype)))]
    if kind == "noisy":
        decoy = [addr(1, "10.9.9.9")] if qtype == 1 else []
        wrong_id = message(qid ^ 0x5A5A, rd, name, qtype, 0, decoy)
        other = message(qid, rd, "other." + name, qtype, 0, [addr(1, "10.9.9.8")])
        wrong_type = message(qid, rd, name, 16 if qtype != 16 else 1, 0, [])
        junk = bytes([(qid >> 8) ^ 0xFF, (qid & 0xFF) ^ 0xFF]) + b"\x81\x80garbage"
        malformed = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + b"\x07trunc"
        return [(0, m) for m in (wrong_id, other, wrong_type, junk, malformed)] + [
            (0, ok(plain(name, qtype)))
        ]
    if kind == "garbage":
        return [(0, bytes([(qid >> 8) ^ 0xFF, (qid & 0xFF) ^ 0xFF]) + b"\xff" * 30)]
    if kind == "garbled":
        return [(0, struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + b"\x3f\x00\x01")]
    if kind == "mismatch":
        return [(0, message(qid, rd, "elsewhere.lws.test", qtype, 0, plain(name, qtype)))]
    if kind == "silent":
        return []
    if kind == "slow":
        return [(0.3, ok(plain(name, qtype)))]
    if kind == "tc":
        if tcp:
            return [(0, ok(plain(name, qtype)))]
        return [(0, message(qid, rd, name, qtype, 0, [], tc=True))]
    if kind == "nx":
        return [(0, ok([], 3))]
    if kind == "servfail":
        return [(0, ok([], 2))]
    if kind == "afirst":
        return [(0, ok(plain(name, qtype)))] if qtype == 1 else []
    if kind == "aaaafirst":
        return [(0, ok([addr(28, "::1")]))] if qtype == 28 else []
    return [(0, ok([], 3))]


def answer(msg, tcp, send):
    q = parse_question(msg)
    if q is None:
        return
    name, qtype = q[2], q[3]
    log("Q %s %s %s" % ("tcp" if tcp else "udp", name, QTYPE_NAMES.get(qtype, qtype)))
    for delay, reply in replies(name.split(".")[0], q, tcp):
        if delay:
            threading.Timer(delay, send, (reply,)).start()
        else:
            send(reply)


def serve_udp(sock):
    while True:
        msg, peer = sock.recvfrom(4096)
        answer(msg, False, lambda r, p=peer: sock.sendto(r, p))


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve_tcp_conn(conn):
    with conn:
        while True:
            head = read_exact(conn, 2)
            if head is None:
                return
            msg = read_exact(conn, struct.unpack(">H", head)[0])
            if msg is None:
                return
            answer(msg, True, lambda r: conn.sendall(struct.pack(">H", len(r)) + r))


def serve_tcp(listener):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_tcp_conn, args=(conn,), daemon=True).start()


def bind(port):
    """UDP and TCP sockets on one port of 127.0.0.1."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
            continue
        tcp.listen(16)
        return udp, tcp
    raise OSError("no port free for both UDP and TCP")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    udp, tcp = bind(args.port)
    threading.Thread(target=serve_udp, args=(udp,), daemon=True).start()
    threading.Thread(target=serve_tcp, args=(tcp,), daemon=True).start()
    log("PORT %d" % udp.getsockname()[1])
    sys.stdin.read()  # until the test closes our stdin (or exits)


if __name__ == "__main__":
    main()
