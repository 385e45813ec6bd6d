"""genrebot's Discord side and the services behind it.

The Discord layer translates: `bot.discord_bot.GenreBot` loads one cog per feature
(`bot.cogs`), every command passes through `bot.command_tree` (rate limit, error replies),
`bot.presenters` turns results into messages and `bot.choices` completes options. Behind it,
`bot.services` (no discord) links accounts, sorts, refreshes weekly and counts, for the cogs,
the demo and the CLI alike; `bot.services.root.Services` builds them. `bot.spotify` is the
Spotify client; `bot.web` serves the OAuth callback. Nothing here writes SQL: that is
`storage`'s job. tests/test_layers.py enforces these boundaries.
"""
