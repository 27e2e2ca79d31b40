"""Run a few lines in a fresh interpreter and see which packages they imported: checks that a
function does not import DeepLabCut do not depend on what other tests of the same worker
imported before."""

from __future__ import annotations

import json
import subprocess
import sys

_WRAP = """
import json, sys
{code}
print("@modules " + json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


def top_level_modules_after(code: str, *, timeout: float = 300) -> set[str]:
    """The top-level packages imported once ``code`` ran in a new Python process."""
    proc = subprocess.run(
        [sys.executable, "-c", _WRAP.format(code=code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("@modules "))
    return set(json.loads(line.removeprefix("@modules ")))
