"""`genrebot sandbox`: flags checked like Spotify's dashboard checks them, and the running
stand-in redirects only to the registered URIs."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
import requests

from sandbox.state import DEFAULT_REDIRECT_URI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_sandbox(*flags: str) -> Iterator[str]:
    """`genrebot sandbox` in a subprocess, until its banner says where it listens."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "genrebot_cli", "sandbox", "--port", str(port), *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:  # blocks until the server prints; ends if the process dies
            banner.append(line)
            if line.startswith("Ctrl-C"):
                break
        assert process.poll() is None, "".join(banner)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _authorize(base: str, redirect_uri: str) -> requests.Response:
    query = {"client_id": "sandbox-client", "response_type": "code", "redirect_uri": redirect_uri,
             "scope": "user-library-read"}
    return requests.get(f"{base}/authorize?{urlencode(query)}", allow_redirects=False, timeout=10)


def test_by_default_the_command_redirects_only_to_the_bots_default_callback() -> None:
    """Today's default sent a code to any loopback or HTTPS URL; Spotify sends it to registered ones."""
    with running_sandbox("--auto-approve") as base:
        assert _authorize(base, "https://evil.example/steal").status_code == 400
        assert _authorize(base, "http://127.0.0.1:9999/callback").status_code == 400
        assert _authorize(base, DEFAULT_REDIRECT_URI).headers["Location"].startswith(DEFAULT_REDIRECT_URI + "?code=")


def test_redirect_uri_flags_register_each_uri() -> None:
    """--redirect-uri is repeatable; the default is then not registered."""
    first, second = "http://127.0.0.1:7001/callback", "https://bot.example/callback"
    with running_sandbox("--auto-approve", "--redirect-uri", first, "--redirect-uri", second) as base:
        assert _authorize(base, first).status_code == 302
        assert _authorize(base, second).status_code == 302
        assert _authorize(base, DEFAULT_REDIRECT_URI).status_code == 400


@pytest.mark.parametrize("flags", [
    ["--library", "synthetic:zero"],
    ["--redirect-uri", "http://localhost:8888/callback"],
    ["--redirect-uri", "http://127.0.0.1.evil.example/callback"],
    ["--redirect-uri", "http://127.0.0.1@evil.example/callback"],
    ["--rate-limit", "0"],
    ["--rotate-refresh-tokens", "0"],
])
def test_the_command_rejects_bad_flags_with_exit_2(flags: list[str]) -> None:
    """A flag Spotify would refuse (or nonsense) is one clear line and exit status 2."""
    result = subprocess.run([sys.executable, "-m", "genrebot_cli", "sandbox", *flags],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and flags[0] in result.stderr and "Traceback" not in result.stderr
