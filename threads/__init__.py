# `python3 -m function.run` imports this first: it says how to build the module
# when there is none yet, instead of a bare ModuleNotFoundError.
from scripts.workspace import require_built_module

require_built_module(__name__)
