#!/usr/bin/python3
"""A real SMTP server for the integration tests (Debian's python3-aiosmtpd).

Usage: smtp_sink.py PORT OUTDIR

Listens on 127.0.0.1:PORT and writes every message it accepts to OUTDIR/<time>-<n>.eml
(written to a dot-file first, then renamed: a reader never sees half a message), with an
"X-Envelope-To:" line before the message as it was received. Prints "ready" once it
listens; runs until SIGTERM or SIGINT.
"""
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class FileHandler:
    def __init__(self, out):
        self.out = out
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            name = "%d-%06d" % (time.time_ns(), self.count)
        tmp = os.path.join(self.out, "." + name)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        with open(tmp, "wb") as f:
            f.write(("X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(content)
        os.rename(tmp, os.path.join(self.out, name + ".eml"))
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    controller = Controller(FileHandler(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
