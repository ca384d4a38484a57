"""Measure the rule modules: every module on 10,000 cases, and their share of an advance's time.

Part one runs, for each of N varied cases (stages, categories, contacts, exam results,
screenings, flags), every built-in module's guards for every event the stage allows, its
duties and stage deadline, and the classification of an assessment: cases/s. Part two fires
``assess`` on cases through ``cases.advance`` and times the rules inside it (guards and
duties) against the whole advance: the share must stay at or below 30%.

    .venv/bin/python bench/rules.py [--cases 10000] [--advances 2000] [--db postgresql://postgres@127.0.0.1:5432/postgres]

Part two's database is a SQLite file in a temporary folder, or with ``--db`` a fresh database on
that PostgreSQL server, dropped after (part one needs none).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from casework import states
from casework.domain.facts import AssessmentFacts, CaseFacts, PlanItemFacts, TermFacts
from casework.rules import classify, duties, evaluate, load_rules

sys.path.insert(0, str(Path(__file__).parent))
from advance import Stopwatch, build_engine_db, watching  # noqa: E402
from databases import place  # noqa: E402

SHARE_LIMIT = 0.30
CATEGORIES = ["learning", "life", "psychological", "conduct", "academic_slide", "suspected_illegal", "moral"]
FIELDS = frozenset(
    {
        "name",
        "sex",
        "birth_date",
        "home_address",
        "family_situation",
        "guardian_name",
        "guardian_relation",
        "guardian_phone",
        "father_name",
        "father_phone",
    }
)


def varied_cases(n: int, seed: int = 7) -> list[tuple[CaseFacts, AssessmentFacts]]:
    rng = random.Random(seed)
    today = date(2026, 11, 20)
    out = []
    for i in range(n):
        state = states.STATES[i % len(states.STATES)]
        cats = tuple(sorted(rng.sample(CATEGORIES, rng.randint(0, 3))))
        results = tuple(
            TermFacts(
                2025,
                t,
                float(rng.randint(300, 500)),
                rng.randint(1, 45),
                {"语文": float(rng.randint(40, 100)), "数学": float(rng.randint(40, 100))},
            )
            for t in (1, 2)
        )
        items = tuple(
            PlanItemFacts(
                j,
                rng.choice(cats or ("learning",)),
                True,
                rng.random() > 0.2,
                True,
                True,
                kind=rng.choice(["general", "tutoring", "psych_help", "correction", "progress_record"]),
                subject=rng.choice(["语文", "数学", None]),
            )
            for j in range(rng.randint(0, 4))
        )
        contacts = {
            k: today - timedelta(days=rng.randint(0, 60))
            for k in (
                "talk",
                "talk@class_teacher",
                "parent_feedback",
                "home_visit",
                "counselling",
                "call_home",
                "letter",
            )
            if rng.random() > 0.3
        }
        facts = CaseFacts(
            case_id=i,
            school_id=1,
            state=state,
            version=rng.randint(0, 9),
            today=today,
            filled_fields=FIELDS if rng.random() > 0.2 else FIELDS - {"guardian_phone"},
            in_class=True,
            assessments=rng.randint(0, 2),
            categories=cats,
            plan_items=items,
            active_pairings=frozenset(rng.sample(["mentor", "caring_parent", "study_helper"], rng.randint(0, 3))),
            review_recorded=rng.random() > 0.5,
            reviewed_items=frozenset(it.id for it in items[:2]),
            reason_given=True,
            opened_on=today - timedelta(days=80),
            state_since=today - timedelta(days=rng.randint(0, 90)),
            actor_roles=frozenset({rng.choice(["counsellor", "leader"])}),
            flags={"critical": None} if "suspected_illegal" in cats else {},
            flags_raised={"critical": today - timedelta(days=3)} if "suspected_illegal" in cats else {},
            referrals=("police",) if rng.random() > 0.5 else (),
            term_results=results,
            last_contacts=contacts,
        )
        assessment = AssessmentFacts(
            family_situation=rng.choice(["both_away", "one_away", "grandparent_care", "divorced_single", None]),
            guardian_age=rng.randint(40, 85),
            guardian_health=rng.choice(["良好", "较差", None]),
            guardian_literate=rng.choice([True, False, None]),
            term_results=results,
            screening={"informant": "teacher", "bands": {"total": rng.choice(["normal", "borderline", "abnormal"])}},
            indicated=frozenset(cats),
        )
        out.append((facts, assessment))
    return out


def all_modules(cases: list[tuple[CaseFacts, AssessmentFacts]]) -> tuple[float, int]:
    modules = load_rules()
    verdicts = 0
    start = time.perf_counter()
    for facts, assessment in cases:
        for event in states.CURRENT.events_from(facts.state):
            verdicts += len(evaluate(modules, event, facts))
        duties(modules, facts)
        classify(modules, assessment)
    return time.perf_counter() - start, verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--advances", type=int, default=2_000)
    parser.add_argument("--db", help="a PostgreSQL server URL for part two: a fresh database there, dropped after")
    args = parser.parse_args(argv)
    cases = varied_cases(args.cases)
    seconds, verdicts = all_modules(cases)
    print(f"rules benchmark: {len(load_rules())} modules on {args.cases:,} cases")
    print(f"all modules            {args.cases / seconds:10,.0f} cases/s  ({seconds:.2f} s, {verdicts:,} verdicts)")

    with tempfile.TemporaryDirectory(prefix="casework-bench-") as tmp, place(args.db, tmp) as spot:
        print(f"advances on {spot.kind}")
        fixture = build_engine_db(spot.new("rules"), args.advances)
        from casework.services import cases as case_service

        stopwatch = Stopwatch()
        with watching(stopwatch):
            start = time.perf_counter()
            for case_id in fixture.case_ids:
                case_service.advance(fixture.ctx, fixture.counsellor, case_id, "assess")
            total = time.perf_counter() - start
        fixture.ctx.db.dispose()
    in_rules = stopwatch.seconds["rule evaluation"] + stopwatch.seconds["rule duties"]
    share = in_rules / total
    print(
        f"advance                {args.advances / total:10,.0f} events/s  ({total / args.advances * 1e3:.3f} ms/event)"
    )
    print(
        f"  in rules (guards + duties) {share:6.1%} of an advance  "
        f"({in_rules / args.advances * 1e3:.3f} ms)  limit ≤ {SHARE_LIMIT:.0%}: "
        f"{'PASS' if share <= SHARE_LIMIT else 'FAIL'}"
    )
    print(f"  facts loading              {stopwatch.seconds['facts loading'] / total:6.1%} of an advance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
