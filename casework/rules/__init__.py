"""Rule modules: the protocol, the verdict type, the registry and the built-in guards."""

from casework.rules.base import Parameter, RuleModule, Verdict
from casework.rules.engine import evaluate, refusals
from casework.rules.registry import load_rules

__all__ = ["Parameter", "RuleModule", "Verdict", "evaluate", "load_rules", "refusals"]
