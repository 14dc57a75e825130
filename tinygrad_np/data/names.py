"""A word list for character-level language models: 5,163 first names, shipped with the package.

Source: the female and male first-name lists of the 1990 United States Census
(public domain), as distributed in the ``names`` package on PyPI (0.3.0,
files dist.female.first and dist.male.first). Lower-cased, alphabetic only,
each name once, in the lists' order (most frequent first).
"""
from pathlib import Path

NAMES_PATH = Path(__file__).with_name("names.txt")


def load_names():
    """The names as a list of lower-case strings."""
    return NAMES_PATH.read_text().split()
