"""classifier/float16.py: torch's conversion gives numpy's bits, subnormal float16 values included."""

from __future__ import annotations

import numpy as np

from classifier.float16 import HALF, to_float16, to_float32


def probabilities_with_every_kind_of_value() -> np.ndarray:
    """Songs' probabilities as the model gives them (most far below float16's smallest normal
    number, 6.1e-5), plus 0, 1, values that round to 0 in float16, and the largest float16."""
    rng = np.random.default_rng(3)
    values = rng.dirichlet(np.full(124, 0.05), size=500).astype(np.float32)
    values[0, :6] = [0.0, 1.0, 1e-9, 2.9e-8, 6.0e-8, 65504.0]
    return values


def test_to_float16_gives_numpys_bits() -> None:
    values = probabilities_with_every_kind_of_value()
    assert (values < 6.1e-5).mean() > 0.5  # the case numpy is slow on is most of the array
    ours, numpys = to_float16(values), values.astype(HALF)
    assert ours.dtype == HALF and ours.shape == values.shape
    assert ours.tobytes() == numpys.tobytes()


def test_to_float32_gives_numpys_values_from_stored_bytes() -> None:
    """Read back from bytes (a read-only buffer, as stored blobs are) to the same float32 values."""
    stored = to_float16(probabilities_with_every_kind_of_value()).tobytes()
    halves = np.frombuffer(stored, dtype=HALF).reshape(500, 124)
    ours = to_float32(halves)
    assert ours.dtype == np.float32
    assert ours.tobytes() == halves.astype(np.float32).tobytes()
