"""`genrebot sandbox`: the Spotify stand-in on its own, for any Spotify client to use."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def register(subparsers: Any) -> None:
    sandbox = subparsers.add_parser("sandbox", help="run the local Spotify stand-in (accounts service + Web API)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8999, help="port to listen on (default 8999)")
    sandbox.add_argument("--client-id", default="sandbox-client", help="the app's client id")
    sandbox.add_argument("--client-secret", default="sandbox-secret", help="the app's client secret")
    sandbox.add_argument("--auto-approve", action="store_true", help="skip the consent page (scripted use)")
    sandbox.add_argument("--library", default="demo", help="demo, or synthetic:N for N generated songs")
    sandbox.add_argument("--audio-features", choices=("on", "off"), default="off",
                         help="serve /audio-features (on) or answer 403 like new apps get (off)")
    sandbox.set_defaults(handler=_sandbox)


def parse_library(spec: str) -> Any:
    from cli_errors import UsageError
    from sandbox.library import demo_library, synthetic_library

    if spec == "demo":
        return demo_library()
    kind, _, count = spec.partition(":")
    if kind == "synthetic" and count.isdigit() and 0 < int(count) <= 1_000_000:
        return synthetic_library(int(count))
    raise UsageError(f"--library must be 'demo' or 'synthetic:N' (1 to 1,000,000), not {spec!r}")


def _sandbox(args: argparse.Namespace) -> int:
    from cli_errors import UsageError
    from sandbox.server import SandboxServer
    from sandbox.state import SandboxState

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {args.port}")
    library = parse_library(args.library)
    state = SandboxState(apps={args.client_id: args.client_secret}, auto_approve=args.auto_approve,
                         audio_features_enabled=args.audio_features == "on")
    state.add_user("sandbox-user", "Sandbox User", library)

    async def serve() -> None:
        server = SandboxServer(state, args.host, args.port)
        try:
            base = await server.start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        print(f"Spotify sandbox on {base} with {len(library)} liked songs for 'sandbox-user'.")
        print(f"Point genrebot at it: SPOTIFY_API_BASE={base}/v1 SPOTIFY_ACCOUNTS_BASE={base} "
              f"SPOTIFY_CLIENT_ID={args.client_id} SPOTIFY_CLIENT_SECRET={args.client_secret}")
        print("Ctrl-C stops it.", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0
