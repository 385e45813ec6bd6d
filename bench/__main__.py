"""Run every benchmark: `python -m bench` (or `make bench`)."""

from __future__ import annotations

import asyncio

from bench import classifier_throughput, leaderboard, playlist_sources, predict_throughput, sort_e2e

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
