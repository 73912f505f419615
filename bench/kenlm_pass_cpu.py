"""The KenLM bootstrap's tasks in one process, on a finished run's annotations: their CPU time (Python, and the lmplz
and build_binary processes they start) and, with ``--compare``, whether the models the run scores with are the
same as another folder's (e.g. trained by an earlier commit).

    .venv/bin/python bench/kenlm_pass_cpu.py ANNOTATED_DIR [--out DIR] [--compare OTHER_DIR]

ANNOTATED_DIR: a run's ``annotated/`` folder (e.g. ``/tmp/longtail-bench-real/run/out/annotated`` after
``bench/bench_real_speed.py``, or ``bench/data/scaling/run1core/out/annotated`` after its ``--scaling``). The
tasks are those ``longtail run`` submits (``task_batches`` over ``language_sizes``), with manifests/sample.yaml's
bootstrap settings, one after the other, without Ray. ``--compare``: every file under ``folds/`` must be the same
bytes, and each language's card the same apart from ``model_sha256`` and ``settings.final_model`` (an earlier
commit built the final model in every run); final models present in only one folder are listed, not failed.
To train OTHER_DIR with an earlier commit, import the package from a checkout of it:

    git worktree add /tmp/old <commit> && mkdir /tmp/oldpkg && ln -s /tmp/old /tmp/oldpkg/longtail
    PYTHONPATH=/tmp/oldpkg .venv/bin/python bench/kenlm_pass_cpu.py ANNOTATED_DIR --manifest /tmp/old/manifests/sample.yaml --out OTHER_DIR
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train(annotated: Path, out: Path, manifest: Path) -> None:
    from longtail.pipeline.bootstrap import bootstrap_languages_task, language_sizes, task_batches, trainable_label
    from longtail.pipeline.manifest import load_manifest

    settings = load_manifest(str(manifest)).quality.kenlm_bootstrap
    files = sorted(str(p) for p in annotated.glob("*.parquet"))
    started, started_children = time.process_time(), children_cpu()
    sizes = language_sizes(files)
    todo = [label for label in sorted(sizes) if trainable_label(label)]  # as run_bootstrap
    for batch in task_batches(todo, sizes, settings):
        task, task_children = time.process_time(), children_cpu()
        results = bootstrap_languages_task(files, batch, str(out), settings, str(annotated))
        trained = sum(1 for _, result in results if result.get("status") in ("bootstrapped", "too_weak"))
        print(f"  task of {len(batch):>3} languages ({', '.join(batch[:3])}{' ...' if len(batch) > 3 else ''}): {trained} trained, "
              f"Python {time.process_time() - task:.2f} CPU s, lmplz/build_binary {children_cpu() - task_children:.2f} CPU s")
    print(f"total: Python {time.process_time() - started:.2f} CPU s, lmplz/build_binary {children_cpu() - started_children:.2f} CPU s; models in {out}")


def comparable_card(card: dict) -> dict:
    card = dict(card)
    card.pop("model_sha256", None)
    if "bootstrap" in card:
        card["bootstrap"] = {**card["bootstrap"], "settings": {k: v for k, v in card["bootstrap"]["settings"].items() if k != "final_model"}}
    return card


def compare(new: Path, old: Path) -> int:
    folds = lambda root: sorted(p.relative_to(root) for p in (root / "folds").rglob("*") if p.is_file())  # noqa: E731
    differences = []
    if folds(new) != folds(old):
        differences.append("different files under folds/")
    differences += [str(name) for name in set(folds(new)) & set(folds(old)) if (new / name).read_bytes() != (old / name).read_bytes()]
    cards = sorted(p.name for p in new.glob("*.json"))
    if cards != sorted(p.name for p in old.glob("*.json")):
        differences.append("different cards")
    differences += [name for name in cards if (old / name).is_file()
                    and comparable_card(json.loads((new / name).read_text())) != comparable_card(json.loads((old / name).read_text()))]
    only = sorted({p.name for p in new.glob("*.binary")} ^ {p.name for p in old.glob("*.binary")})
    print(f"compared {len(folds(new))} files under folds/ and {len(cards)} cards: {len(differences)} differences"
          + (f"; final models in one folder only: {len(only)}" if only else ""))
    for difference in differences[:20]:
        print("  differs:", difference)
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("annotated", type=Path, help="a run's annotated/ folder")
    parser.add_argument("--out", type=Path, help="models folder (default: a new temporary folder)")
    parser.add_argument("--compare", type=Path, help="another models folder trained from the same annotations")
    parser.add_argument("--manifest", type=Path, default=REPO / "manifests" / "sample.yaml", help="whose kenlm_bootstrap settings (default: manifests/sample.yaml)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="kenlm-pass-"))
    train(args.annotated, out, args.manifest)
    return compare(out, args.compare) if args.compare else 0


if __name__ == "__main__":
    sys.exit(main())
