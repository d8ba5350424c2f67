#!/usr/bin/env python3
"""An independent peer for CodeSync's secure channel (docs/PROTOCOL.md, "Secure channel").

Built on PyPI's `noiseprotocol` package (which uses `cryptography`), not on CodeSync's code, so
that the Swift tests prove interoperability with another implementation of the Noise spec.

  noise_peer.py vectors
      Prints the spec's test vector (fixed keys) as `name = hex` lines.
  noise_peer.py peer ROLE SECRET SESSION COUNT
      Listens on 127.0.0.1 (prints `port N`), accepts one connection and runs the secure channel
      as ROLE (initiator or responder). The initiator sends COUNT `ping` frames and one large
      `echo` frame, checks the replies and closes; the responder answers each `ping` with a `pong`
      of the same id and each `echo` with the same frame, and closes when the other side closes.
      Prints `ok hash=HEX frames=N` and exits 0 when every check held, exits 1 otherwise.
"""
import hashlib
import hmac
import json
import socket
import struct
import sys
import warnings

from noise.connection import Keypair, NoiseConnection

# The vectors fix the ephemeral keys on purpose; the package warns about that on every use.
warnings.filterwarnings("ignore", message="One of ephemeral keypairs is already set")

PROTOCOL_NAME = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
MAX_RECORD = 65535
TAG = 16
MAX_PLAINTEXT = MAX_RECORD - TAG
HANDSHAKE_MESSAGE = 48  # e (32 bytes) + the tag of an empty payload (16)

VECTOR_SECRET = "0123456789abcdef0123456789abcdef"
VECTOR_SESSION = "3f2a1c9b8d7e6f50"
VECTOR_INITIATOR_EPHEMERAL = bytes(range(0x01, 0x21))
VECTOR_RESPONDER_EPHEMERAL = bytes(range(0x41, 0x61))


def psk(secret):
    """The pre-shared key: HMAC-SHA256(key: UTF8(secret), "codesync noise psk v1")."""
    return hmac.new(secret.encode(), b"codesync noise psk v1", hashlib.sha256).digest()


def prologue(session):
    return b"codesync/4 session=" + session.encode()


def frame(obj):
    """A CodeSync frame: 4-byte big-endian length, then JSON with sorted keys."""
    body = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return struct.pack(">I", len(body)) + body


def connection(initiator, secret, session, ephemeral=None):
    noise = NoiseConnection.from_name(PROTOCOL_NAME)
    noise.set_psks(psk=psk(secret))
    noise.set_prologue(prologue(session))
    if ephemeral is not None:
        noise.set_keypair_from_private_bytes(Keypair.EPHEMERAL, ephemeral)
    if initiator:
        noise.set_as_initiator()
    else:
        noise.set_as_responder()
    noise.start_handshake()
    return noise


def seal(noise, plaintext):
    """Records for `plaintext`: pieces of at most MAX_PLAINTEXT bytes, each one sealed message."""
    return [noise.encrypt(plaintext[i:i + MAX_PLAINTEXT]) for i in range(0, len(plaintext), MAX_PLAINTEXT)]


def vectors():
    initiator = connection(True, VECTOR_SECRET, VECTOR_SESSION, VECTOR_INITIATOR_EPHEMERAL)
    responder = connection(False, VECTOR_SECRET, VECTOR_SESSION, VECTOR_RESPONDER_EPHEMERAL)
    texts = [("secret", VECTOR_SECRET), ("session", VECTOR_SESSION)]
    lines = [
        ("psk", psk(VECTOR_SECRET)),
        ("prologue", prologue(VECTOR_SESSION)),
        ("initiator ephemeral private", VECTOR_INITIATOR_EPHEMERAL),
        ("responder ephemeral private", VECTOR_RESPONDER_EPHEMERAL),
    ]
    message1 = bytes(initiator.write_message(b""))
    responder.read_message(message1)
    message2 = bytes(responder.write_message(b""))
    initiator.read_message(message2)
    assert initiator.get_handshake_hash() == responder.get_handshake_hash()
    lines += [("message 1", message1), ("message 2", message2),
              ("handshake hash", initiator.get_handshake_hash())]
    traffic = [("initiator", frame({"id": 1, "type": "ping"})),
               ("responder", frame({"id": 1, "type": "pong"})),
               ("initiator", frame({"reason": "left", "type": "bye"}))]
    for index, (sender, plaintext) in enumerate(traffic, start=1):
        noise, other = (initiator, responder) if sender == "initiator" else (responder, initiator)
        record = noise.encrypt(plaintext)
        assert other.decrypt(record) == plaintext
        lines += [("record %d %s plaintext" % (index, sender), plaintext), ("record %d %s" % (index, sender), record)]
    close = initiator.encrypt(b"")
    assert responder.decrypt(close) == b""
    lines.append(("record %d initiator close" % (len(traffic) + 1), close))
    for name, value in texts:
        print("%s = %s" % (name, value))
    for name, value in lines:
        print("%s = %s" % (name, value.hex()))


