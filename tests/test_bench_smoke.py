"""Each benchmark runs to its end at a tiny size: a change to the services cannot break one unseen.

The figures at these sizes mean nothing (targets may FAIL); what is checked is that the
benchmark ran every measurement and printed its summary, without a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

RUNS = {
    "advance.py": (["--cases", "30"], "audit chain            ok"),
    "rules.py": (["--cases", "30", "--advances", "10"], "in rules (guards + duties)"),
    "documents.py": (["--cases", "3", "--batch", "2"], "pdf   names with missing glyphs: 0"),
    "import.py": (["--rows", "200"], "200 cards compared, all unchanged"),
    "review.py": (["--cases", "2000", "--digests", "40"], "notify send (SMTP)"),
    "audit.py": (["--events", "2000"], "peak memory, all processes"),
    "codecs.py": (["--rows", "200", "--docs", "2"], "best of 3 runs each"),
    "web.py": (["--cases", "2000", "--users", "2", "--seconds", "3"], "desk HTML"),
    "county.py": (
        ["--schools", "2,4", "--children", "30", "--moves", "4", "--rounds", "2"],
        "report indicators (one school)",
    ),
}


# The benchmarks that take a database run on PostgreSQL too (--db a server URL: fresh databases
# of their own there, dropped after).
ON_POSTGRES = ["advance.py", "rules.py", "review.py", "audit.py", "import.py", "web.py", "county.py"]
CASES = [(script, None) for script in RUNS] + [(script, "postgresql") for script in ON_POSTGRES]


@pytest.mark.slow
@pytest.mark.parametrize(("script", "backend"), CASES, ids=[f"{s}-{b or 'sqlite'}" for s, b in CASES])
def test_benchmark_runs_to_its_end(script: str, backend: str | None, tmp_path: Path) -> None:
    args, last_words = RUNS[script]
    if backend is not None:
        from sqlalchemy.engine import make_url

        from tests.helpers import pg_base_url, pg_problem

        if pg_problem() is not None:
            pytest.skip(f"PostgreSQL unreachable: {pg_problem()}")
        server = make_url(pg_base_url()).set(drivername="postgresql", database="postgres")
        args = [*args, "--db", server.render_as_string(hide_password=False)]
    # As from a shell: the key this suite sets for its own databases is not the benchmarks' key.
    env = {k: v for k, v in os.environ.items() if k not in ("CASEWORK_KEY", "CASEWORK_KEY_FILE", "CASEWORK_DB")}
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode in (0, 1), output  # 1: a target not met at this size
    assert last_words in done.stdout, output
