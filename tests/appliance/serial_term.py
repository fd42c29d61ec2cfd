"""Join this terminal to a unix socket (a qemu serial port), raw, both ways.

    python3 serial_term.py PATH

Run inside a tmux pane, it lets tmux send-keys type on the VM's serial line and
capture-pane read what the VM draws there.
"""
import os
import selectors
import socket
import sys
import termios
import time
import tty


def main():
    sock = socket.socket(socket.AF_UNIX)
    deadline = time.monotonic() + 60
    while True:
        try:
            sock.connect(sys.argv[1])
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ, "tty")
    sel.register(sock, selectors.EVENT_READ, "vm")
    try:
        while True:
            for key, _mask in sel.select():
                if key.data == "tty":
                    data = os.read(fd, 4096)
                    if not data:
                        return
                    sock.sendall(data)
                else:
                    data = sock.recv(65536)
                    if not data:
                        return
                    os.write(sys.stdout.fileno(), data)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


if __name__ == "__main__":
    main()
