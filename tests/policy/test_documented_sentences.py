"""tests/policy/documented-sentences.md and the case files say the same thing.

Every case that quotes a documented sentence (`quote`, with its page in `source`) is listed in the
table under that sentence and page, every listed case exists and quotes it, and every case in a
`doc_*.yaml` file quotes one.
"""

from __future__ import annotations

from pathlib import Path

from .case_files import load_cases

TABLE = Path(__file__).resolve().parent / "documented-sentences.md"


def _rows() -> dict[tuple[str, str], list[str]]:
    rows: dict[tuple[str, str], list[str]] = {}
    for line in TABLE.read_text().splitlines():
        if not line.startswith("| https://"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 3, f"malformed row: {line}"
        page, sentence, cases = cells
        assert (page, sentence) not in rows, f"duplicate row for {sentence!r}"
        rows[(page, sentence)] = [c.strip() for c in cases.split(",") if c.strip()]
    return rows


def test_every_documented_case_quotes_a_sentence() -> None:
    missing = [c.id for c in load_cases() if c.file.startswith("doc_") and not c.quote]
    assert not missing, f"cases in doc_*.yaml without a quote: {missing}"


def test_at_least_100_documented_cases() -> None:
    # Issue 13 asks for at least 100 cases written from the documentation.
    assert sum(1 for c in load_cases() if c.quote) >= 100


def test_table_and_case_files_agree() -> None:
    rows = _rows()
    by_id = {c.id: c for c in load_cases()}
    listed: set[str] = set()
    for (page, sentence), ids in rows.items():
        assert ids, f"no case for the sentence {sentence!r}"
        for cid in ids:
            assert cid in by_id, f"table lists unknown case {cid}"
            case = by_id[cid]
            assert (case.source, case.quote) == (page, sentence), (
                f"{cid} quotes {case.quote!r} from {case.source}, the table says otherwise"
            )
            listed.add(cid)
    unlisted = sorted(c.id for c in by_id.values() if c.quote and c.id not in listed)
    assert not unlisted, f"cases quoting a sentence but missing from the table: {unlisted}"


def test_sentences_come_from_aws_pages() -> None:
    for page, _ in _rows():
        assert page.startswith("https://docs.aws.amazon.com/"), page
