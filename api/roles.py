"""Who may do what: four roles, each allowed everything the ones below it are."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # reads everything (no secrets)
    TECHNICIAN = "technician"  # + work-order actions
    ONCALL = "oncall"  # + acknowledging, resolving and commenting alerts
    ADMIN = "admin"  # + silences and API tokens

    @property
    def rank(self) -> int:
        """Position in viewer < technician < oncall < admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Whether a token of this role may do what needs `needed`."""
        return self.rank >= needed.rank
