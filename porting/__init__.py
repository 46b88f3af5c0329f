# `python3 -m <lesson>.run` imports this first: it says how to build the
# lesson's module when there is none yet, instead of a bare
# ModuleNotFoundError. Every lesson's copy of this file is the same.
from scripts.binding_switch import require_built_module

require_built_module(__name__)
