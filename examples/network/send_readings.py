#!/usr/bin/env python3
"""An instrument for the network example: sends readings to meow over TCP.

Each reading is one message, CSV text with a header and a few samples:

    instrument,sequence,time,temperature_c,humidity_pct
    probe-1,1,2025-03-01T12:00:00+00:00,21.4,40.2
    ...

sent the way meow's network trigger expects it: connect, send the message,
half-close the connection (shutdown for writing), then read meow's one-line
reply, `ok <bytes> <path>` once the message is stored, or `error: <why>`.

    python3 send_readings.py                   # 5 readings to 127.0.0.1:9000
    python3 send_readings.py --count 3 --first 6 --interval 2
    python3 send_readings.py --count 0 --bad   # only a malformed message

Standard library only. Exits 1 if a message was not accepted.
"""
import argparse
import math
import socket
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Optional

HEADER = 'instrument,sequence,time,temperature_c,humidity_pct'


def reading(instrument: str, sequence: int, samples: int, now: datetime) -> str:
    """One message: `samples` samples 10 s apart, the last at `now`."""
    lines = [HEADER]
    for k in range(samples):
        when = now - timedelta(seconds=10 * (samples - 1 - k))
        temperature = round(21 + 2 * math.sin(sequence / 3) + 0.1 * k, 2)
        humidity = round(45 + 5 * math.cos(sequence / 4) - 0.2 * k, 2)
        lines.append(f'{instrument},{sequence},{when.isoformat()},{temperature},{humidity}')
    return '\n'.join(lines) + '\n'


def send(host: str, port: int, message: bytes, secret: Optional[str], timeout: float) -> str:
    """Send one message; return meow's reply line."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        if secret is not None:
            sock.sendall(secret.encode() + b'\n')
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)  # "that was all": meow stores the message and replies
        reply = b''
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.decode('utf-8', 'replace').strip() or 'error: no reply (connection closed)'


def main() -> int:
    parser = argparse.ArgumentParser(description='Send instrument readings to a meow network pattern.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=9000)
    parser.add_argument('--count', type=int, default=5, help='readings to send (default 5)')
    parser.add_argument('--first', type=int, default=1, help='sequence number of the first reading (default 1)')
    parser.add_argument('--instrument', default='probe-1')
    parser.add_argument('--samples', type=int, default=6, help='samples per reading (default 6)')
    parser.add_argument('--interval', type=float, default=0.0, help='seconds between readings (default 0)')
    parser.add_argument('--bad', action='store_true', help='also send a malformed message (its job fails)')
    parser.add_argument('--secret', help="first line, if the pattern's trigger has a secret")
    parser.add_argument('--timeout', type=float, default=30.0, help='seconds to wait for a reply (default 30)')
    args = parser.parse_args()

    messages = []
    for sequence in range(args.first, args.first + args.count):
        now = datetime.now(timezone.utc).replace(microsecond=0)
        messages.append((f'{args.instrument} #{sequence}', reading(args.instrument, sequence, args.samples, now)))
    if args.bad:
        messages.append(('malformed', 'this is not a reading\n'))

    failures = 0
    for i, (label, text) in enumerate(messages):
        if i and args.interval:
            time.sleep(args.interval)
        data = text.encode()
        try:
            reply = send(args.host, args.port, data, args.secret, args.timeout)
        except OSError as e:
            reply = f'error: could not send to {args.host}:{args.port}: {e} (is meow running on the workgroup?)'
        print(f'{label} ({len(data)} bytes): {reply}')
        if not reply.startswith('ok '):
            failures += 1
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
