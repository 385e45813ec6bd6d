"""How many of a sort's songs are by artists the model met in training, and when a member should
be told: the one rule `/sort`, the weekly refresh, the demo and `genrebot sort --csv` share.

The model places songs by artists in its artist table far more surely (genre macro-F1 0.94-0.95) than
songs by artists it never met, which it places from their names and album and the member's
other songs by the same artist (family macro-F1 about 0.55-0.67 as a library). A library mostly of
the latter (local scenes, new releases, markets the training data barely covers) is sorted less
well, and genrebot says so rather than let the member find out. Pure data, no heavy imports: the
command line's `sort` uses it without loading the bot's services.
"""

from __future__ import annotations

from dataclasses import dataclass

# At or above this share of songs by known artists, nothing is said: the few others cost a member
# a song or two in the wrong playlist, no more than the model's usual misses on known artists.
QUIET_SHARE = 0.9


@dataclass(frozen=True)
class KnownArtists:
    songs: int  # songs placed (each had a track to classify)
    known: int  # of them, by a primary artist in the model's artist table (`Classifier.known_artists`)

    @property
    def unknown(self) -> int:
        return self.songs - self.known

    @property
    def worth_telling(self) -> bool:
        """Whether to tell the member: more than a tenth of the songs are by artists the model never met."""
        return self.songs > 0 and self.known < QUIET_SHARE * self.songs
