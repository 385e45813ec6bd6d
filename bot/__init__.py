"""genrebot's Discord side and the services behind it.

Owns the Discord client (`bot.app.GenreBot`, one cog per feature in `bot.cogs`), the OAuth
callback web app (`bot.web`), the weekly scheduler (`bot.scheduler`), the Spotify client
(`bot.spotify`) and the services the cogs, the demo and the CLI share (`bot.services`).
`bot.services` and `bot.spotify` must not import discord; only `bot.app`, `bot.cogs` and
`bot.presenters` talk to Discord. Nothing here writes SQL: that is `storage`'s job.
"""
