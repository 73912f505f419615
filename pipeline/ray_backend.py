"""The one place where stages meet Ray.

* ``connect`` starts a local Ray or joins a cluster (``--address``), the same job either way.
* ``StageChainActor`` runs a chain of stages on Ray Data ``pyarrow`` batches, with ``setup()`` called once
  per actor (models load on the worker, never on the driver).
* ``annotate_units`` runs the annotate pass with one unit (input file) per call on a pool of actors, replacing
  actors lost with their process or node.
* ``RayEngine`` runs task graphs described engine-agnostically (the distributed dedup) as Ray tasks.
"""

from __future__ import annotations

import logging
import os
from typing import Callable, Iterator

import pyarrow as pa

log = logging.getLogger(__name__)


def connect(address: str | None, num_cpus: int | None = None):
    """Start a local Ray (address None) or join an existing cluster; returns the ``ray`` module."""
    import ray

    if ray.is_initialized():
        return ray
    # Quiet Ray's own INFO chatter; our progress bars and summaries say what matters.
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    # Ray reports usage statistics over the network by default; longtail fetches nothing it was not asked to.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True)
    else:
        # address="local": without it ray.init() silently joins any `ray start` cluster on this machine
        # (found via /tmp/ray/ray_current_cluster), possibly another user's, running other code.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=True)
    return ray


class StageChainActor:
    """Ray Data callable class: builds the stages once per actor, then maps batches through them."""

    def __init__(self, build: Callable[[], list]):
        self.stages = build()
        for stage in self.stages:
            stage.setup()

    def __call__(self, batch: pa.Table) -> pa.Table:
        from longtail.stages.base import run_chain

        return run_chain(self.stages, batch)


def map_stages(dataset, build: Callable[[], list], workers: int):
    """Apply a stage chain to a Ray Dataset of Arrow batches with ``workers`` actors."""
    import ray

    # longtail shows its own progress (files, documents/s); Ray Data's per-operator bars and INFO lines would
    # interleave with it, so they are shown only with --verbose. Set here, where Ray Data is used: importing it in
    # connect() cost every run ~0.6 CPU s
    verbose = logging.getLogger("longtail").isEnabledFor(logging.DEBUG)
    ray.data.DataContext.get_current().enable_progress_bars = verbose
    if not verbose:
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    return dataset.map_batches(
        StageChainActor,
        fn_constructor_args=(build,),
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=workers),
    )


class AnnotateUnitsActor:
    """An annotate worker: builds and sets up the annotate chain once, then annotates one input file per call."""

    def __init__(self, manifest):
        from longtail.pipeline.annotate import build_stages

        self.manifest = manifest
        self.stages = build_stages(manifest)
        for stage in self.stages:
            stage.setup()

    def ready(self) -> bool:
        return True

    def annotate(self, unit: str) -> dict:
        from longtail.pipeline.annotate import annotate_unit_row

        # an error in one input file is returned as that file's row (failure, traceback), not raised: the run goes on
        return annotate_unit_row(self.manifest, self.stages, unit)


