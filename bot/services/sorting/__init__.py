"""Sorting a member's Liked Songs into one Spotify playlist per genre.

`SortService.sort` (service.py) runs the steps in order, one module each: read the library
(reading.py), classify what this model has not seen (classifying.py), plan the playlists
(`bot.services.playlist_plan`), write them (writing.py, with targets.py and unplanned.py); report.py holds what a caller gets
back (progress while it runs, the report at the end). Blocking work (spotipy, torch,
matplotlib) runs in threads; classification shares one small pool. The steps overlap where
nothing is lost by it: Liked Songs pages are classified while the rest are read
(`classifying.ReadAhead`), and the chart is drawn while the playlists are written; pooling and
the plan wait for the whole library.
"""

from bot.services.sorting.report import PlaylistOutcome, ProgressCallback, SortProgress, SortReport
from bot.services.sorting.service import SortService

__all__ = ["PlaylistOutcome", "ProgressCallback", "SortProgress", "SortReport", "SortService"]
