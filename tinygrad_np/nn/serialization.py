"""Saving and loading state dicts as .npz: atomic writes, any key names, never a pickle."""
import os
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from ..fileio import atomic_write
from ..tensor import Tensor


def save(state_dict, path):
    """Write a state dict to ``path`` as .npz, atomically: a temporary file renamed into place.

    Any name is kept as it is, ``allow_pickle`` or ``file`` included (``np.savez``
    would take those as its own arguments), and nothing is pickled.
    """
    arrays = {}
    for name, value in state_dict.items():
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.hasobject:  # would need pickling
            raise TypeError(f"save: {name!r} is not a numeric array (dtype {array.dtype}); refusing to pickle")
        arrays[name] = array
    with atomic_write(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():  # the .npz layout: one .npy member an entry
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def load(path):
    """Read a state dict written by ``save``. Never unpickles; an error names the file and what is wrong."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic and not (magic.startswith(b"PK") or magic == b"\x93NUMPY"):
            raise ValueError("it is neither a .npz archive nor a NumPy array file")
        contents = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a model file") from None
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a tinygrad_np model file ({_reason(path, err)})") from None
    if not isinstance(contents, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: holds a single array (a .npy file), not a model's named arrays (.npz); "
                         "write model files with Module.save or tinygrad_np.nn.save")
    with contents:
        state = OrderedDict()
        for name in contents.files:
            try:
                state[name] = contents[name]
            except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as err:
                raise ValueError(f"{path}: not a tinygrad_np model file: entry {name!r} cannot be read "
                                 f"({_reason(path, err)})") from None
    return state


def _reason(path, err):
    if os.path.getsize(path) == 0:
        return "the file is empty"
    if isinstance(err, zipfile.BadZipFile):
        return "not a complete .npz archive: truncated, or another kind of file"
    if isinstance(err, (EOFError, zlib.error)):
        return "the file is damaged or was not fully written"
    return str(err) or type(err).__name__
