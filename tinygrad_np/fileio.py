"""Writing files so that a reader never sees half of one."""
import contextlib
import errno
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
    path = os.fsdecode(path)
    check_target(path)
    if os.path.islink(path):  # a link (best.npz -> runs/x/model.npz) stays a link: its target is written, as
        path = os.path.realpath(path)  # open(path, "wb") and torch.save write through it
        check_target(path)
    folder, name = os.path.split(os.path.abspath(path))
    _remove_stale_parts(folder, name)
    # A file written over keeps its permissions, as torch.save's does; a new one gets open()'s.
    file_mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.isfile(path) else _FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=_part_prefix(name), suffix=".part")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, file_mode)  # mkstemp makes files private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def check_target(path, who="atomic_write"):
    """Refuse, before anything is written, a path a file cannot be written to by renaming: an empty name, a name
    ending in a separator or naming a folder ("", ".", "..", "dir/"), a missing folder, a device, a FIFO, a
    socket. The errors name ``path`` itself, never a temporary file."""
    path = os.fsdecode(path)
    if not path:
        raise ValueError(f"{who}: the path is empty; give a file name")
    if "\x00" in path:
        raise ValueError(f"{who}: the path {path!r} holds a NUL character, which no file name may")
    if len(os.fsencode(os.path.basename(path))) > _NAME_MAX:  # (else the error would name the temporary file)
        raise OSError(errno.ENAMETOOLONG, f"{who}: the file name is {len(os.fsencode(os.path.basename(path))):,} "
                      f"bytes, more than the {_NAME_MAX} a file name may have", path)
    _refuse_non_regular_target(path)
    if path.endswith(("/", os.sep)) or os.path.basename(path) in (".", ".."):
        raise IsADirectoryError(f"{path}: names a folder, not a file; give a file name inside it")
    folder = os.path.dirname(os.path.abspath(path))
    try:  # mkstemp's own error would name only the hidden temporary file
        folder_mode = os.stat(folder).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: the folder {folder} does not exist") from None
    except OSError as err:  # a symlink loop, a file where a folder should be, no permission
        refusal = type(err)(f"{path}: the folder {folder} cannot be reached ({err.strerror})")
        refusal.errno = err.errno
        raise refusal from None
    if not stat.S_ISDIR(folder_mode):
        raise NotADirectoryError(f"{path}: {folder} is a file, not a folder")


# The temporary file's name: "." + the target's name + "." + the process id + "." + mkstemp's 8 letters + ".part".
# A name may have at most 255 bytes (NAME_MAX on Linux and macOS); the target's name may already take all of them,
# so the part of it kept in the temporary's name is cut to leave room (the process id and random letters keep
# temporaries apart; the kept part only tells a person what was being written).
_NAME_MAX = 255
_TEMPORARY_EXTRA = len("..") + 10 + len(".") + 8 + len(".part")  # 10: the most digits a process id takes


def _part_prefix(name):
    """The temporary's prefix for a target called ``name``: its name cut, at a character, to fit NAME_MAX."""
    room = _NAME_MAX - _TEMPORARY_EXTRA
    encoded = os.fsencode(name)
    if len(encoded) > room:
        name = os.fsdecode(encoded[:room])  # a cut inside a UTF-8 character is kept as escaped bytes, still valid
    return f".{name}.{os.getpid()}."


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
    prefix = _part_prefix(name).rsplit(".", 2)[0] + "."  # the prefix without its process id
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
