"""A helper module for tests/test_jit_guards.py: a global a helper function reads, in a module of its own."""
SCALE = 2.0


def scaled(x):
    return x * SCALE
