"""Offline training and evaluation of the genre classifier.

Owns loading and cleaning the public Spotify data-set layouts (`data.py`), training
(`train.py`) and evaluation with the baselines (`evaluate.py`). May import `classifier` and
pandas/scikit-learn; must not import `bot`, `storage` or discord. The bot process never imports it
(only the offline `genrebot sort --csv` command reuses its CSV loader).
"""
