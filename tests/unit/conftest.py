import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The Lambda zip has the handler packages at its root; mirror that for imports in tests.
for p in (ROOT, ROOT / "lambdas"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
