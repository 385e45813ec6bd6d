"""A local stand-in for Spotify's accounts service and Web API, for the demo and the tests.

An aiohttp app that speaks the real protocol (OAuth authorisation code flow, Web API v1 with
paging objects, error bodies, expiring tokens, fault injection) so the unmodified spotipy
client can run against it over real sockets. Must not import `bot`, `storage` or `classifier`.
"""
