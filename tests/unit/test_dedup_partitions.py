"""The distributed dedup's partition count follows from the data size and a memory budget (issue 14)."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longtail.pipeline.manifest import ManifestError, parse_manifest
from longtail.stages.dedup import distributed
from longtail.stages.dedup.distributed import (
    DEFAULT_PARTITION_MEMORY_MB,
    WORKER_BASELINE_MB,
    partition_bytes_per_document,
    partition_count,
)
from longtail.stages.dedup.minhash import MinHashParams

MINIMAL = {"name": "job", "inputs": ["crawl/*.warc.gz"], "output": "out"}


def test_partitions_grow_with_documents_and_signature_size():
    params = MinHashParams(num_perm=128, bands=16, rows=8)
    per_doc = partition_bytes_per_document(params)
    budget = (DEFAULT_PARTITION_MEMORY_MB - WORKER_BASELINE_MB) * 2**20
    assert partition_count(0, params) == 1 and partition_count(1, params) == 1
    # exactly one budget's worth of documents fits one partition; one more needs a second
    fits = budget // per_doc
    assert partition_count(fits, params) == 1
    assert partition_count(fits + 1, params) == 2
    # linear in the documents, no cap
    for rows in (10**6, 3 * 10**6, 10**7, 10**8):
        assert partition_count(rows, params) == -(-rows * per_doc // budget)
    assert partition_count(10**8, params) > 64
    # longer signatures and more bands cost more per document, so more partitions
    assert partition_bytes_per_document(MinHashParams(num_perm=256, bands=16, rows=8)) > per_doc
    assert partition_bytes_per_document(MinHashParams(num_perm=128, bands=32, rows=4)) > per_doc
    assert partition_count(10**7, MinHashParams(num_perm=256, bands=16, rows=8)) > partition_count(10**7, params)
    # half the memory above the worker's baseline, (about) twice the partitions
    half = WORKER_BASELINE_MB + (DEFAULT_PARTITION_MEMORY_MB - WORKER_BASELINE_MB) // 2
    assert partition_count(10**7, params, half) in (2 * partition_count(10**7, params) - 1, 2 * partition_count(10**7, params))
    with pytest.raises(ValueError):
        partition_count(10, params, WORKER_BASELINE_MB)


def test_default_partitions_count_tables_and_index_files(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(distributed, "cluster_parts", lambda parts, params, partitions, *a, **k: seen.append(partitions))
    monkeypatch.setattr(distributed, "partition_bytes_per_document", lambda params: 2**20)  # 1 MiB per document
    types = {"text_hash": pa.uint64(), "n_chars": pa.int64(), "minhash": pa.list_(pa.uint32(), 4)}
    rows = pa.table({c: pa.array([None] * 5, types.get(c, pa.string())) for c in distributed.INPUT_COLUMNS})
    index_file = tmp_path / "part-00000.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(7)]}), index_file)
    budget = WORKER_BASELINE_MB + 4  # room for 4 documents
    distributed.cluster_table(rows, partition_memory_mb=budget)
    distributed.cluster_table(rows, partition_memory_mb=budget, index_files=[str(index_file)])
    distributed.cluster_table(rows, partition_memory_mb=budget, partitions=9)
    assert seen == [2, 3, 9]  # ceil(5 / 4), ceil(12 / 4), given


def test_manifest_partition_memory(tmp_path):
    assert parse_manifest(MINIMAL, tmp_path).dedup_partition_memory_mb == DEFAULT_PARTITION_MEMORY_MB
    manifest = parse_manifest({**MINIMAL, "stages": {"dedup": {"partition_memory_mb": 2048, "num_perm": 128}}}, tmp_path)
    assert manifest.dedup_partition_memory_mb == 2048 and manifest.dedup.num_perm == 128
    for bad in ("lots", WORKER_BASELINE_MB, True):
        with pytest.raises(ManifestError) as info:
            parse_manifest({**MINIMAL, "stages": {"dedup": {"partition_memory_mb": bad}}}, tmp_path)
        assert str(info.value).startswith("stages.dedup.partition_memory_mb:")
