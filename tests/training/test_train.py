"""Training steps (training/train.py): token dropout, validation, the held-out genre tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from classifier.features import FeatureSchema, artist_token_counts, featurise
from classifier.library import Pooling
from classifier.model import GenreNet, ModelConfig, NetInputs
from classifier.taxonomy import Taxonomy
from tests.classifier.test_inference import DESPACITO, ENTER_SANDMAN
from training.cli import SHIPPED_TAXONOMY
from training.data import SongRow
from training.train import TrainConfig, count_genres, drop_tokens, loss_of, split_validation
from training.tuning import keep_weights, tune_blend, tune_new_artist_balance, tune_sharpness


def test_token_dropout_keeps_at_least_one_token_per_song() -> None:
    """Even at a 100 % rate every song keeps its first token, so no bag is empty."""
    batch = featurise([DESPACITO, ENTER_SANDMAN], FeatureSchema())
    dropped = drop_tokens(batch, 1.0, np.random.default_rng(0))
    assert list(dropped.token_lengths()) == [1, 1]
    assert list(dropped.token_ids) == list(batch.token_ids[batch.token_offsets])


def test_token_dropout_hides_about_the_given_share() -> None:
    """At 20 % about a fifth of the n-grams go, each song's from its own tokens."""
    batch = featurise([DESPACITO, ENTER_SANDMAN] * 200, FeatureSchema())
    dropped = drop_tokens(batch, 0.2, np.random.default_rng(0))
    assert 0.75 < len(dropped.token_ids) / len(batch.token_ids) < 0.85
    assert set(dropped.token_ids[: dropped.token_offsets[1]]) <= set(batch.token_ids[: batch.token_offsets[1]])


def test_hiding_a_songs_artist_names_hides_exactly_its_last_tokens() -> None:
    """The tokens counted as the artists' are the last ones, and only they go (no random dropout)."""
    songs = [DESPACITO, ENTER_SANDMAN]
    batch = featurise(songs, FeatureSchema())
    counts = artist_token_counts(songs)
    hidden = drop_tokens(batch, 0.0, np.random.default_rng(0), np.array([counts[0], 0]))
    whole = [featurise([song], FeatureSchema()).token_ids.tolist() for song in songs]
    assert 0 < counts[0] < len(whole[0])
    assert list(hidden.token_ids[: hidden.token_offsets[1]]) == whole[0][: -counts[0]]
    assert list(hidden.token_ids[hidden.token_offsets[1]:]) == whole[1]
    artist_only = SongRow("", ("Daddy Yankee",), "", None, None, None, None)
    kept = drop_tokens(featurise([artist_only], FeatureSchema()), 0.0, np.random.default_rng(0),
                       artist_token_counts([artist_only]))
    assert kept.token_lengths().tolist() == [1]  # a song of nothing but an artist keeps its first token


def epochs_of(weights: list[float]) -> list[dict[str, torch.Tensor]]:
    return [{"weight": torch.tensor([[w]]), "bias": torch.tensor([0.0])} for w in weights]


def scored_by_closeness_to(target: float, net: torch.nn.Linear) -> Callable[[], dict[str, float]]:
    return lambda: {"f1": 1.0 - abs(float(net.weight.detach()) - target)}


def test_training_keeps_the_mean_of_epochs_when_validation_likes_it_better() -> None:
    """Epochs whose weights were 0, 2, 4 and 6; validation likes weights near 5, which only the mean
    of epochs 3-4 gives: those are kept and loaded."""
    net = torch.nn.Linear(1, 1)
    history = [{"epoch": e, "loss": 1.0, "score": 1.0 - abs(w - 5), "f1": 1.0 - abs(w - 5)}
               for e, w in enumerate([0.0, 2.0, 4.0, 6.0], start=1)]
    kept = keep_weights(net, epochs_of([0.0, 2.0, 4.0, 6.0]), history, scored_by_closeness_to(5.0, net))
    assert kept.epochs == [3, 4] and kept.describe() == "the mean of epochs 3-4's weights"
    assert float(net.weight.detach()) == 5.0 and kept.score == 1.0


def test_training_keeps_one_epoch_when_no_mean_beats_it() -> None:
    """Validation likes weights near 2 exactly: epoch 2 alone, loaded as it was."""
    net = torch.nn.Linear(1, 1)
    history = [{"epoch": e, "loss": 1.0, "score": 1.0 - abs(w - 2), "f1": 1.0 - abs(w - 2)}
               for e, w in enumerate([0.0, 2.0, 4.0, 6.0], start=1)]
    kept = keep_weights(net, epochs_of([0.0, 2.0, 4.0, 6.0]), history, scored_by_closeness_to(2.0, net))
    assert kept.epochs == [2] and kept.describe() == "epoch 2"
    assert float(net.weight.detach()) == 2.0 and kept.scores == {"score": 1.0, "f1": 1.0}


