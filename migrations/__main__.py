"""python -m migrations [ROOT]: upgrade every record below ROOT (default: here) to the current format."""

import sys
from pathlib import Path

from . import CURRENT_VERSION, upgrade_tree

root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
changed = upgrade_tree(root)
for path in changed:
    print(f"upgraded {path.relative_to(root)}")
print(f"{len(changed)} record(s) upgraded to schema_version {CURRENT_VERSION}.")
