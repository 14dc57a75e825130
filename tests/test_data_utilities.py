"""PyTorch's data utilities (issue 29, item 9): the Dataset protocol, TensorDataset, DataLoader(dataset, ...) with
PyTorch's semantics, transforms for images held as arrays, and save_image."""
import io
import os

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np.data import DataLoader, Dataset, TensorDataset, default_collate, make_grid, save_image, transforms


class Squares(Dataset):
    """A dataset written as a PyTorch user writes one: an item is (x, x², a label, a dict)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i], np.float32), float(i * i), i % 3, {"id": i, "name": f"item{i}"}


def test_the_dataset_protocol_and_tensordataset():
    assert isinstance(Squares(3), Dataset) and isinstance(np.zeros(3), Dataset) and not isinstance(3, Dataset)
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ds = TensorDataset(x, tg.Tensor(y))
    assert len(ds) == 6 and ds.tensors[0] is x
    first = ds[2]
    assert isinstance(first, tuple) and first[0].tolist() == [4.0, 5.0] and first[1].item() == 2
    assert isinstance(TensorDataset(x)[0], tuple)
    with pytest.raises(ValueError, match="TensorDataset: array 0 has 6 rows but array 1 has 5"):
        TensorDataset(x, y[:5])
    with pytest.raises(TypeError, match="TensorDataset: each argument must be an array or Tensor with rows, argument "
                                        "1 is list"):
        TensorDataset(x, [1, 2])


def test_a_dataloader_over_a_dataset_batches_as_pytorchs():
    loader = DataLoader(Squares(7), batch_size=3)
    assert loader.dataset.n == 7 and len(loader) == 3 and len(loader.dataset) == 7
    batches = list(loader)
    xb, sq, label, info = batches[0]
    assert xb.shape == (3, 2) and xb.dtype == np.float32
    assert sq.dtype == np.float64 and sq.tolist() == [0.0, 1.0, 4.0]  # Python floats: float64, as PyTorch's collate
    assert label.dtype == np.int64 and label.tolist() == [0, 1, 2]
    assert info["id"].tolist() == [0, 1, 2] and info["name"] == ["item0", "item1", "item2"]
    assert [len(b[1]) for b in batches] == [3, 3, 1]
    assert [len(b[1]) for b in DataLoader(Squares(7), batch_size=3, drop_last=True)] == [3, 3]
    assert len(DataLoader(Squares(7), batch_size=3, drop_last=True)) == 2
    assert len(list(DataLoader(Squares(4)))) == 4  # batch_size=1 by default, as PyTorch


def test_sampler_and_collate_fn():
    order = [5, 0, 3]
    loader = DataLoader(Squares(6), batch_size=2, sampler=order, collate_fn=lambda items: [it[2] for it in items])
    assert list(loader) == [[2, 0], [0]] and len(loader) == 2
    with pytest.raises(ValueError, match="sampler and shuffle=True both choose the order"):
        DataLoader(Squares(6), sampler=order, shuffle=True)


def test_shuffle_draws_each_epoch_from_the_global_generator_or_rng():
    loader = DataLoader(TensorDataset(np.arange(20)), batch_size=20, shuffle=True)
    tg.manual_seed(3)
    epochs = [next(iter(loader))[0] for _ in range(3)]
    tg.manual_seed(3)
    assert all(np.array_equal(a, next(iter(loader))[0]) for a in epochs)
    assert sorted(epochs[0]) == list(range(20)) and not np.array_equal(epochs[0], epochs[1])
    seeded = DataLoader(np.arange(20), batch_size=20, shuffle=True, rng=5)
    np.testing.assert_array_equal(next(iter(seeded))[0], np.random.default_rng(5).permutation(20))


def test_the_tensordataset_fast_path_equals_the_default_collate():
    x, y = np.arange(30.0).reshape(10, 3), np.arange(10) * 2
    for shuffle in (False, True):
        tg.manual_seed(1)
        fast = list(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=shuffle))
        tg.manual_seed(1)
        slow = list(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=shuffle, collate_fn=default_collate))
        for a, b in zip(fast, slow, strict=True):
            assert len(a) == len(b) == 2
            for u, v in zip(a, b, strict=True):
                assert u.dtype == v.dtype and np.array_equal(u, v)
    tensors = list(DataLoader(TensorDataset(tg.Tensor(x)), batch_size=4))
    assert isinstance(tensors[0][0], tg.Tensor) and tensors[0][0].shape == (4, 3)


def test_todays_dataloader_over_arrays_still_works():
    x, y = np.arange(10), np.arange(10) * 10
    batches = list(DataLoader(x, y, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)
    assert [b.tolist() for (b,) in DataLoader(x, batch_size=6)] == [list(range(6)), list(range(6, 10))]
    with pytest.raises(ValueError, match="DataLoader: array 0 has 10 rows but array 1 has 3"):
        DataLoader(x, y[:3])
    with pytest.raises(TypeError, match="DataLoader: got 64 after the dataset; give batch_size=64 by name"):
        DataLoader(Squares(3), 64)
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive integer, got 0"):
        DataLoader(x, batch_size=0)
    with pytest.raises(TypeError, match="DataLoader: the dataset must have __len__ and __getitem__"):
        DataLoader(5)


def test_default_collate_refuses_what_it_cannot_join():
    with pytest.raises(ValueError, match="default_collate: the items of a batch differ in shape"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="default_collate: cannot join items of type object"):
        default_collate([object(), object()])
    joined = default_collate([tg.Tensor([1.0, 2.0]), tg.Tensor([3.0, 4.0])])
    assert isinstance(joined, tg.Tensor) and joined.shape == (2, 2)


def test_against_torchs_dataloader():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader

    for kwargs in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": 4, "sampler": [4, 1, 6]}):
        ours = list(DataLoader(Squares(7), **kwargs))
        theirs = list(TorchLoader(Squares(7), **kwargs))
        assert len(ours) == len(theirs) == len(DataLoader(Squares(7), **kwargs)) == len(TorchLoader(Squares(7),
                                                                                                  **kwargs))
        for a, b in zip(ours, theirs, strict=True):
            for u, v in zip(a[:3], b[:3], strict=True):
                assert str(v.dtype).replace("torch.", "") == u.dtype.name
                np.testing.assert_array_equal(u, v.numpy())
            assert a[3]["name"] == b[3]["name"]
    assert isinstance(torch, object)


# ---- transforms ---------------------------------------------------------------------------------------------
def test_compose_totensor_normalize_as_torchvision():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20  # (H, W) uint8, as a PIL image's array
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    out = pipeline(image)
    assert isinstance(out, tg.Tensor) and out.shape == (1, 3, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out.data[0], (image / 255.0 - 0.1307) / 0.3081, rtol=1e-5)
    rgb = np.stack([image, image // 2, image // 4], axis=-1)  # (H, W, C)
    out = transforms.Normalize([0.5, 0.4, 0.3], [0.2, 0.2, 0.1])(transforms.ToTensor()(rgb))
    expected = (rgb.transpose(2, 0, 1) / 255.0 - np.array([0.5, 0.4, 0.3])[:, None, None]) / np.array(
        [0.2, 0.2, 0.1])[:, None, None]
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    plain = transforms.Normalize(0.5, 0.5)(np.ones((2, 2), np.float32))  # an array stays an array
    assert isinstance(plain, np.ndarray) and plain.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(ValueError, match="Normalize: 2 values of mean for an image of 3 channels"):
        transforms.Normalize((0.1, 0.2), (1.0, 1.0))(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="Normalize: std must not be 0"):
        transforms.Normalize(0.0, 0.0)


def test_random_crop_takes_every_window_with_padding():
    image = np.arange(16.0).reshape(4, 4)
    crop = transforms.RandomCrop(4, padding=1, fill=-1, rng=0)
    padded = np.pad(image, 1, constant_values=-1)
    seen = set()
    for _ in range(200):
        out = crop(image)
        assert out.shape == (4, 4)
        matches = [(t, left) for t in range(3) for left in range(3)
                   if np.array_equal(out, padded[t:t + 4, left:left + 4])]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == 9  # each of the 3 x 3 positions
    assert transforms.RandomCrop((2, 3))(np.zeros((3, 5, 5))).shape == (3, 2, 3)
    with pytest.raises(ValueError, match="RandomCrop: the image is 4x4, smaller than the crop 5x5"):
        transforms.RandomCrop(5)(image)
    assert transforms.RandomCrop(5, pad_if_needed=True)(image).shape == (5, 5)


def test_rotations_and_shifts_move_pixels_where_they_should():
    image = np.arange(25.0).reshape(5, 5)
    from tinygrad_np.data.transforms import affine

    np.testing.assert_array_equal(affine(image, 90), np.rot90(image))  # counter-clockwise, as torchvision
    np.testing.assert_array_equal(affine(image, -90), np.rot90(image, -1))
    np.testing.assert_array_equal(affine(image, 180), image[::-1, ::-1])
    shifted = affine(image, 0, (2, -1), fill=-7)  # two right, one up
    expected = np.full((5, 5), -7.0)
    expected[:4, 2:] = image[1:, :3]
    np.testing.assert_array_equal(shifted, expected)
    chw = np.stack([image, -image])
    np.testing.assert_array_equal(affine(chw, 90), np.stack([np.rot90(image), np.rot90(-image)]))
    rotated = transforms.RandomRotation((90, 90))(tg.Tensor(image))
    assert isinstance(rotated, tg.Tensor) and np.array_equal(rotated.data, np.rot90(image))


def test_random_affine_draws_angles_and_whole_pixel_shifts_in_range():
    image = np.zeros((9, 9))
    image[4, 4] = 1.0
    shift = transforms.RandomAffine(0, translate=(0.25, 0.25), rng=0)
    offsets = set()
    for _ in range(300):
        out = shift(image)
        (r,), (c,) = np.nonzero(out)
        offsets.add((int(r) - 4, int(c) - 4))
    assert {dx for _, dx in offsets} == set(range(-2, 3)) and {dy for dy, _ in offsets} == set(range(-2, 3))
    with pytest.raises(ValueError, match="translate must be two fractions"):
        transforms.RandomAffine(0, translate=(2, 0))
    with pytest.raises(ValueError, match="degrees: a single number must be non-negative"):
        transforms.RandomRotation(-5)


def test_a_transformed_dataset_in_a_loader():
    images = np.random.default_rng(0).integers(0, 256, (10, 6, 6)).astype(np.uint8)
    labels = np.arange(10)
    pipeline = transforms.Compose([transforms.RandomCrop(6, padding=1), transforms.ToTensor(),
                                   transforms.Normalize((0.5,), (0.25,))])

    class Digits(Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            return pipeline(images[i]), labels[i]

    tg.manual_seed(0)
    x, y = next(iter(DataLoader(Digits(), batch_size=4, shuffle=True)))
    assert isinstance(x, tg.Tensor) and x.shape == (4, 1, 6, 6) and y.dtype == np.int64
    tg.manual_seed(0)
    again, _ = next(iter(DataLoader(Digits(), batch_size=4, shuffle=True)))
    np.testing.assert_array_equal(x.data, again.data)


# ---- make_grid and save_image -------------------------------------------------------------------------------
def _grid_by_hand(batch, nrow, padding, pad_value=0.0):
    """make_grid written out cell by cell, independently: the expected layout."""
    b, c, h, w = batch.shape
    cols = min(nrow, b)
    rows = -(-b // cols)
    grid = np.full((3, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, np.float32)
    for k in range(b):
        top, left = padding + (k // cols) * (h + padding), padding + (k % cols) * (w + padding)
        grid[:, top:top + h, left:left + w] = np.broadcast_to(batch[k], (3, h, w))
    return grid


def test_make_grid_lays_images_out_as_torchvision():
    batch = np.random.default_rng(1).uniform(0, 1, (5, 1, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(make_grid(batch, nrow=2), _grid_by_hand(batch, 2, 2))
    np.testing.assert_array_equal(make_grid(tg.Tensor(batch), nrow=8, padding=1, pad_value=0.5),
                                  _grid_by_hand(batch, 8, 1, 0.5))
    assert make_grid(batch[:1]).shape == (3, 3, 4)  # one image: itself, unpadded, as torchvision
    assert make_grid(batch[0, 0]).shape == (3, 3, 4)
    scaled = make_grid(batch * 10 - 3, normalize=True)
    assert scaled.max() == pytest.approx(1.0) and scaled[:, 2:5, 2:6].min() == pytest.approx(0.0)
    clipped = make_grid(batch, normalize=True, value_range=(0.25, 0.75), padding=0, nrow=5)
    np.testing.assert_allclose(clipped[0, :, :4], (np.clip(batch[0, 0], 0.25, 0.75) - 0.25) / 0.5, rtol=1e-6)


def test_make_grid_against_torchvision():
    torchvision = pytest.importorskip("torchvision")
    torch = pytest.importorskip("torch")
    batch = np.random.default_rng(2).uniform(-1, 2, (7, 3, 5, 4)).astype(np.float32)
    for kwargs in ({}, {"nrow": 3, "padding": 1}, {"normalize": True}, {"normalize": True, "scale_each": True},
                   {"normalize": True, "value_range": (0.0, 1.0), "pad_value": 1.0}):
        np.testing.assert_allclose(make_grid(batch, **kwargs),
                                   torchvision.utils.make_grid(torch.tensor(batch), **kwargs).numpy(), rtol=1e-6)


def test_save_image_writes_the_grid_as_a_png(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    batch = np.random.default_rng(3).uniform(-0.2, 1.2, (3, 1, 4, 5)).astype(np.float32)
    path = tmp_path / "samples.png"
    save_image(tg.Tensor(batch), path, nrow=2)
    with pil.open(path) as picture:
        assert picture.format == "PNG" and picture.mode == "RGB"
        pixels = np.asarray(picture)
    expected = np.clip(_grid_by_hand(batch, 2, 2) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(pixels, expected)
    buffer = io.BytesIO()
    save_image(batch, buffer)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_image_is_atomic(tmp_path, monkeypatch):
    pil = pytest.importorskip("PIL.Image")
    path = tmp_path / "grid.png"
    save_image(np.zeros((2, 1, 3, 3)), path)
    before = path.read_bytes()

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pil.Image, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        save_image(np.ones((2, 1, 3, 3)), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["grid.png"]
