"""The engine against a local echo server: closed loop, open loop, errors, a stop mid-run."""

import asyncio
import io

import pytest

from bench import profiles
from bench.load import LoadConfig, run
from bench.registry import get
from bench.scenario import Context, Scenario

pytestmark = pytest.mark.load


class _Path(Scenario):
    name = "path"

    def __init__(self, path: str) -> None:
        self.path = path
        self.setups = self.teardowns = 0

    async def setup(self, ctx: Context) -> None:
        self.setups += 1
        ctx.state["ready"] = True

    async def request(self, ctx: Context, vu: int) -> int:
        assert ctx.state["ready"]
        return (await ctx.http.get(self.path)).status

    async def teardown(self, ctx: Context) -> None:
        self.teardowns += 1


def _config(target, profile, **kwargs):
    return LoadConfig(target, profile, progress=kwargs.pop("progress", False), **kwargs)


def test_closed_loop_sprint(echo_server):
    scenario = get("trivial")
    result = asyncio.run(run(scenario, _config(echo_server, profiles.sprint(4, 1.5))))
    summary = result.recorder.summary()
    assert summary["requests"] > 0
    assert summary["goodput"] == 1.0
    assert summary["outcomes"] == {"200": summary["requests"]}
    assert not result.interrupted
    assert max(result.vus) == 4


def test_closed_loop_follows_the_profile_and_calls_setup_and_teardown(echo_server):
    scenario = _Path("/")
    profile = profiles.linear(6, 1).scaled(2 / 60)  # 0 -> 6 VUs over 2 s
    result = asyncio.run(run(scenario, _config(echo_server, profile)))
    assert scenario.setups == scenario.teardowns == 1
    assert result.recorder.requests > 0
    assert result.vus[0] <= result.vus[-1]


def test_errors_are_counted_by_status_and_exception(echo_server):
    result = asyncio.run(run(_Path("/status/503"), _config(echo_server, profiles.sprint(2, 0.5))))
    assert result.recorder.goodput == 0.0
    assert set(result.recorder.errors_by_kind()) == {"503"}
    unreachable = "http://127.0.0.1:9"  # discard port: nothing listens
    result = asyncio.run(run(_Path("/"), _config(unreachable, profiles.sprint(1, 0.3))))
    assert "ClientConnectorError" in result.recorder.errors_by_kind()


def test_open_loop_rate_and_dropped_arrivals(echo_server):
    profile = profiles.rate(50, 1.0)
    result = asyncio.run(run(get("trivial"), _config(echo_server, profile)))
    # how many of the 50 arrivals start depends on the machine's load; never more, none twice
    assert 0 < result.recorder.requests + result.recorder.dropped <= 50
    assert set(result.recorder.outcomes) == {"200"}  # every arrival that started got its answer
    slow = asyncio.run(run(_Path("/slow/300"), _config(echo_server, profile, concurrency=2)))
    assert slow.recorder.dropped > 0
    # latency counts from the scheduled start, so it is at least the server's delay
    assert slow.recorder.latency.summary()["min"] >= 290_000


def test_stop_ends_the_run_early_and_keeps_results(echo_server):
    async def main():
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.6, stop.set)
        return await run(get("trivial"), _config(echo_server, profiles.sprint(2, 60)), stop=stop)

    result = asyncio.run(main())
    assert result.interrupted
    assert result.elapsed < 30
    assert result.recorder.requests > 0


def test_progress_line(echo_server):
    out = io.StringIO()
    config = _config(echo_server, profiles.sprint(2, 1.3), progress=True)
    asyncio.run(run(get("trivial"), config, out=out))
    line = out.getvalue().splitlines()[0]
    assert "VUs" in line and "requests" in line and "p95" in line and "/s" in line