def test_validation_holds_out_whole_artists_and_some_songs_of_known_ones() -> None:
    """Unseen-artist validation rows share no artist with training; seen ones all do."""
    artists = np.array([i % 50 + 1 for i in range(1000)])
    split = split_validation(artists, 0.2, np.random.default_rng(0))
    train_artists = set(artists[split.train].tolist())
    assert not set(artists[split.unseen].tolist()) & train_artists
    assert set(artists[split.seen].tolist()) <= train_artists
    assert len(np.intersect1d(split.train, split.all)) == 0


def test_a_training_song_never_sees_its_own_label_in_its_artists_genres() -> None:
    """Held-out genre tables: a song's artist features come from the artist's other songs only."""
    keys = np.array([7, 7, 9])
    targets = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    table, features = count_genres(keys, targets, np.arange(3), folds=3, rng=np.random.default_rng(1))
    for row in range(3):
        others = [r for r in range(3) if keys[r] == keys[row] and r != row]
        if features[row, :2].sum() > 0:
            assert others and (features[row, :2] > 0).tolist() == (targets[others].sum(0) > 0).tolist()
    assert table.features(np.array([7]))[0, :2].tolist() == [0.5, 0.5]


def test_an_artist_without_other_training_songs_reads_as_unknown() -> None:
    """A lone song's artist features are zeros (what an unseen artist looks like)."""
    _, features = count_genres(np.array([3, 4]), np.eye(2, dtype=np.float32), np.arange(2), folds=2,
                               rng=np.random.default_rng(0))
    assert not features.any()



def test_blend_weights_are_tuned_per_kind_of_song() -> None:
    """Where only the names are right (new artists) the blend leans on them; where only the
    network is right (known artists) it keeps the network."""
    taxonomy = Taxonomy.load(Path("training/taxonomy.json"))
    n, genres = 200, len(taxonomy.genres)
    truth = np.arange(n) % 4 * 7  # four genres in four different families
    def peaked(genre: np.ndarray, peak: float) -> np.ndarray:
        out = np.full((n, genres), (1 - peak) / genres, dtype=np.float32)
        out[np.arange(n), genre] += peak
        return out

    known = np.arange(n) < n // 2
    # Each is confidently wrong where the other is (less confidently) right: only a weight past
    # one half lets the names win for new artists.
    network = np.where(known[:, None], peaked(truth, 0.6), peaked(truth + 3, 0.9))
    names = np.where(known[:, None], peaked(truth + 3, 0.9), peaked(truth, 0.6))
    label_sets: list[tuple[int, ...]] = [(int(g),) for g in truth]
    blend = tune_blend([network, network], names, known, [np.ones(n, dtype=bool), np.zeros(n, dtype=bool)],
                       label_sets, taxonomy)
    assert blend.known_artist_with_audio < 0.5 and blend.known_artist_without_audio < 0.5
    assert blend.new_artist_with_audio > 0.5 and blend.new_artist_without_audio > 0.5


def test_the_decision_sharpness_is_tuned_to_stop_many_genre_families_taking_unsure_songs() -> None:
    """Validation songs of a one-genre family, unsure between it and a seven-genre family's thin genres: sharpening wins."""
    taxonomy = Taxonomy.load(SHIPPED_TAXONOMY)
    sizes = np.bincount(taxonomy.genre_family)
    one = int(np.flatnonzero(taxonomy.genre_family == sizes.argmin())[0])
    many = [int(g) for g in np.flatnonzero(taxonomy.genre_family == sizes.argmax())[:7]]
    views = np.full((40, len(taxonomy.genres)), 1e-4, dtype=np.float32)
    views[:20, one], views[:20, many] = 0.3, 0.1  # truly `one`, unsure
    views[20:, many[0]], views[20:, one] = 0.6, 0.1  # truly many[0], sure
    views /= views.sum(axis=1, keepdims=True)
    labels: list[tuple[int, ...]] = [(one,) if i < 20 else (many[0],) for i in range(40)]
    batch = featurise([SongRow(f"song {i}", (f"artist {i}",), f"album {i}", "2001", 200_000, False, None)
                       for i in range(40)], FeatureSchema())
    power, _ = tune_sharpness([views], batch, labels, taxonomy)
    assert power > 1.0


