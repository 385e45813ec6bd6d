"""A local Discord (REST + gateway) for end-to-end tests of the real, unmodified discord.py client.

Point discord.py at it with `discord.http.Route.BASE = server.api_base` and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)` (restore both
afterwards), then log in with `server.token`. Everything travels over real sockets.

    server = DiscordStandIn(guild_ids=(GUILD,))          # switches below
    await server.start(); ...; await server.wait_ready()  # the bot identified
    record = await server.invoke("sort", {"genres": "Rock"}, user_id=USER)    # a member's command
    await record.wait_acknowledged(); reply = await record.wait_for(lambda m: bool(m.embeds))
    choices = await server.autocomplete("sort", "genres", "ro", user_id=USER)
    assert not server.violations                          # no Discord rule was broken

What a member can send: `invoke` and `autocomplete` raise AssertionError ("Discord refuses …: not one
of its choices", "…: above its max_value 23", "…: not an integer") for a value outside an option's
synced `choices`, of the wrong type for the option, outside its `min_value`/`max_value` or
`min_length`/`max_length`, and dispatch nothing: Discord's client does not send such values and its
API refuses them. Text a member would type is typed per the option ("8" for an integer, "false" for
a boolean). The option focused in an autocomplete interaction is sent as typed, unchecked, as
Discord sends it. Options that autocomplete or list no choices take any text within their lengths.
A global command is offered only in its synced `contexts` (a guild-only one, `contexts` [0] or
`dm_permission` false, raises in a DM); a guild command only in its guild.

Switches (keyword arguments of `DiscordStandIn`, also attributes):
- `rate_limits=RateLimits(...)`: the buckets, see `rate_limits.py`. Defaults: 5 messages per 5 s
  per channel, 5 per 2 s per interaction token (follow-ups, edits and reads share the bucket),
  50 requests per second globally (interaction endpoints exempt, as on Discord), 10 DM opens per
  10 s, 10 member look-ups per second per guild, 5 command syncs per 20 s, 30 per second on any
  other route, and a Cloudflare ban (429, text body, no `Via`) after 10,000 answers of 401, 403 or
  429 in 10 minutes. `RateLimits.unlimited()` and `RateLimits().with_(channel_messages=Bucket(2, 5))`
  change them; `server.rate_limits = ...` changes them on a running server.
- `attachment_size_limit=10 MiB`: sent in every interaction (discord.py reads it) and enforced
  on every file of every message: 413 40005 "Request entity too large" above it.
- `token_lifetime_s=900`: how long an interaction token can edit @original and follow up.
- Command sync: `PUT` replaces the whole set of its scope (global, or one guild): a command left
  out of it is deleted and can no longer be invoked.
- `validate_bodies=True`: every JSON body is also checked against Discord's OpenAPI description
  (`../shared/specs/discord-api.openapi.json`, see `spec.py`; off when that file is absent), after
  the precise rules below: a departure is 400 50035 naming the field, and a violation.
- `portal_intents=0`: the privileged intents (bit field, e.g. `INTENT_GUILD_MEMBERS`) switched on
  for the application. IDENTIFY asking for one that is off is closed with 4014 (discord.py raises
  PrivilegedIntentsRequired); `GET /guilds/{id}/members` (the list) answers 403 50001 without it.
- `heartbeat_interval_s=41.25`: what HELLO asks for. A connection whose event loop was held for
  more than 1.5 intervals of CPU time between two beats, or that sends none for 10 intervals, is
  closed with 4009 "Session timed out." and is a violation (the graces are the stand-in's; Discord
  publishes none): with a short interval, an event loop blocked by the bot shows as a missed beat,
  and a loaded machine, which only makes beats late, does not (see `gateway.py`).
- `max_guilds_per_shard=2500`: sharding as on Discord (see `gateway.py`). `GET /gateway/bot`
  recommends `shards` (one per 1,000 guilds, enough to keep each under this limit) with
  `session_start_limit`; IDENTIFY's `[shard_id, shard_count]` picks the guilds
  (`(guild_id >> 22) % shard_count`); a shard over the limit is closed with 4011 (discord.py
  raises ConnectionClosed), an impossible shard with 4010. `server.identifies` lists the
  accepted (shard_id, shard_count) pairs; events go to their guild's shard (DMs to shard 0).

The clock: `server.now()` is monotonic time plus `server.clock_offset`; `server.advance(seconds)`
fast-forwards it. It decides token expiry (15 minutes), the 3-second acknowledgement (the late-ack
violation itself is noticed after 3 real seconds) and rate-limit windows, so a test shows a
16-minute sort without waiting. `record.expires_at` says when an interaction's token dies.

Members and DMs: a user who runs a command in a guild is its member; `await add_member(guild, user)`
and `await remove_member(guild, user)` change that (GUILD_MEMBER_ADD/REMOVE reach only a session
that identified with the members intent; a removed member cannot run commands there until added
back). Any bot may ask `GET /guilds/{id}/members/{user}`: the member, or 404 10007 "Unknown Member".
A DM (`POST /users/@me/channels`, then a message) to a user who shares no guild with the bot, or
who closed their DMs (`close_dms(user)`, `open_dms(user)`), gets 403 50007 "Cannot send messages to
this user" (discord.Forbidden, `.code == 50007`); delivered DMs are in `server.dms[user]`;
`await server.wait_for_dm(user, predicate)` waits for one.
`rename(user, global_name=, username=)` changes the names every payload gives a user (Discord's
rules: a display name 1-32 characters, markdown included; a username 2-32 of a-z, 0-9, "_", ".").

Discord OAuth2 (a website signing a person in with Discord, `oauth2.py`): `/oauth2/authorize` on
`server.web_base`, `POST {api_base}/oauth2/token`, `GET {api_base}/users/@me` with a bearer token.
The client id is the application id, the secret `oauth_client_secret=`, the redirect URIs
`oauth_redirect_uris=` (exact; nothing is registered by default). A test browser signs in by
opening `server.login_url(user_id)` with its own cookie jar; `prompt=none` skips the consent
screen for scopes that user already authorised.

Rules enforced on what the bot sends (each refusal answered as Discord answers it; a rule the bot
should never break is also appended to `server.violations`):
- acknowledgement of a command or an autocomplete within 3 s (later: 404 10062), once (again:
  400 40060), by a callback the interaction takes (a command 4, 5 or 9; an autocomplete only 8;
  else 400 50035 "In type: Value must be one of {8}.");
- edits, reads and follow-ups only once the interaction was answered (before: 404 10015 "Unknown
  Webhook") and within the token's lifetime (after: 401 50027 "Invalid Webhook Token");
- content <= 2,000 characters, <= 10 embeds and their field limits (a blank field name or value
  is refused as missing), <= 6,000 embed characters,
  <= 5 action rows, button shapes; command sync as Discord checks it (`rules.sync_problems`:
  lowercase names of letters, digits, '-', '_', "'"; descriptions 1-100; <= 25 options, required
  before optional, unique names; <= 25 choices; length bounds; 4,000 characters a command; unique
  command names) (400 50035 "Invalid Form Body" with the nested `errors` discord.py prints);
- no empty message (no content, embeds, attachments, stickers, components): 400 50006;
- autocomplete answers: <= 25 choices, names 1-100 characters, string values 1-100 characters,
  values of the focused option's type, integers/numbers within +/-2^53 (400 50035 under
  `data.choices`); `autocomplete()` raises when refused, `autocomplete_record()` lets a test look;
- attachment size (413 40005), at most 10 files a message (400 30015), rate limits (429, see above);
- channel permissions (`deny_in_channel(guild, ATTACH_FILES | EMBED_LINKS)`, bits in `guilds.py`):
  interactions from that channel carry `app_permissions` without them, and a response, edit or
  follow-up with a file without Attach Files, or with embeds without Embed Links, is 403 50013
  "Missing Permissions" (not a violation: a bot may try and fall back). Those are the permissions
  Discord applies to interaction responses ("currently ATTACH_FILES, EMBED_LINKS, MENTION_EVERYONE,
  and USE_EXTERNAL_EMOJIS", its change log of 29 June 2022); Send Messages and View Channel are not,
  so text replies always go. DMs always allow both.

Fault hooks: `await drop_connection()` (resumable close; missed dispatches replayed on RESUME),
`await request_reconnect()` (op 7 Reconnect: the client closes and resumes),
`await invalidate_sessions(resumable=False)` (op 9 Invalid Session: the sessions are gone, the
client identifies anew, and dispatches meanwhile are lost as on Discord),
`throttle(count, retry_after=, scope=, method=, path_prefix=)` (the next matching requests get a 429),
`fail(count, status=503, method=, path_prefix=)` (the next matching requests get a 5xx, as in a
Discord outage; discord.py's webhook adapter retries any 5xx five times, sleeping 1-9 s between),
`advance(seconds)`, `close_dms(user)`, `remove_member(guild, user)`, `deny_in_channel(guild, bits)`,
`move_commands_to(guild, "thread" | "forum post" | "voice")` (the interaction's channel is a
thread, a forum's post or a voice channel's text chat; replies follow the same rules there),
`await remove_bot(guild)` (GUILD_DELETE: the bot was kicked; its member look-ups there are 403
50001) and `await add_bot(guild)` (a re-invite: GUILD_CREATE).

What it remembers: `requests` (every REST call, with its answer's `status`), `interactions[token]`
(`InteractionRecord`: responses, `rejected` (status, code) pairs, `wait_rejected(code)`),
`rate_limited` (every 429 as a `RateLimitHit`), `synced_commands`, `dms`, `violations`
(`take_violations()` empties it for a test that broke a rule on purpose).
"""

from tests.discord_standin.base import INTENT_GUILD_MEMBERS, MIB
from tests.discord_standin.rate_limits import Bucket, RateLimits
from tests.discord_standin.records import InteractionRecord, Message, RateLimitHit, RecordedRequest
from tests.discord_standin.rules import check_message, form_errors, message_pings_everyone
from tests.discord_standin.server import DiscordStandIn

__all__ = [
    "INTENT_GUILD_MEMBERS",
    "MIB",
    "Bucket",
    "DiscordStandIn",
    "InteractionRecord",
    "Message",
    "RateLimitHit",
    "RateLimits",
    "RecordedRequest",
    "check_message",
    "form_errors",
    "message_pings_everyone",
]
