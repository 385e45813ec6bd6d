"""Services shared by the Discord cogs, the demo, the benchmarks and the command line.

Linking accounts (`linking`), sorting Liked Songs into playlists (`sorting/`, one module per
step), the weekly refresh (`weekly_refresh`; its schedule's time rules in `weekly_schedule`), stats
and leaderboards (`stats`), whether the Spotify app gets audio features (`audio_features`), as
plain async classes that `root.Services` builds and hands what they use. No discord here
(tests/test_layers.py: services-know-no-discord): the Discord layer translates interactions into
calls on these and their results into embeds.
"""
