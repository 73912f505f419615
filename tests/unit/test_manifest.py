"""Manifest parsing: safe loading, defaults, and errors that name the field."""

import pytest

from longtail.pipeline.manifest import ManifestError, load_manifest, parse_manifest

MINIMAL = {"name": "job", "inputs": ["crawl/*.warc.gz"], "output": "out"}


def test_sample_manifest_loads(repo):
    manifest = load_manifest(repo / "manifests" / "sample.yaml")
    assert manifest.name == "sample"
    assert manifest.output.endswith("out/sample")
    assert manifest.identify.backend == "ensemble"  # heliport + fastText agreement, chosen in docs/lid.md
    assert manifest.dedup.bands * manifest.dedup.rows <= manifest.dedup.num_perm


def test_relative_paths_resolve_against_the_manifest(tmp_path):
    manifest = parse_manifest(MINIMAL, tmp_path)
    assert manifest.output == str((tmp_path / "out").resolve())
    assert manifest.inputs == [str(tmp_path / "crawl/*.warc.gz")]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": None}, "name"),
        ({"inputs": []}, "inputs"),
        ({"colour": "blue"}, "colour"),
        ({"stages": {"identify": {"backend": "magic"}}}, "stages.identify.backend"),
        ({"stages": {"identify": {"bakend": "fasttext"}}}, "stages.identify.bakend"),
        ({"stages": {"dedup": {"bands": 20, "rows": 8}}}, "stages.dedup"),
        ({"stages": {"dedup": {"num_perm": "many"}}}, "stages.dedup.num_perm"),
        ({"selection": {"defaults": {"min_words": "ten"}}}, "selection.defaults.min_words"),
        ({"selection": {"languages": {"../../etc": {"min_words": 3}}}}, "selection.languages.../../etc"),
        ({"selection": {"languages": {"yor_Latn": {"min_wrds": 3}}}}, "selection.languages.yor_Latn.min_wrds"),
        ({"selection": {"keep_languages": ["Yoruba"]}}, "selection.keep_languages"),
    ],
)
def test_bad_manifest_names_the_field(change, field, tmp_path):
    data = {**MINIMAL, **change}
    if data.get("name") is None:
        del data["name"]
    with pytest.raises(ManifestError) as info:
        parse_manifest(data, tmp_path)
    assert str(info.value).startswith(field + ":"), str(info.value)


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo pwned']\ninputs: [a]\noutput: o\n")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(path)


def test_missing_inputs_are_reported(tmp_path):
    manifest = parse_manifest({**MINIMAL, "inputs": ["nothing-here/*.warc.gz"]}, tmp_path)
    with pytest.raises(ManifestError, match="inputs"):
        manifest.input_files()


def test_per_language_thresholds(tmp_path):
    manifest = parse_manifest({**MINIMAL, "selection": {"defaults": {"min_words": 40}, "languages": {"lao_Laoo": {"min_words": 20, "max_perplexity": None}}}}, tmp_path)
    assert manifest.thresholds.min_words == 40
    assert manifest.language_thresholds == {"lao_Laoo": {"min_words": 20, "max_perplexity": None}}


def test_kenlm_bootstrap_settings():
    off = parse_manifest(MINIMAL)
    assert off.quality.kenlm_bootstrap is None
    on = parse_manifest({**MINIMAL, "stages": {"quality": {"kenlm_bootstrap": True}}})
    assert on.quality.kenlm_bootstrap.languages == "missing"
    # issue 12: a bootstrapped model needs 40 distinct lines and 20,000 characters unless the manifest says otherwise
    assert (on.quality.kenlm_bootstrap.min_training_lines, on.quality.kenlm_bootstrap.min_training_characters) == (40, 20_000)
    custom = parse_manifest({**MINIMAL, "stages": {"quality": {"kenlm_bootstrap": {"languages": "all", "head_percentile": 60,
                                                                                   "min_training_lines": 8, "min_training_characters": 1500}}}})
    assert custom.quality.kenlm_bootstrap.languages == "all" and custom.quality.kenlm_bootstrap.head_percentile == 60.0
    assert (custom.quality.kenlm_bootstrap.min_training_lines, custom.quality.kenlm_bootstrap.min_training_characters) == (8, 1500)
    for bad, field in (({"languages": "some"}, "languages must be one of"), ({"strict_lid": 2}, "strict_lid"),
                       ({"minimum": 3}, "stages.quality.kenlm_bootstrap.minimum"), ({"order": "five"}, "stages.quality.kenlm_bootstrap.order")):
        with pytest.raises(ManifestError, match=field):
            parse_manifest({**MINIMAL, "stages": {"quality": {"kenlm_bootstrap": bad}}})


def test_perplexity_basis_is_a_percentile_the_card_stores():
    assert parse_manifest(MINIMAL).thresholds.perplexity_basis_percentile == 10
    assert parse_manifest({**MINIMAL, "selection": {"defaults": {"perplexity_basis_percentile": 50}}}).thresholds.perplexity_basis_percentile == 50
    with pytest.raises(ManifestError, match="percentiles a model card stores"):
        parse_manifest({**MINIMAL, "selection": {"defaults": {"perplexity_basis_percentile": 33}}})
    on = parse_manifest({**MINIMAL, "stages": {"quality": {"kenlm_bootstrap": {"min_heldout_auc": None}}}})
    assert on.quality.kenlm_bootstrap.min_heldout_auc is None
    with pytest.raises(ManifestError, match="min_heldout_auc"):
        parse_manifest({**MINIMAL, "stages": {"quality": {"kenlm_bootstrap": {"min_heldout_auc": 3}}}})
