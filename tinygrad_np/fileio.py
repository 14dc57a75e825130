"""Writing files so that a reader never sees half of one."""
import contextlib
import os
import stat
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would have given the file


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Write to a temporary file beside ``path``; rename it into place only if the block succeeds.

    An exception inside the block (or an interrupted process) leaves ``path``
    as it was: the old file, or none. The temporary file's name carries the
    writer's process id, so the leftovers of a writer that was killed are
    recognised and removed by the next write to the same path.
    """
    path = os.fspath(path)
    if not path:
        raise ValueError("atomic_write: the path is empty; give a file name")
    folder, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):  # mkstemp's own error would name only the hidden temporary file
        raise FileNotFoundError(f"{path}: the folder {folder} does not exist")
    _refuse_non_regular_target(path)
    _remove_stale_parts(folder, name)
    # A file written over keeps its permissions, as torch.save's does; a new one gets open()'s.
    file_mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.isfile(path) else _FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.{os.getpid()}.", suffix=".part")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, file_mode)  # mkstemp makes files private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _refuse_non_regular_target(path):
    """Refuse, before a byte is written, a target that exists and is not a regular file (a symlink to one counts as
    one): renaming over a device, a FIFO or a socket would replace that node (``/dev/null`` itself, as root), and a
    folder cannot be replaced at all."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return  # nothing there (or a dangling symlink): the write makes the file
    except OSError:
        return  # the write itself will report what is wrong with the path
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{path}: is a folder, not a file; give a file name inside it")
    if not stat.S_ISREG(mode):
        kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a FIFO (named pipe)"
                if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise ValueError(f"{path}: is {kind}; writing would replace it with a regular file, so nothing was written "
                         "(remove it first, or choose another name)")


def _remove_stale_parts(folder, name):
    """Delete temporary files for ``name`` whose writing process no longer exists."""
    prefix = f".{name}."
    try:
        entries = os.listdir(folder)
    except OSError:
        return  # the write itself will report the folder's problem
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".part")):
            continue
        pid = entry[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, entry))


def _process_exists(pid):
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl-C there: assume the writer may be alive
        return True
    try:
        os.kill(pid, 0)  # signal 0: no signal is sent, only the check that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
