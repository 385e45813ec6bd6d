"""The sandbox's Web API v1, one module per area: `profile` (/me), `liked_songs` (/me/tracks and
/me/library), `playlists`, `catalog` (look-ups and audio features) and `removed` (what
development-mode apps lost in 2026). `base` holds what they share; `objects` builds the JSON; `fields` filters it as `fields=` asks."""
