"""Relay one guest connection to a TCP port on loopback (qemu guestfwd=...-cmd:).

    python3 relay.py 127.0.0.1 PORT

qemu starts this once per connection with stdin and stdout on one socket.
"""
import ipaddress
import selectors
import socket
import sys

IDLE_SECONDS = 600


def pump(src, dst, shut):
    data = src.recv(65536)
    if not data:
        shut()
        return False
    dst.sendall(data)
    return True


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit("relay.py forwards to loopback only, not %s" % host)
    guest = socket.socket(fileno=0)  # qemu hands over a socket
    server = socket.create_connection((host, port), timeout=30)
    sel = selectors.DefaultSelector()
    sel.register(guest, selectors.EVENT_READ, (guest, server))
    sel.register(server, selectors.EVENT_READ, (server, guest))
    while sel.get_map():
        events = sel.select(timeout=IDLE_SECONDS)
        if not events:
            break
        for key, _mask in events:
            src, dst = key.data
            try:
                if not pump(src, dst, lambda d=dst: d.shutdown(socket.SHUT_WR)):
                    sel.unregister(src)
            except OSError:
                sel.unregister(src)
    server.close()
    guest.close()


if __name__ == "__main__":
    main()
