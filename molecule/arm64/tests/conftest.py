"""The shared station verifier's fixtures and failure hook, for this scenario's subset
of its tests (molecule/shared/tests/test_station.py imports them from `conftest`)."""

import os
import runpy

_SHARED = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tests", "conftest.py"))
globals().update({name: value for name, value in _SHARED.items() if not name.startswith("__")})
