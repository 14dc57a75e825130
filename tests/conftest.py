import os

from hypothesis import settings

# Under CI=true hypothesis loads its built-in "ci" profile by itself
# (derandomized, no deadline, no example database). Locally we only lift the
# deadline: numerical gradients make single examples slow.
settings.register_profile("dev", deadline=None)
if not os.environ.get("CI"):
    settings.load_profile("dev")
