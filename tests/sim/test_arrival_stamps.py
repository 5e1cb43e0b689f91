"""The simulator logs a request when it reached the machine (the kernel's stamp), not when a thread
of its process got round to reading it: a simulator busy elsewhere does not make pacing look worse
(or a later request look earlier) than it was."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest

from reconciler.sim.fixtures import fixture_data
from reconciler.sim.server import SimServer

REQUEST = b"GET /teams HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernel receive stamps are read on Linux only")
def test_a_request_is_stamped_when_it_arrived_not_when_it_was_read(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    before = sys.getswitchinterval()
    with SimServer(fixture_data(), request_log=log) as sim:
        host, port = sim.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as conn:
            # Keep the GIL in this thread for 0.4 s after sending: the server's threads cannot read
            # the request until then (the switch interval is longer than the busy loop).
            sys.setswitchinterval(5.0)
            try:
                sent = time.time()
                conn.sendall(REQUEST)
                while time.time() - sent < 0.4:
                    pass
            finally:
                sys.setswitchinterval(before)
            reply = b""
            while chunk := conn.recv(65536):
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    # Stamped at arrival (within a few ms of the send), not 0.4 s later when a thread could read it.
    assert sent - 0.05 < entry["ts"] < sent + 0.2
