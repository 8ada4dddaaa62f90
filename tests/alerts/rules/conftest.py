"""Fixtures for the rules-engine tests: the facilities they judge."""

from __future__ import annotations

import pytest

from tests.alerts.rules.rules_kit import every_profile_facility, small_facility
from vigil.registry import Registry


@pytest.fixture(scope="session")
def small() -> Registry:
    return small_facility()


@pytest.fixture(scope="session")
def every_profile() -> Registry:
    return every_profile_facility()
