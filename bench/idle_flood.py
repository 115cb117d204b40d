"""Idle flood past the pool, against a running echo-server (loopback only).

Opens CONNECTIONS connections; each sends one line and reads its echo (so it
holds a worker thread), or reads `ERR server busy` when the pool and queue are
full. All then stay idle. After IDLE seconds a newcomer connects and the time
until its line is echoed is reported: the adaptive idle timeout under load
(echo.idleTimeoutUnderLoad, default 10 s) makes room for it. Finally every
held connection is checked: evicted ones got exactly `ERR idle timeout`.

  /usr/bin/python3 bench/idle_flood.py PORT CONNECTIONS IDLE_SECONDS
Bounded: CONNECTIONS connections, one line each, one newcomer, 60 s at most.
"""
import resource
import socket
import sys
import time


def main():
    port, count, idle = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held, busy, other = [], 0, 0
    start = time.monotonic()
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"hold %d\n" % i)
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(64)
            if not chunk:
                break
            reply += chunk
        if reply == b"echo : hold %d\n" % i:
            held.append(s)
        elif reply == b"ERR server busy\n":
            busy += 1
            s.close()
        else:
            other += 1
            s.close()
    opened = time.monotonic() - start
    print(f"idle flood: {count} connections in {opened:.1f} s: {len(held)} served and held, "
          f"{busy} got ERR server busy, {other} other")
    time.sleep(max(0.0, idle - (time.monotonic() - start)))  # let them all go idle: the point of the test
    newcomer = socket.create_connection(("127.0.0.1", port), timeout=30)
    t0 = time.monotonic()
    newcomer.sendall(b"newcomer\n")
    reply = newcomer.recv(64)
    waited = (time.monotonic() - t0) * 1000
    print(f"newcomer after {idle:.0f} s idle: {reply!r} after {waited:.0f} ms")
    evicted = 0
    for s in held:
        s.setblocking(False)
        try:
            data = s.recv(64)
            if data == b"ERR idle timeout\n":
                evicted += 1
            elif data:
                other += 1
        except BlockingIOError:
            pass
        s.close()
    print(f"held connections evicted with ERR idle timeout: {evicted}; unexpected replies: {other}")
    sys.exit(0 if reply == b"echo : newcomer\n" and other == 0 else 1)


if __name__ == "__main__":
    main()
