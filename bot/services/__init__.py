"""Services shared by the Discord cogs, the demo and the command line.

Linking accounts, sorting Liked Songs into playlists, weekly refreshes, stats and charts live
here as plain async classes. Must not import discord: the Discord layer translates interactions
into calls on these and their results into embeds.
"""
