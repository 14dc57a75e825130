"""How every example ends when run from a shell: an error a user can fix is one line naming the script, not a
traceback; Ctrl-C exits quietly with status 130.

    from command_line import run_main   # beside each example
    if __name__ == "__main__":
        run_main(main)
"""
import os
import sys

# Bad flags, missing or broken files, a diverging loss, an optional package not installed: the message says
# what to do. Anything else is a bug in the example, and its traceback is what a bug report needs.
USER_ERRORS = (OSError, ValueError, FloatingPointError, ModuleNotFoundError)


def run_main(main, memory_hint="try smaller sizes"):
    """Call ``main(sys.argv[1:])``, turning the errors a user can fix into one line and an exit status.

    A ``main`` that returns an int (a check that failed) exits with it; other return values (the metrics a
    notebook gets back) mean success."""
    name = os.path.basename(sys.argv[0])
    try:
        status = main(sys.argv[1:])
    except USER_ERRORS as err:
        sys.exit(f"{name}: error: {err}")
    except MemoryError as err:
        sys.exit(f"{name}: error: not enough memory ({err}); {memory_hint}")
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(status if isinstance(status, int) else 0)