def test_new_artists_genre_balance_evens_out_a_genre_the_model_says_too_often() -> None:
    """Validation songs by new artists, truly split between two genres of one family, all lean to
    the first: the tuned balance weights the first down so the second gets its songs; songs by a
    known artist count for nothing; with nothing to mend the strength is 0."""
    taxonomy = Taxonomy.load(SHIPPED_TAXONOMY)
    first, second = (int(g) for g in np.flatnonzero(taxonomy.genre_family == taxonomy.family_index["rock"])[:2])
    views = np.full((60, len(taxonomy.genres)), 1e-4, dtype=np.float32)
    views[:, first] = 0.5
    views[30:, second] = np.linspace(0.3, 0.45, 30)  # truly `second`, but `first` is said louder
    views[:30, second] = 0.1
    views /= views.sum(axis=1, keepdims=True)
    labels: list[tuple[int, ...]] = [(first,) if i < 30 else (second,) for i in range(60)]
    batch = featurise([SongRow(f"song {i}", (f"artist {i}",), f"album {i}", "2001", 200_000, False, None)
                       for i in range(60)], FeatureSchema())
    none_known = np.zeros(60, dtype=bool)
    strength, weights = tune_new_artist_balance([views], batch, none_known, labels, taxonomy, Pooling())
    assert strength > 0 and weights[first] < weights[second]
    balanced = taxonomy.rebalanced(views, weights, np.arange(60))
    assert (taxonomy.decide(balanced)[1][30:] == second).mean() > 0.5
    assert tune_new_artist_balance([views], batch, np.ones(60, dtype=bool), labels, taxonomy, Pooling())[0] == 0.0
    fair = np.full_like(views, 1e-4)
    fair[np.arange(60), [first] * 30 + [second] * 30] = 0.9
    fair /= fair.sum(axis=1, keepdims=True)
    assert tune_new_artist_balance([fair], batch, none_known, labels, taxonomy, Pooling())[0] == 0.0


def small_net(seed: int) -> GenreNet:
    torch.manual_seed(seed)
    return GenreNet(ModelConfig(hash_buckets=64, context_size=3, n_genres=4)).eval()


def random_songs(n: int, seed: int) -> NetInputs:
    rng = np.random.default_rng(seed)
    config = ModelConfig(hash_buckets=64, context_size=3, n_genres=4)
    return NetInputs.from_numpy(rng.integers(0, 64, 3 * n), np.arange(0, 3 * n, 3),
                                rng.standard_normal((n, config.numeric_size)).astype(np.float32),
                                rng.random((n, 3)).astype(np.float32),
                                rng.integers(0, config.binned_features * (config.n_bins + 1), (n, config.binned_features)))


def test_distillation_adds_a_term_that_is_least_when_the_network_agrees_with_its_teacher() -> None:
    """With a teacher the loss grows by its distillation term: smaller for a network that already
    says what the teacher says than for one that does not, and nothing at all at weight 0."""
    songs, targets = random_songs(32, 0), torch.eye(4)[torch.arange(32) % 4]
    membership = torch.eye(4)
    teacher, stranger = small_net(1), small_net(2)
    pupil = small_net(1)  # the teacher's own weights
    config = TrainConfig(teacher_weight=1.0, label_smoothing=0.0)
    with torch.no_grad():
        agreeing = loss_of(pupil, songs, targets, membership, config, teacher) - loss_of(pupil, songs, targets, membership, config)
        disagreeing = (loss_of(stranger, songs, targets, membership, config, teacher)
                       - loss_of(stranger, songs, targets, membership, config))
        off = (loss_of(stranger, songs, targets, membership, TrainConfig(teacher_weight=0.0), teacher)
               - loss_of(stranger, songs, targets, membership, TrainConfig(teacher_weight=0.0)))
    assert 0 < agreeing < disagreeing
    assert off == 0


def test_distillation_pulls_the_network_towards_its_teachers_probabilities() -> None:
    """Trained on labels that say nothing (every genre alike), a network learns the teacher's
    answers from the distillation term alone."""
    songs, uniform = random_songs(64, 3), torch.full((64, 4), 0.25)
    teacher, pupil = small_net(4), small_net(5)
    config = TrainConfig(teacher_weight=1.0, teacher_temperature=1.0, label_smoothing=0.0, tabular_weight=0.0,
                         family_weight=0.0)
    with torch.no_grad():
        wanted = teacher(songs)[0].argmax(1)
        before = float((pupil(songs)[0].argmax(1) == wanted).float().mean())
    optimiser = torch.optim.Adam([p for n, p in pupil.named_parameters() if not n.startswith("tokens.")], lr=1e-2)
    for _ in range(150):
        optimiser.zero_grad()
        loss_of(pupil, songs, uniform, torch.eye(4), config, teacher).backward()
        optimiser.step()
    with torch.no_grad():
        after = float((pupil(songs)[0].argmax(1) == wanted).float().mean())
    assert before < 0.6 and after > 0.9
