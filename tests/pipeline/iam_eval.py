"""A small evaluator of identity-based IAM policies, as AWS documents their matching rules.

Written for the tests (no maintained Python library evaluates policies against a request:
policyuniverse expands and summarises statements, policy_sentry writes policies, cloudsplaining
and parliament lint them; none answers "is this call allowed"). It covers what Dendro's policies
use and refuses anything else (an operator it does not know fails the test, never passes it).

The rules, from the IAM User Guide:
- evaluation: an explicit Deny in any matching statement wins; otherwise one matching Allow
  allows; otherwise the request is implicitly denied
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
- Action: ``service:Name`` matched without regard to case, ``*`` and ``?`` wildcards
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html);
- Resource: ARNs matched with case, ``*`` any run of characters and ``?`` one character within
  a colon-separated segment; in the last (resource) segment they match across ``/`` and ``:``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html);
- Condition: every operator block must match, every key in a block must match, any one of a
  key's values may match; a key absent from the request does not match
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
  ``ArnEquals`` behaves like ``ArnLike``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["allow", "explicit deny", "implicit deny"]


@dataclass(frozen=True)
class Request:
    """One authorisation AWS makes: an action on a resource, with the request's context keys."""

    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        extra = f" {self.context}" if self.context else ""
        return f"{self.action} on {self.resource}{extra}"


def _wildcard(pattern: str, case: bool, crosses: bool) -> re.Pattern[str]:
    any_run = ".*" if crosses else "[^:]*"
    one = "." if crosses else "[^:]"
    parts = [any_run if c == "*" else one if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts) + r"\Z", 0 if case else re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    return bool(_wildcard(pattern, case=False, crosses=True).match(action))


def arn_matches(pattern: str, arn: str) -> bool:
    if pattern == "*":
        return True
    want, got = pattern.split(":", 5), arn.split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return False
    head = all(
        _wildcard(w, case=True, crosses=False).match(g) for w, g in zip(want[:5], got[:5], strict=True)
    )
    return head and bool(_wildcard(want[5], case=True, crosses=True).match(got[5]))


_OPERATORS = {
    "StringEquals": lambda want, got: want == got,
    "StringLike": lambda want, got: bool(_wildcard(want, case=True, crosses=True).match(got)),
    "ArnEquals": arn_matches,
    "ArnLike": arn_matches,
}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def conditions_match(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, block in condition.items():
        if operator not in _OPERATORS:
            raise AssertionError(f"the test evaluator does not know the condition operator {operator}")
        compare = _OPERATORS[operator]
        for key, wanted in block.items():
            got = next((v for k, v in context.items() if k.lower() == key.lower()), None)  # keys: no case
            if got is None or not any(compare(w, got) for w in _listed(wanted)):
                return False
    return True


def statement_matches(statement: dict[str, Any], request: Request) -> bool:
    unknown = set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}
    if unknown:
        raise AssertionError(f"the test evaluator does not know the statement elements {unknown}")
    if not any(action_matches(a, request.action) for a in _listed(statement["Action"])):
        return False
    if not any(arn_matches(r, request.resource) for r in _listed(statement["Resource"])):
        return False
    return conditions_match(statement.get("Condition", {}), request.context)


def decide(policy: dict[str, Any], request: Request) -> tuple[Decision, list[str]]:
    """The decision, and the Sids of the statements that decided it."""
    matching = [s for s in policy["Statement"] if statement_matches(s, request)]
    denies = [s.get("Sid", "?") for s in matching if s["Effect"] == "Deny"]
    if denies:
        return "explicit deny", denies
    allows = [s.get("Sid", "?") for s in matching if s["Effect"] == "Allow"]
    return ("allow", allows) if allows else ("implicit deny", [])
