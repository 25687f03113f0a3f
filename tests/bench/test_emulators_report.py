"""The emulator section of BENCHMARKS.md: ratios oriented so that above 1 means ours is better,
and the section replaced in place on the next run."""

from __future__ import annotations

from bench.emulators import HEADING, section, splice

RESULT = {
    "scale": 1.0,
    "starts": 3,
    "finished_at": "2026-12-01T00:00:00Z",
    "pubsub": {
        "ours": {"start-up s": 0.5, "published/s": 20000.0, "survive kill -9": 100},
        "google": {"start-up s": 2.0, "published/s": 10000.0, "survive kill -9": 0},
    },
}


def test_ratios_say_how_much_better_ours_is():
    lines = section(RESULT)
    assert lines[0] == HEADING
    rows = {line.split(" | ")[1]: line for line in lines if line.startswith("| pubsub")}
    assert rows["start-up s"].endswith("| 4.00x |")  # 2.0 s / 0.5 s: lower is better
    assert rows["published/s"].endswith("| 2.00x |")
    assert "| 100 of 100 | 0 of 100 | more durable |" in rows["survive kill -9"]


def test_splice_replaces_the_section_in_place():
    document = "# B\n\n## Query\n\nq\n\n## How to reproduce\n\nr\n"
    once = splice(document, section(RESULT))
    assert once.index(HEADING) < once.index("## How to reproduce")
    slower = {**RESULT, "pubsub": {**RESULT["pubsub"], "ours": {"start-up s": 1.0}}}
    twice = splice(once, section(slower))
    assert twice.count(HEADING) == 1
    assert "| 2.00x |" in twice and "## Query" in twice and twice.endswith("r\n")
