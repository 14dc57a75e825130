import numpy as np
import pytest

from tinygrad_np.data import DataLoader


def test_batches_cover_every_row_once():
    x, y = np.arange(10), np.arange(10) * 10
    batches = list(DataLoader(x, y, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    for xb, yb in batches:
        np.testing.assert_array_equal(yb, xb * 10)


def test_drop_last_and_len():
    loader = DataLoader(np.arange(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b) for (b,) in loader] == [4, 4]
    assert len(DataLoader(np.arange(10), batch_size=4)) == 3


def test_shuffle_is_seeded_and_differs_between_epochs():
    x = np.arange(100)
    a = DataLoader(x, batch_size=100, shuffle=True, rng=1)
    b = DataLoader(x, batch_size=100, shuffle=True, rng=1)
    (first_a,), (second_a,) = next(iter(a)), next(iter(a))
    np.testing.assert_array_equal(first_a, next(iter(b))[0])
    assert not np.array_equal(first_a, second_a)
    assert sorted(first_a) == list(x)


def test_mismatched_lengths_name_the_arrays():
    with pytest.raises(ValueError, match="array 0 has 3 rows but array 1 has 2"):
        DataLoader(np.zeros(3), np.zeros(2))


def test_one_array_gives_1_tuples_as_pytorchs_tensordataset():
    batches = list(DataLoader(np.arange(5), batch_size=2))
    assert all(isinstance(b, tuple) and len(b) == 1 for b in batches)
    assert [b[0].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
