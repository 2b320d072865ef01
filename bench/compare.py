"""Ratios of our benchmark table to the peer's, as a Markdown table for bench/RESULTS.md.

Both tables are the plain text ``bench/run.sh`` and ``bench-peer.sh`` print: one row per case,
``mode case req/s p50 p99 non2xx [sockerr]``; lines starting with ``#`` are ignored. Given several
runs of a side (the same mode in several files, or repeated in one), each figure is the median.

Usage::

    python bench/compare.py --ours OURS.txt [...] --peer PEER.txt [...] [--ours-mode gthread4]
                            [--peer-mode cluster2]

A ratio above 1 means we answered more requests per second (or, for latencies, took longer).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_USAGE = 2
#: Cases both benchmarks drive the same way; the others (our code exchange, the peer's opaque
#: client-credentials token) appear without a ratio.
SAME_CASE = {"discovery", "jwks", "introspect", "userinfo", "refresh", "cc_jwt_rs256", "cc_jwt_es256"}
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m)")
HEADER = (
    "case",
    "ours req/s",
    "peer req/s",
    "ratio req/s",
    "ours p50 / p99 ms",
    "peer p50 / p99 ms",
    "ratio p50",
)


@dataclass(frozen=True)
class Row:
    mode: str
    case: str
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int


def milliseconds(text: str) -> float:
    """wrk's latency notation (``812.00us``, ``3.21ms``, ``1.02s``) in milliseconds."""
    match = DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"not a wrk latency: {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse(lines: Iterable[str]) -> list[Row]:
    rows = []
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or line.startswith("#") or fields[0] == "mode":
            continue
        try:
            rows.append(
                Row(
                    fields[0],
                    fields[1],
                    float(fields[2]),
                    milliseconds(fields[3]),
                    milliseconds(fields[4]),
                    int(fields[5]),
                )
            )
        except ValueError:
            continue  # a log line that happens to have six words
    return rows


def medians(rows: list[Row], mode: str | None, label: str) -> tuple[dict[str, Row], int]:
    """Per case, the median of every run of ``mode`` (default: the last mode seen); and how many runs."""
    modes = list(dict.fromkeys(r.mode for r in rows))
    if not modes:
        raise ValueError(f"no result rows in the {label} tables")
    chosen = mode or modes[-1]
    if chosen not in modes:
        raise ValueError(f"no mode {chosen!r} in the {label} tables (has {', '.join(modes)})")
    runs: dict[str, list[Row]] = {}
    for row in rows:
        if row.mode == chosen:
            runs.setdefault(row.case, []).append(row)
    combined = {
        case: Row(
            chosen,
            case,
            statistics.median(r.rps for r in seen),
            statistics.median(r.p50_ms for r in seen),
            statistics.median(r.p99_ms for r in seen),
            max(r.non2xx for r in seen),
        )
        for case, seen in runs.items()
    }
    return combined, max(len(seen) for seen in runs.values())


def _ratio(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}" if peer > 0 else "n/a"


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown(ours: dict[str, Row], peer: dict[str, Row]) -> str:
    cases = list(ours) + [c for c in peer if c not in ours]
    out = [_line(HEADER), _line(["---"] + ["---:"] * (len(HEADER) - 1))]
    for case in cases:
        a = ours.get(case)
        b = peer.get(case) if case in SAME_CASE or a is None else None
        out.append(
            _line(
                [
                    case,
                    f"{a.rps:.0f}" if a else "-",
                    f"{b.rps:.0f}" if b else "-",
                    _ratio(a.rps, b.rps) if a and b else "-",
                    f"{a.p50_ms:.1f} / {a.p99_ms:.1f}" if a else "-",
                    f"{b.p50_ms:.1f} / {b.p99_ms:.1f}" if b else "-",
                    _ratio(a.p50_ms, b.p50_ms) if a and b else "-",
                ]
            )
        )
    return "\n".join(out)


def _rows(paths: Sequence[Path]) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        rows.extend(parse(path.read_text(encoding="utf-8").splitlines()))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/compare.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ours", type=Path, nargs="+", required=True, help="output(s) of bench/run.sh")
    parser.add_argument("--peer", type=Path, nargs="+", required=True, help="output(s) of bench-peer.sh")
    parser.add_argument("--ours-mode", help="which of our modes (default: the last one in the tables)")
    parser.add_argument("--peer-mode", default="cluster2", help="which peer mode (default: cluster2)")
    args = parser.parse_args(argv)
    try:
        ours, ours_runs = medians(_rows(args.ours), args.ours_mode, "our")
        peer, peer_runs = medians(_rows(args.peer), args.peer_mode, "peer")
    except OSError as exc:
        print(f"bench compare: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"bench compare: {exc}", file=sys.stderr)
        return EXIT_USAGE
    mode = next(iter(ours.values())).mode
    print(
        f"ours: {mode}, median of {ours_runs} run(s); peer: {args.peer_mode}, median of {peer_runs} run(s)\n"
    )
    print(markdown(ours, peer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
