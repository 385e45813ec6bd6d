"""`genrebot sandbox`: the Spotify stand-in on its own, for any Spotify client to use."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
from typing import Any
from urllib.parse import urlsplit


def register(subparsers: Any) -> None:
    from sandbox.state import DEFAULT_REDIRECT_URI

    sandbox = subparsers.add_parser(
        "sandbox", help="run the local Spotify stand-in (accounts service + Web API)",
        description="Run the local Spotify stand-in (accounts service and Web API) for any Spotify client, "
                    "behaving as Spotify does for a development-mode app.\n\nexample:\n"
                    "  genrebot sandbox --port 8999 --redirect-uri http://127.0.0.1:8888/callback\n"
                    "  # then, for the bot: SPOTIFY_API_BASE=http://127.0.0.1:8999/v1 "
                    "SPOTIFY_ACCOUNTS_BASE=http://127.0.0.1:8999\n"
                    "  #   SPOTIFY_CLIENT_ID=sandbox-client SPOTIFY_CLIENT_SECRET=sandbox-secret",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8999, help="port to listen on (default 8999)")
    sandbox.add_argument("--client-id", default="sandbox-client", help="the app's client id")
    sandbox.add_argument("--client-secret", default="sandbox-secret", help="the app's client secret")
    sandbox.add_argument("--redirect-uri", action="append", metavar="URI",
                         help="a redirect URI registered for the app; repeat for several. Codes go only to "
                              f"these, compared exactly, as on Spotify (default: {DEFAULT_REDIRECT_URI})")
    sandbox.add_argument("--auto-approve", action="store_true",
                         help="skip the consent page unless the app asks show_dialog=true (scripted use)")
    sandbox.add_argument("--library", default="demo", help="demo, or synthetic:N for N generated songs")
    sandbox.add_argument("--audio-features", choices=("on", "off"), default="off",
                         help="serve /audio-features (on) or answer 403 like new apps get (off)")
    sandbox.add_argument("--rate-limit", type=int, metavar="N",
                         help="answer 429 with Retry-After once an app makes more than N calls in a rolling "
                              "30-second window (Spotify's rule; it does not publish N). Default: no limit")
    sandbox.add_argument("--rotate-refresh-tokens", type=int, metavar="N",
                         help="every N-th token refresh returns a new refresh token and retires the old one "
                              "at once (a PKCE app's single-use tokens: stricter than Spotify is with an app "
                              "that has a client secret). Default: refresh tokens are never rotated")
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


def check_redirect_uri(uri: str) -> str:
    """Spotify registers only HTTPS URIs or plain-HTTP loopback addresses (127.0.0.1, [::1];
    not `localhost`), so the sandbox registers nothing else."""
    from cli_errors import UsageError

    try:
        parts = urlsplit(uri)
        host, _port = parts.hostname or "", parts.port  # reading .port checks it
    except ValueError:
        raise UsageError(f"--redirect-uri is not a URL: {uri!r}") from None
    if host and not parts.username and not parts.password:
        if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback_address(host)):
            return uri
    raise UsageError(f"--redirect-uri must be https://… or http://127.0.0.1:PORT/… (or [::1]), not {uri!r}")


def _is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sandbox(args: argparse.Namespace) -> int:
    from cli_errors import UsageError
    from sandbox.demo import seed_demo_member
    from sandbox.faults import RateLimit
    from sandbox.server import SandboxServer
    from sandbox.state import DEFAULT_REDIRECT_URI, RefreshRotation, SandboxState

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {args.port}")
    if args.rate_limit is not None and args.rate_limit < 1:
        raise UsageError(f"--rate-limit must be 1 or more calls per 30 s, not {args.rate_limit}")
    if args.rotate_refresh_tokens is not None and args.rotate_refresh_tokens < 1:
        raise UsageError(f"--rotate-refresh-tokens must be 1 or more, not {args.rotate_refresh_tokens}")
    redirect_uris = [check_redirect_uri(u) for u in args.redirect_uri or [DEFAULT_REDIRECT_URI]]
    library = parse_library(args.library)
    state = SandboxState(
        apps={args.client_id: args.client_secret},
        redirect_uris=redirect_uris,
        auto_approve=args.auto_approve,
        audio_features_enabled=args.audio_features == "on",
        rate_limit=RateLimit(args.rate_limit) if args.rate_limit else None,
        refresh_rotation=(RefreshRotation(args.rotate_refresh_tokens, grace_s=0)
                          if args.rotate_refresh_tokens else None),
    )
    if args.library == "demo":
        seed_demo_member(state, "sandbox-user", "Sandbox User")
    else:
        state.add_user("sandbox-user", "Sandbox User", library)

    async def serve() -> None:
        server = SandboxServer(state, args.host, args.port)
        try:
            base = await server.start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        playlists = len(state.playlists_of("sandbox-user"))
        print(f"Spotify sandbox on {base} with {len(library)} liked songs and {playlists} playlist(s) "
              "for 'sandbox-user'.")
        print("Registered redirect URIs: " + ", ".join(redirect_uris))
        print(f"Point genrebot at it: SPOTIFY_API_BASE={base}/v1 SPOTIFY_ACCOUNTS_BASE={base} "
              f"SPOTIFY_CLIENT_ID={args.client_id} SPOTIFY_CLIENT_SECRET={args.client_secret} "
              f"SPOTIFY_REDIRECT_URI={redirect_uris[0]}")
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
