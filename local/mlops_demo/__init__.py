"""`make demo`: the scenarios of docs/architecture.md, end to end, told step by step on the local cloud.

The real ``template.yaml`` is deployed into the LocalCloud (all five stages, as one account: in AWS
the feature/dev and the production stages are usually two stacks in two accounts). The demo does only
what people and CI do; the deployed functions do the rest, and every expected outcome is a check:

- baseline (:mod:`~mlops_demo.baseline`): project ``churn``, feature → dev → prod, a failing dev
  version rolled back, two promotions (the second rolled out blue/green), the reaper, deletion;
- advanced (:mod:`~mlops_demo.advanced`): project ``upsell``, champion and challenger with the
  challenger as the champion's shadow, the reaper, deletion;
- batch (:mod:`~mlops_demo.batch`): project ``scores``, dev as a batch stage: scheduled, tested by a
  transform job, run, rolled back when a failing version is rejected.

It ends with a table of what exists and what was removed, and the list of checks; :func:`run` returns
1 if any check failed (or a scenario stopped on an error), else 0.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from mlops_local import LocalCloud
from mlops_local.demo_model import DEMO_BUCKET

from mlops_demo.advanced import Advanced
from mlops_demo.baseline import Baseline
from mlops_demo.batch import Batch
from mlops_demo.story import Check, Story
from mlops_demo.summary import collect, summary_lines

SCENARIOS: dict[str, type[Story]] = {"baseline": Baseline, "advanced": Advanced, "batch": Batch}
ALL = "all"
ALL_STAGES = "feature,dev,prod,champion,challenger"

__all__ = ["ALL", "SCENARIOS", "Check", "run"]


def run(out: Callable[[str], None] = print, scenario: str = ALL, *, ansi: bool | None = None) -> int:
    """Tell ``scenario`` (``baseline``, ``advanced`` or ``all``); 0 if every check passed, else 1."""
    if scenario != ALL and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: {', '.join([*SCENARIOS, ALL])}")
    if ansi is None:
        ansi = out is print and sys.stdout.isatty()
    started = time.perf_counter()
    names = list(SCENARIOS) if scenario == ALL else [scenario]
    out(f"MLOps control plane demo: {' and '.join(names)} scenario{'s' if len(names) > 1 else ''}")
    out("Deploying template.yaml into the embedded AWS (SAM transform, then CloudFormation)...")
    stories: list[Story] = []
    with (
        tempfile.TemporaryDirectory(prefix="mlops-demo-") as workdir,
        # The demo's artifacts are in DEMO_BUCKET: the artifact copier may read that bucket (IAM).
        LocalCloud(
            parameters={"DeployedStages": ALL_STAGES, "ModelArtifactBucketPattern": DEMO_BUCKET}
        ) as cloud,
    ):
        out(
            f"Stack {cloud.stack_name!r} is up after {time.perf_counter() - started:.1f} s, deploying the "
            f"stages {ALL_STAGES}: {', '.join(sorted(cloud.functions))}"
        )
        for name in names:
            story = SCENARIOS[name](name=name, cloud=cloud, out=out, ansi=ansi, workdir=Path(workdir))
            stories.append(story)
            try:
                story.tell()
            except Exception as error:  # the report says so, and the next scenario still runs
                out("".join(traceback.format_exception(error)).rstrip())
                story.check(
                    f"the {name} story ran to its end (it stopped: {type(error).__name__}: {error})", False
                )
        out("")
        out("== Summary ==")
        for line in summary_lines(collect(cloud), [r for story in stories for r in story.removals]):
            out(line)
    checks = [check for story in stories for check in story.checks]
    return report(checks, time.perf_counter() - started, out)


def report(checks: list[Check], seconds: float, out: Callable[[str], None]) -> int:
    """The checks, by scenario, and the verdict; 1 if any failed (or there were none)."""
    out("")
    out(f"== Checks ({len(checks)}) ==")
    for scenario in dict.fromkeys(check.scenario for check in checks):
        out(f"  {scenario}")
        for check in checks:
            if check.scenario == scenario:
                out(f"   {'ok  ' if check.passed else 'FAIL'} {check.description}")
    failed = [check for check in checks if not check.passed]
    out("")
    out(f"Wall time: {seconds:.1f} s")
    if not checks:  # the verdict is the last line (benchmarks/demo_time.py reports it)
        out("No check ran.")
    elif failed:
        out(f"{len(failed)} of {len(checks)} checks failed.")
    else:
        out(f"The control plane did everything it should ({len(checks)} checks).")
    return 1 if failed or not checks else 0
