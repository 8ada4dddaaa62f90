"""The facility registry and `vigil config check`: a broken file is refused
with the file, the line, the path inside it and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SMALL_FACILITY
from vigil.cli import app
from vigil.kinds import SensorKind
from vigil.registry import ConfigError, ConfigProblem, load_registry, parse_registry

GOOD = SMALL_FACILITY.read_text()


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as exc:
        parse_registry(text, "hospital.yaml")
    return exc.value.problems


def edit(old: str, new: str, count: int = 1) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, count)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth - 1]


def test_small_facility_resolves_profiles_and_overrides(small_registry) -> None:  # type: ignore[no-untyped-def]
    vaccine = small_registry.sensors["vac-fridge-1-temp"]
    assert vaccine.kind is SensorKind.COLD_CHAIN
    assert vaccine.metrics == ("temperature",)
    limits = vaccine.thresholds["temperature"]
    assert (limits.effective_low, limits.effective_high) == (2, 7.5)  # high overridden, low from the profile
    oxygen = small_registry.sensors["o2-b1-p"].thresholds["pressure"]
    assert (oxygen.effective_low, oxygen.effective_high) == (320, 480)  # ±20% of the overridden nominal 400
    assert small_registry.sensors["bb-fridge-1-temp"].tags == {
        "site": "north", "building": "main", "floor": "b1", "room": "blood-bank",
        "asset": "bb-fridge-1", "sensor": "bb-fridge-1-temp", "gateway": "gw-a",
    }
    assert small_registry.gateways["gw-b"].readings_topic == "vigil/v1/north/gw-b/readings"


def test_gas_sensor_without_metrics_reports_what_its_profile_measures() -> None:
    registry = parse_registry(edit("{id: o2-b1-p, gateway: gw-b, metrics: [pressure]}", "{id: o2-b1-p, gateway: gw-b}"))
    assert registry.sensors["o2-b1-p"].metrics == ("pressure",)


MISTAKES = [
    # (what, broken text, expected path, expected words in the message, line needle)
    ("yaml syntax", edit("name: Main Building", "name: [Main Building"), "", "not valid YAML", None),
    ("missing field", edit("                name: Plant room\n", ""), "sites[0].buildings[0].floors[0].rooms[1].name", "required field is missing", "id: plant"),
    ("misspelt field", edit("department: Surgery", "departmnet: Surgery"), "sites[0].buildings[0].floors[1].rooms[0].departmnet", "unknown field", "departmnet"),
    ("invalid id", edit("id: or-1", "id: or 1/2"), "sites[0].buildings[0].floors[1].rooms[0].id", "not a valid id", "id: or 1/2"),
    ("unknown profile", edit("profile: uv_lamp", "profile: uv-lamp"), "sites[0].buildings[0].floors[1].rooms[0].assets[0].profile", "unknown profile 'uv-lamp'", "profile: uv-lamp"),
    ("undefined gateway", edit("{id: uv-or-1-s, gateway: gw-a}", "{id: uv-or-1-s, gateway: gw-z}"), "sites[0].buildings[0].floors[1].rooms[0].assets[0].sensors[0].gateway", "'gw-z' is not a gateway of site 'north'", "gw-z"),
    ("duplicate sensor id", edit("{id: water-main-m,", "{id: elec-main-m,"), "sites[0].buildings[0].floors[0].rooms[1].assets[2].sensors[0].id", "duplicate sensor id 'elec-main-m'", ("{id: elec-main-m,", 2)),
    ("duplicate asset id", edit("id: water-main\n", "id: elec-main\n"), "sites[0].buildings[0].floors[0].rooms[1].assets[2].id", "duplicate asset id 'elec-main'", None),
    ("metric the kind lacks", edit("metrics: [pressure]", "metrics: [presure]"), "sites[0].buildings[0].floors[0].rooms[1].assets[0].sensors[0].metrics[0]", "no metric 'presure'", "presure"),
    ("threshold for a metric not reported", edit("temperature: {high: 7.5}", "pressure: {high: 7.5}"), "sites[0].buildings[0].floors[0].rooms[0].assets[1].thresholds.pressure", "no sensor of this asset reports 'pressure'", "pressure: {high: 7.5}"),
    ("low above high after override", edit("temperature: {high: 7.5}", "temperature: {high: 1.5}"), "sites[0].buildings[0].floors[0].rooms[0].assets[1].thresholds.temperature", "low (2.0) must be below high (1.5)", "high: 1.5"),
    ("unknown time zone", edit("timezone: Asia/Shanghai", "timezone: China"), "sites[0].timezone", "unknown time zone 'China'", "timezone: China"),
    ("asset without sensors", edit("                    sensors:\n                      - {id: uv-or-1-s, gateway: gw-a}\n", "                    sensors: []\n"), "sites[0].buildings[0].floors[1].rooms[0].assets[0].sensors", "at least 1 item", "sensors: []"),
    ("wrong type", edit("level: -1", "level: minus one"), "sites[0].buildings[0].floors[0].level", "valid integer", "level: minus one"),
    ("duplicate gateway", edit("      - id: gw-b\n", "      - id: gw-a\n"), "sites[0].gateways[1].id", "duplicate gateway id 'gw-a'", None),
    ("negative delay", edit("temperature: {high: 7.5}", "temperature: {delay: -60}"), "sites[0].buildings[0].floors[0].rooms[0].assets[1].thresholds.temperature.delay", "greater than or equal", "delay: -60"),
    ("no sites", "name: Empty\nsites: []\n", "sites", "at least 1 item", None),
    ("not a mapping", "- just\n- a list\n", "", "expected a mapping", None),
]


@pytest.mark.parametrize(("what", "text", "path", "words", "needle"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_config_mistake_is_explained_with_path_and_line(
    what: str, text: str, path: str, words: str, needle: str | tuple[str, int] | None
) -> None:
    problems = problems_of(text)
    match = [p for p in problems if p.path == path]
    assert match, f"{what}: no problem at {path!r}; got {[str(p) for p in problems]}"
    assert words in match[0].message, str(match[0])
    assert match[0].file == "hospital.yaml"
    if needle is not None:
        needle_text, nth = needle if isinstance(needle, tuple) else (needle, 1)
        assert match[0].line == line_of(text, needle_text, nth), str(match[0])


def test_yaml_syntax_error_names_the_line() -> None:
    problem = problems_of("sites:\n  - id: a\n    name: [unclosed\n")[0]
    assert problem.line is not None and problem.line >= 3


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_registry(tmp_path / "nope.yaml")


def test_config_check_cli_lists_every_problem_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(edit("profile: uv_lamp", "profile: uv-lamp").replace("gateway: gw-b, metrics: [pressure]", "gateway: gw-q, metrics: [pressure]"))
    result = CliRunner().invoke(app, ["config", "check", str(broken)])
    assert result.exit_code == 1
    assert "2 problem(s)" in result.output
    assert f"{broken}:" in result.output and "unknown profile 'uv-lamp'" in result.output and "gw-q" in result.output


def test_config_check_cli_summarises_a_good_file() -> None:
    result = CliRunner().invoke(app, ["config", "check", str(SMALL_FACILITY)])
    assert result.exit_code == 0, result.output
    assert "7 sensors" in result.output and "2 gateway(s)" in result.output