def receive_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError("connection ended after %d of %d bytes" % (len(data), count))
        data += chunk
    return data


def receive_record(sock):
    (length,) = struct.unpack(">I", receive_exactly(sock, 4))
    if not TAG <= length <= MAX_RECORD:
        raise ValueError("record length %d out of range" % length)
    return receive_exactly(sock, length)


def send_records(sock, records):
    sock.sendall(b"".join(struct.pack(">I", len(r)) + r for r in records))


class FrameReader:
    """Reassembles the decrypted byte stream and cuts it into JSON frames."""

    def __init__(self):
        self.buffer = b""

    def feed(self, data):
        self.buffer += data
        frames = []
        while len(self.buffer) >= 4:
            (length,) = struct.unpack(">I", self.buffer[:4])
            if len(self.buffer) < 4 + length:
                break
            frames.append(json.loads(self.buffer[4:4 + length]))
            self.buffer = self.buffer[4 + length:]
        return frames


def run_peer(role, secret, session, count):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)
    print("port %d" % listener.getsockname()[1], flush=True)
    sock, _ = listener.accept()
    sock.settimeout(30)
    initiator = role == "initiator"
    noise = connection(initiator, secret, session)
    if initiator:
        send_records(sock, [bytes(noise.write_message(b""))])
        noise.read_message(receive_record(sock))
    else:
        noise.read_message(receive_record(sock))
        send_records(sock, [bytes(noise.write_message(b""))])
    assert noise.handshake_finished
    reader = FrameReader()
    frames_seen = 0
    big_text = "x" * 150000 + "\u00e9 end"
    if initiator:
        outgoing = b"".join(frame({"id": n, "type": "ping"}) for n in range(1, count + 1))
        outgoing += frame({"text": big_text, "type": "echo"})
        send_records(sock, seal(noise, outgoing))
        expected = [{"id": n, "type": "pong"} for n in range(1, count + 1)] + [{"text": big_text, "type": "echo"}]
        received = []
        while len(received) < len(expected):
            plaintext = noise.decrypt(receive_record(sock))
            if not plaintext:
                raise ValueError("closed before all replies arrived")
            received += reader.feed(plaintext)
        if received != expected:
            raise ValueError("unexpected replies: %r" % [f.get("type") for f in received])
        frames_seen = len(received)
        send_records(sock, [noise.encrypt(b"")])
        if noise.decrypt(receive_record(sock)) != b"":
            raise ValueError("expected the other side's close")
    else:
        while True:
            plaintext = noise.decrypt(receive_record(sock))
            if not plaintext:
                send_records(sock, [noise.encrypt(b"")])
                break
            for f in reader.feed(plaintext):
                frames_seen += 1
                if f.get("type") == "ping":
                    reply = frame({"id": f["id"], "type": "pong"})
                elif f.get("type") == "echo":
                    reply = frame(f)
                else:
                    raise ValueError("unexpected frame %r" % f.get("type"))
                send_records(sock, seal(noise, reply))
    sock.close()
    print("ok hash=%s frames=%d" % (noise.get_handshake_hash().hex(), frames_seen), flush=True)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "vectors":
        vectors()
    elif len(sys.argv) == 6 and sys.argv[1] == "peer" and sys.argv[2] in ("initiator", "responder"):
        try:
            run_peer(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        except Exception as error:  # the Swift test shows this line
            print("failed: %s: %s" % (type(error).__name__, error), flush=True)
            sys.exit(1)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
