"""Labels the ensemble's script-only-evidence rule turns into ``und`` (docs/lid.md, "Open set").

A label is affected when only one member can emit the language, the language is the only one that member knows
in that script (CLDR scripts of the member's inventory, langid/ensemble.py; Latin never counts) and the label has
no calibration entry of its own in langid/calibration.json. Printed from the code's own tables:

    .venv/bin/python bench/lid_script_only_labels.py            # every single-language script, affected or not
    .venv/bin/python bench/lid_script_only_labels.py --affected # only the labels answered und
"""

from __future__ import annotations

import argparse


def main(argv=None) -> int:
    from longtail.langid.ensemble import DocumentIdentifier, covers
    from longtail.langid.labels import lang_script

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calibration", default=None, help="calibration table (default: langid/calibration.json)")
    parser.add_argument("--affected", action="store_true", help="print only the labels that become und")
    args = parser.parse_args(argv)

    ident = DocumentIdentifier("ensemble", calibration=args.calibration)
    ident.setup()
    for index, member in enumerate(ident.members):
        other = ident._supported[1 - index]
        key = ident.calibration_key(member)
        for script, langs in sorted(ident._script_languages[index].items()):
            if script == "Latn" or len(langs) != 1:
                continue
            (lang,) = langs
            if covers(other, lang):
                continue
            label = lang_script(lang, script)
            own = ident.calibration.has_own(key, label)
            if own and args.affected:
                continue
            print(f"{member.name:9} {label:10} {'calibrated (answered)' if own else 'no entry -> und'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
