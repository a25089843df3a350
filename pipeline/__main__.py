import os
import sys

import pipeline

# `python -m pipeline` puts the working directory first on sys.path; the `optimize`
# script does not. Drop it (unless the tool itself is run from there, uninstalled), so
# that a user's `queue.py` or `ast.py` never stands in for a module the tool imports
# (some load only when first needed).
_tool_home = os.path.dirname(os.path.dirname(os.path.abspath(pipeline.__file__)))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.getcwd() != _tool_home:
    del sys.path[0]

from pipeline.cli.main import main  # noqa: E402

raise SystemExit(main())
