"""A run's configuration: the command line recorded in its results runs the same run again."""

import dataclasses
import shlex

import pytest

from bench.cli import _parser
from bench.commands.run import run_config
from bench.runner import RunConfig


@pytest.fixture(autouse=True)
def _no_bench_environment(monkeypatch):
    for name in ("STRATUS_ADMIN_PASSWORD", "STRATUS_BENCH_MQTT", "STRATUS_BENCH_SCALE"):
        monkeypatch.delenv(name, raising=False)


def _parsed(command: str) -> RunConfig:
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "bench"]
    return run_config(_parser().parse_args(argv[3:]))


@pytest.mark.parametrize(
    "config",
    [
        RunConfig(),
        RunConfig(
            scenario="ingest-batch",
            profile="linear",
            scale=0.05,
            vus=20.0,
            options={"batch": "100", "devices": "3"},
            baseline=True,
            server_pids=(42, 43),
            progress=False,
            out="bench/results/x y",
            think=0.5,
            timeout=5.0,
            processes=2,
            mqtt="127.0.0.1:1883",
            data_dir="/tmp/d",
        ),
        RunConfig(rate=40.0, duration=2.0, concurrency=10, vu_scale=2.0, username="ops"),
    ],
)
def test_the_recorded_command_parses_back_to_the_same_run(config):
    # the profile is spelled out: linear, or rate with a rate
    assert _parsed(config.command()) == dataclasses.replace(config, profile=config.profile_name)


def test_a_password_never_reaches_the_command():
    config = RunConfig(scenario="signin", password="s3cret")
    command = config.command()
    assert "s3cret" not in command and "--password '***'" in command
    assert _parsed(command) == dataclasses.replace(config, password="***", profile="linear")


def test_defaults_are_left_out():
    command = RunConfig(scenario="signin").command()
    for flag in ("--vu-scale", "--concurrency", "--think", "--timeout", "--baseline", "--quiet"):
        assert flag not in command
    assert "--profile linear" in command
