import os

import pytest
from hypothesis import settings


@pytest.mark.skipif(not os.environ.get("CI"), reason="only meaningful under CI=true")
def test_hypothesis_ci_profile_is_active_under_ci():
    assert settings.default.derandomize and settings.default.database is None
