"""The English catalogue covers every user-facing string in the sources.

The msgids are Bahasa Indonesia, written straight into the Python and the templates.
These tests extract them afresh, the way `pybabel extract -F babel.cfg -k _l` does, so a
string added without an English translation fails here by name, before anyone runs
`pybabel update`. To fix a failure, from the repository root:

    .venv/bin/pybabel extract -F babel.cfg -k _l -o posyandu/translations/messages.pot .
    .venv/bin/pybabel update -i posyandu/translations/messages.pot -d posyandu/translations

then fill in the empty (or fuzzy) msgstr entries in
posyandu/translations/en/LC_MESSAGES/messages.po.
"""
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "babel.cfg"
EN_PO = ROOT / "posyandu" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# The same keywords as `pybabel extract -k _l`: Babel's defaults plus flask_babel's lazy_gettext alias.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}
# A Python %-format conversion: "%(name)s", "%(n)d", "%s", "%%" (a literal percent sign).
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])")


def _key(message):
    return (message.id, message.context)


def _show(message_id):
    return " / ".join(repr(i) for i in message_id) if isinstance(message_id, tuple) else repr(message_id)


def _forms(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _placeholders(text: str) -> set[str]:
    """Named placeholders in a %-format string; '%s' style ones as '<positional>'."""
    found = set()
    for m in PLACEHOLDER.finditer(text or ""):
        if m.group("conv") == "%":
            continue
        found.add(m.group("name") if m.group("name") is not None else "<positional>")
    return found


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Messages extracted now from the sources, via a temporary .pot as `pybabel extract` writes it."""
    with MAPPING.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(MAPPING))
    catalog = Catalog(charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with pot.open("wb") as f:
        write_po(f, catalog, width=76)
    with pot.open("rb") as f:
        messages = [m for m in read_po(f) if m.id]
    assert messages, f"nothing was extracted with {MAPPING.name}; is the mapping or the layout broken?"
    return messages


@pytest.fixture(scope="module")
def english():
    with EN_PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    return catalog


def _where(message):
    return ", ".join(f"{path}:{line}" for path, line in message.locations[:3])


def test_every_extracted_message_has_an_english_translation(extracted, english):
    by_key = {_key(m): m for m in english if m.id}
    missing = []
    for message in extracted:
        entry = by_key.get(_key(message))
        if entry is None or not all(form and form.strip() for form in _forms(entry.string)):
            missing.append(f"  {_show(message.id)}  ({_where(message)})")
    assert not missing, (
        f"{len(missing)} message(s) have no English translation in {EN_PO.relative_to(ROOT)}; "
        "run pybabel extract + update (see this file's docstring) and fill in msgstr:\n" + "\n".join(missing)
    )


def test_no_fuzzy_translations_for_extracted_messages(extracted, english):
    """A fuzzy entry is pybabel update's guess from a *different* msgid: check it, then drop the flag."""
    wanted = {_key(m) for m in extracted}
    fuzzy = [f"  {_show(m.id)} -> {_show(m.string)}" for m in english if m.id and m.fuzzy and _key(m) in wanted]
    assert not fuzzy, (
        f"{len(fuzzy)} translation(s) are marked '#, fuzzy' in {EN_PO.relative_to(ROOT)}; "
        "check each one and remove the flag:\n" + "\n".join(fuzzy)
    )


def test_placeholders_in_translations_match_the_msgid(english):
    wrong = []
    for message in english:
        if not message.id:
            continue
        expected = set().union(*(_placeholders(i) for i in _forms(message.id)))
        forms = [s for s in _forms(message.string) if s]
        if not forms:
            continue  # missing translations are reported by the test above
        got = [_placeholders(s) for s in forms]
        plural = isinstance(message.id, tuple)
        # A plural form may leave out the count (English "one item"), never add a placeholder of its own.
        ok = all(g <= expected for g in got) and set().union(*got) == expected if plural else got[0] == expected
        if not ok:
            wrong.append(f"  {_show(message.id)} -> {_show(message.string)}: "
                         f"msgid has {sorted(expected)}, msgstr has {[sorted(g) for g in got]}")
            continue
        names = {n for n in expected if n != "<positional>"}
        for form in forms if names and "<positional>" not in expected else ():
            try:
                form % {n: 1 for n in names}
            except (ValueError, TypeError, KeyError) as exc:
                wrong.append(f"  {_show(message.id)} -> {form!r}: not a valid %-format string ({exc})")
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_catalogue_passes_babels_own_checks(english):
    problems = [
        f"  {_show(message.id)}: {'; '.join(str(e) for e in errors)}" for message, errors in english.check() if errors
    ]
    assert not problems, "pybabel compile would complain about:\n" + "\n".join(problems)


def test_each_message_is_in_the_catalogue_once():
    """Two branches adding the same msgid leave a catalogue that msgfmt refuses and Babel reads silently."""
    ids = re.findall(r'^msgid ((?:".*"\n)+)', EN_PO.read_text(encoding="utf-8"), re.M)
    seen, twice = set(), []
    for raw in ids:
        text = "".join(re.findall(r'"(.*)"', raw))
        if text in seen:
            twice.append(text)
        seen.add(text)
    assert twice == []
