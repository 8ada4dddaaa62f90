"""Escalation stepping through a policy's tiers. Pure: the store keeps the
position (tier, round, next_at) in the database, so a restarted service
continues where it was.

Tier 1 is notified when an alert is announced. If nobody acknowledges within
the tier's `escalate_after`, the next tier; after the last tier, the policy
starts again from tier 1, `repeat` more times; then escalation stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerts.oncall import EscalationPolicy


@dataclass(frozen=True, slots=True)
class EscalationStep:
    tier: int  # 0-based index into policy.tiers
    round: int  # 0-based pass through the tiers
    next_at: datetime  # when to move on if nobody acknowledges


def first_step(policy: EscalationPolicy, now: datetime) -> EscalationStep:
    """Tier 1 of the first pass, notified now."""
    return EscalationStep(0, 0, now + policy.tiers[0].escalate_after)


def next_step(policy: EscalationPolicy, tier: int, round_: int, now: datetime) -> EscalationStep | None:
    """The step after (tier, round_), or None when the policy is exhausted.
    The wait is counted from `now`, not from when the step was due: a service
    that was down resumes one step at a time rather than paging every tier at once."""
    tier = min(tier, len(policy.tiers) - 1)  # the policy may have lost tiers since
    if tier + 1 < len(policy.tiers):
        tier, round_ = tier + 1, round_
    elif round_ < policy.repeat:
        tier, round_ = 0, round_ + 1
    else:
        return None
    return EscalationStep(tier, round_, now + policy.tiers[tier].escalate_after)


def step_name(episode: int, tier: int, round_: int) -> str:
    """The outbox step of a tier's notification: unique per alert, episode, tier and pass."""
    return f"e{episode}/tier{tier + 1}/pass{round_ + 1}"