def annotate_units(manifest, units: list[str], workers: int) -> Iterator[dict]:
    """Yield one result row per unit as units finish (in completion order), from a pool of ``workers`` actors.

    A lost worker (process killed, out of memory, its node died) is replaced by a new actor, placed wherever a CPU
    is free, and its unit goes back to the queue, up to ``ray.task_retries`` times per unit; after that the unit is
    a failed row (no done record, so a rerun retries it). Ray's own actor restarts and task retries are off: a
    task is retried only on its restarted actor, and an actor whose node died restarts only where a CPU is free -
    on a cluster that does not replace the node, never. With them (Ray Data's pool, 3 task retries) a lost node
    failed the run with ActorUnavailableError, the retries spent before Ray had declared the node dead
    (tests/system/test_multinode.py, docs/cluster.md "Node loss"). A retried unit cannot be half-written or
    doubled: its output is written temp+rename with a done record last.
    """
    import ray

    from longtail.pipeline.annotate import INPUT_FAILED, failed_row

    actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(AnnotateUnitsActor)
    queue, attempts = list(reversed(units)), {unit: 0 for unit in units}
    starting, busy, idle, actors = {}, {}, [], []

    def start() -> None:
        actor = actor_class.remote(manifest)
        actors.append(actor)
        starting[actor.ready.remote()] = actor

    for _ in range(max(1, min(workers, len(units)))):
        start()
    try:
        while queue or busy:
            while idle and queue:  # one unit per actor: a unit is a whole file, queueing more behind it leaves others idle
                actor, unit = idle.pop(), queue.pop()
                busy[actor.annotate.remote(unit)] = (actor, unit)
            [ref], _ = ray.wait([*starting, *busy], num_returns=1)
            if ref in starting:
                actor = starting.pop(ref)
                try:
                    ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    if exc.actor_init_failed:  # the chain cannot be built (a model missing...): every actor would fail
                        raise
                    start()  # its node died while it started
                    continue
                idle.append(actor)
                continue
            actor, unit = busy.pop(ref)
            try:
                row = ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                ray.kill(actor, no_restart=True)  # unreachable or dead: never used again
                start()
                attempts[unit] += 1
                if attempts[unit] <= manifest.ray.task_retries:
                    log.warning("annotate worker lost on %s (%s); retrying it (%d of %d)", unit, type(exc).__name__, attempts[unit], manifest.ray.task_retries)
                    queue.append(unit)
                    continue
                row = failed_row(unit, INPUT_FAILED, f"its worker was lost {attempts[unit]} times (process killed, out of memory or node lost): {str(exc)[:300]}")
            else:
                idle.append(actor)
            yield row
    finally:
        for actor in actors:  # also actors still starting or waiting for a CPU
            ray.kill(actor, no_restart=True)


def ray_is_running() -> bool:
    """Whether this process is connected to Ray (the driver of a run, or one of its tasks)."""
    import ray

    return ray.is_initialized()


def cluster_cpus() -> int:
    """CPUs of the connected Ray cluster (every node's), at least 1."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_tasks(function: Callable, argument_lists: list[tuple], num_cpus: float = 1, on_error: Callable | None = None) -> Iterator:
    """Run ``function(*args)`` as Ray tasks, yielding results as they complete. With ``on_error``, a failed task
    (an exception, or its worker died) yields ``on_error(args, exception)`` instead of raising."""
    import ray

    # A task whose worker or node died runs again elsewhere (Ray's default for tasks, said here): the pipeline's
    # tasks write atomically or into a folder published at the end, so a retry cannot leave half a file.
    remote = ray.remote(num_cpus=num_cpus, max_retries=3)(function)
    arguments = {}
    for args in argument_lists:
        arguments[remote.remote(*args)] = args
    pending = list(arguments)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        try:
            yield ray.get(done[0])
        except ray.exceptions.RayError as exc:
            if on_error is None:
                raise
            yield on_error(arguments[done[0]], exc)


class RayEngine:
    """Runs a task graph (``longtail.stages.dedup.distributed.TaskEngine``) as Ray tasks on the connected Ray.

    Parameters
    ----------
    max_retries : int, default 3
        Re-executions of a task whose worker died (OOM kill, node loss). Tasks given to this engine are pure
        functions of their inputs, so a retried task returns the same output.
    num_cpus : float, default 1
        CPUs reserved per task.
    """

    def __init__(self, max_retries: int = 3, num_cpus: float = 1):
        self.max_retries, self.num_cpus = max_retries, num_cpus
        self._remotes: dict = {}

    def task(self, function: Callable, num_returns: int = 1) -> Callable:
        """A submitter: ``submit(*args)`` starts ``function`` and returns an ObjectRef, or a list of
        ``num_returns`` ObjectRefs when ``num_returns > 1``."""
        import ray

        key = (function, num_returns)
        if key not in self._remotes:
            self._remotes[key] = ray.remote(num_cpus=self.num_cpus, max_retries=self.max_retries, num_returns=num_returns)(function).remote
        return self._remotes[key]

    def put(self, value):
        """Store ``value`` in the object store; returns its ObjectRef."""
        import ray

        return ray.put(value)

    def get(self, handles: list) -> list:
        """Wait for ``handles`` (ObjectRefs) and return their values."""
        import ray

        return ray.get(list(handles))


def dedup_engine() -> RayEngine | None:
    """The engine the pipeline deduplicates with: Ray tasks when Ray is running (the driver connected, or this
    is a Ray worker), else None (the caller's in-process path)."""
    import ray

    return RayEngine() if ray.is_initialized() else None
