"""Run every benchmark: `python -m bench` (or `make bench`); `bench.huge_inputs` alone is left out
(its 200 MB export takes minutes): run it with `python -m bench.huge_inputs`."""

from __future__ import annotations

import asyncio

from bench import (
    classifier_throughput,
    leaderboard,
    oauth_flood,
    playlist_sources,
    predict_throughput,
    sort_e2e,
)

if __name__ == "__main__":
    classifier_throughput.main()
    print()
    predict_throughput.main()
    print()
    leaderboard.main()
    print()
    asyncio.run(sort_e2e.main())
    print()
    asyncio.run(playlist_sources.main())
    print()
    oauth_flood.main()
