"""A local stand-in for Spotify's accounts service and Web API, for the demo and the tests.

An aiohttp app that speaks the real protocol (OAuth authorisation-code flow with a consent
page, Web API v1 with paging objects, Spotify's error bodies, expiring tokens) so the unmodified
spotipy client can run against it over real sockets. Must not import `bot`, `storage` or
`classifier`. Layout: `state` (what it knows) with `records`, `tokens`, `faults`,
`persistence`; `accounts` (/authorize, /api/token); `api/` (the Web API by area); `server`
(the app, one middleware, `SandboxServer`, `SandboxThread`); `library`/`demo` (seed data);
`cli` (`genrebot sandbox`).

Always on, because Spotify always does it (development-mode app, 2026):
- exact registered redirect URIs (default only http://127.0.0.1:8888/callback, the bot's
  default; `SandboxState(redirect_uris=...)`, `genrebot sandbox --redirect-uri URI`, repeatable);
- granted scopes: a call without its scope answers 403 "Insufficient client scope" (`scopes`);
- `show_dialog=true` always shows the consent page, which names the Spotify user approving
  (`?sandbox_user=ID` picks the user; the page links to the others);
- playlist items readable only by the owner and collaborators (403 for anyone else), other
  users' playlists give metadata without items; `GET /me/playlists` lists owned, followed and
  collaborative playlists as the scopes allow;
- endpoints removed for development-mode apps answer 403 "Forbidden" (`api.removed`);
- only catalogue URIs can be added ("Payload contains a non-existing ID"), no local files in an
  add or a replace, 100 per request, 10,000 per playlist (400 "Playlist size limit reached");
  names up to 100 characters; descriptions over 300 characters or with line breaks get 500, as
  Spotify answers them, and none can be changed to "" (400 "Attribute description is empty.");
- `fields=` on a playlist or its items returns only the fields named, as documented (a bot that
  reads a field it did not ask for gets nothing, as from Spotify);
- playlist descriptions are answered HTML-escaped (`&amp;`, `&#x27;`, `&#x2F;`), as Spotify does;
- malformed numbers (`limit=abc`, `offset=-1`, huge values, a non-integer `position`) get 400;
- refresh tokens expire six months after the user's approval; refreshing does not extend that.

Switches, off by default because Spotify does it only under load, by accident or on request
(each has a self-test in tests/sandbox):
- `auto_approve=True` (default; CLI `--auto-approve`): the scripted user approves at once,
  unless the app sends `show_dialog=true`. With False, the page shows until the user approved.
- `audio_features_enabled` (CLI `--audio-features on`): an old extended-quota app that still
  gets /audio-features; off, it answers 403 as for every new app.
- `rate_limit=RateLimit(requests, window_s=30, penalty_s=None)` (CLI `--rate-limit N`): 429s
  with Retry-After that emerge from load over each app's rolling window.
- `exceed_quota(retry_after, client_id=None, lasts_s=None)` / `lift_quota()`: every call of the
  app answers 429 with `"reason": "QUOTA_EXCEEDED"`, Retry-After as given (None: no header;
  `"inf"`, `"1e12"`, `"soon"` are sent verbatim).
- `refresh_rotation=RefreshRotation(every, grace_s)` (CLI `--rotate-refresh-tokens N`): some
  refreshes return a new refresh token; the old one is refused after `grace_s` (default: never,
  as Spotify for an app with a client secret; 0 plays PKCE's single-use tokens).
- `inject(status | "drop" | "hang" | "cut" | "garbled", count, method=, path_prefix=, retry_after=,
  reason=, after_processing=False)`: the next matching requests fail; with `after_processing=True`
  they take effect first and only the answer is lost (5xx, dropped connection, or a hang the client
  times out on); "cut" always takes effect and breaks the connection halfway through the answer's body;
  "garbled" answers 200 with a body that is not JSON (a proxy's HTML error page; after processing,
  the real answer's first half under a Content-Length that says it is whole).
  At `path_prefix="/api/token"` an answered fault uses the accounts service's error form
  (`{"error": reason, "error_description": message}`) with its Retry-After.
- `during_liked_read(user, action, after_page=)` / `like_during_read(...)`: the library changes
  between two Liked Songs pages; `hold_liked_page(user, offset, until, then_status=)`: one page
  is answered (or refused with `then_status`) only once the awaitable `until()` returns, a slow
  page a test can see a client work around; `make_unavailable(ids)` and `like_local_file(...)` put `null`
  and local entries in pages; `make_unlisted(ids)`: songs counted in Liked Songs' total but left
  out of its pages (short pages with `next` set, a last page that may be empty); `add_playlist`, `follow`, `collaborate` give users playlists of
  their own, of others and shared ones, with songs, local files and episodes (an episode is an
  episode object only when `additional_types` names it, else dressed as a track, as Spotify does);
  `relink(id, instead)` and `make_unplayable(ids)`: Track Relinking, seen only by a request naming
  a `market` (`is_playable`, `restrictions`; `linked_from` only with `extended_quota = True`), as
  Spotify's docs describe it.
- `after_request(method, path_prefix, action, count=1)` and `edit_by_hand(playlist_id, change)`: a
  member edits, reorders, renames, unfollows or shares a playlist in their app between two of a
  client's requests (each change gives the playlist a new snapshot id, as Spotify does).
- `deprecated_track_fields = False`: the end of the 2026 deprecation window: playlist entries
  carry `item` only and playlist objects `items` only (no `track` / `tracks`).
- `extended_quota = True`: an app Spotify moved to extended quota mode, which keeps what the
  February 2026 change took from development-mode apps: track and album `available_markets`,
  track `linked_from`, show `available_markets` and `publisher` (off: a development-mode app).
- `owner_premium = False`: the development-mode app's owner lost Premium: tokens are still
  issued, but every Web API call answers 403 "Active premium subscription required for the
  owner of the app".
- `withhold_scopes(user, scopes)`: tokens granted fewer scopes than asked, the answer's `scope`
  saying so; `tokens.answer_fields = {"expires_in": OMITTED | 0 | "3600" | ...}`: token answers
  with a missing or odd field (`sandbox.tokens`).
- `latency_s`, `access_token_ttl_s`, `expire_access_tokens()`, `revoke_refresh_tokens(user)`,
  `SandboxUser.registered = False` (a user the app's owner has not listed: 403 "The user is not
  registered for this application...", Spotify's 2026 wording, as plain text, not the JSON error object).
"""
