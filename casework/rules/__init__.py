"""Rule modules: the protocol, the verdict type, the registry and the built-in modules."""

from casework.rules.base import Category, Obligation, Parameter, PlanRequirement, RuleModule, Verdict
from casework.rules.engine import RuleSet, classify, duties, evaluate, refusals, risk_level
from casework.rules.registry import available, load_rules, rule_set

__all__ = [
    "Category",
    "Obligation",
    "Parameter",
    "PlanRequirement",
    "RuleModule",
    "RuleSet",
    "Verdict",
    "available",
    "classify",
    "duties",
    "evaluate",
    "load_rules",
    "refusals",
    "risk_level",
    "rule_set",
]
