"""Run the atheris fuzz target for a bounded time, and keep what it found as regressions.

``FUZZ_SECONDS`` (default 20) bounds the run; the number of inputs executed
is printed (``pytest -s`` shows it) and must be substantial. A crash fails
the test with libFuzzer's report and the crashing input.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engineio_core.protocol.packets import Packet, PacketType
from engineio_core.protocol.payloads import encode_jsonp, encode_payload, encode_text_payload

HERE = Path(__file__).resolve().parent
TARGET = HERE / "fuzz_decoders.py"
SECONDS = int(os.environ.get("FUZZ_SECONDS", "20"))

# Indexes of fuzz_decoders.TARGETS (the first input byte picks one).
PAYLOAD4, PAYLOAD4_BIN, PAYLOAD3, PAYLOAD3_BIN, TEXT4, TEXT3 = range(6)
PACKET4, PACKET3, WS3, WS4, JSONP4, JSONP3 = range(6, 12)
POST4, POST3, POST3_BIN, POST4_JSONP = range(12, 16)
DICTIONARY = HERE / "fuzz_decoders.dict"

#: Inputs that once broke the server: libFuzzer runs every seed first, so
#: each fuzz run re-checks them (besides test_regressions.py).
REGRESSION_SEEDS = [
    bytes([POST4]) + b"4" + b"[" * 19_000,  # RecursionError in json.loads: a 500
    bytes([POST4]) + b"4[" + b"9" * 10_000 + b"]",  # int() digit limit: a ValueError
]

M = PacketType.MESSAGE
SAMPLE = [Packet(PacketType.OPEN, '{"sid":"x"}'), Packet(M, "héllo 😀"), Packet(M, b"\x00\xff"),
          Packet(PacketType.PING, "probe"), Packet(PacketType.CLOSE)]  # fmt: skip


def seeds() -> list[bytes]:
    """Valid inputs for each decoder, so the fuzzer starts from the interesting shapes."""
    v3_text = encode_text_payload(SAMPLE, 3).encode()
    v3_binary, _ = encode_payload(SAMPLE, 3, binary=True)
    v4_text = encode_text_payload(SAMPLE, 4).encode()
    jsonp = b"d=" + encode_jsonp(SAMPLE, 3, "0")
    return [
        bytes([PAYLOAD4]) + v4_text,
        bytes([PAYLOAD3]) + v3_text,
        bytes([PAYLOAD3_BIN]) + v3_binary,
        bytes([TEXT3]) + v3_text,
        bytes([TEXT4]) + v4_text,
        bytes([PACKET4]) + b"bAQI=",
        bytes([PACKET3]) + b"b4AQI=",
        bytes([WS3]) + b"\x04abc",
        bytes([JSONP4]) + b"d=4hi%5Cnthere",
        bytes([JSONP3]) + jsonp,
        bytes([POST4]) + v4_text,
        bytes([POST3]) + v3_text,
        bytes([POST3_BIN]) + v3_binary,
        bytes([POST4_JSONP]) + b"d=4hi",
        *REGRESSION_SEEDS,
    ]


def run_fuzzer(tmp_path: Path, seconds: int) -> tuple[int, str]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(seeds()):
        (corpus / f"seed-{i}").write_bytes(seed)
    result = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-max_total_time={seconds}",
            "-print_final_stats=1",
            "-timeout=10",
            "-rss_limit_mb=1024",
            f"-dict={DICTIONARY}",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    match = re.search(r"stat::number_of_executed_units:\s*(\d+)", output) or re.search(
        r"#(\d+)\s+DONE", output
    )
    assert match is not None, output[-3000:]
    return int(match.group(1)), output


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
@pytest.mark.timeout(SECONDS + 180)
def test_fuzz_decoders_for_a_bounded_time(tmp_path: Path) -> None:
    executions, output = run_fuzzer(tmp_path, SECONDS)
    print(f"\natheris: {executions} inputs in {SECONDS} s, no crash")
    assert executions > 1000, output[-3000:]
