"""TBX glossaries (ISO 30042): both dialects, safety against entity attacks, and checking."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtqc.errors import GlossaryError
from mtqc.glossary import inspect_tbx, load_glossary_file, parse_tbx

# Written for these tests: a small terminology of Indonesian ministries and offices.
MARTIF = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE martif SYSTEM "TBXBasiccoreStructV02.dtd">
<martif type="TBX-Basic" xml:lang="en">
  <martifHeader><fileDesc><sourceDesc><p>test terminology</p></sourceDesc></fileDesc></martifHeader>
  <text>
    <body>
      <termEntry id="kominfo">
        <descrip type="definition">Ministry in charge of telecoms and broadcasting.</descrip>
        <admin type="source">setkab.go.id</admin>
        <descrip type="severity">major</descrip>
        <langSet xml:lang="id">
          <tig><term>Kementerian Komunikasi dan Informatika</term></tig>
          <tig><term>Kominfo</term></tig>
        </langSet>
        <langSet xml:lang="en-US">
          <tig>
            <term>Ministry of Communication and Information</term>
            <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote>
          </tig>
          <tig>
            <term>Ministry of Communication and Informatics</term>
            <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote>
          </tig>
          <ntig>
            <termGrp>
              <term>Communication Ministry</term>
              <termNote type="administrativeStatus">admittedTerm-admn-sts</termNote>
            </termGrp>
          </ntig>
        </langSet>
      </termEntry>
      <termEntry id="setneg">
        <langSet xml:lang="in">
          <tig><term>Kementerian Sekretariat Negara</term></tig>
        </langSet>
        <langSet xml:lang="en">
          <ntig>
            <termGrp>
              <term>Ministry of State Secretariat</term>
              <termNote type="normativeAuthorization">preferredTerm</termNote>
            </termGrp>
          </ntig>
          <ntig>
            <termGrp>
              <term>Ministry of State Secretary</term>
              <termNote type="normativeAuthorization">supersededTerm</termNote>
            </termGrp>
          </ntig>
        </langSet>
      </termEntry>
      <termEntry id="english-only">
        <langSet xml:lang="en"><tig><term>State Palace</term></tig></langSet>
      </termEntry>
    </body>
  </text>
</martif>
"""

TBX3 = """<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
  <tbxHeader><fileDesc><sourceDesc><p>test terminology</p></sourceDesc></fileDesc></tbxHeader>
  <text>
    <body>
      <conceptEntry id="c1">
        <langSec xml:lang="id-ID">
          <termSec><term>Badan Pusat Statistik</term></termSec>
          <termSec><term>BPS</term></termSec>
        </langSec>
        <langSec xml:lang="en-GB">
          <descrip type="definition">Indonesia's national statistics agency.</descrip>
          <termSec>
            <term>Statistics Indonesia</term>
            <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote>
            <admin type="source">bps.go.id</admin>
          </termSec>
          <termSec>
            <term>Central Statistics Agency</term>
            <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote>
          </termSec>
          <termSec><term>Central Bureau of Statistics</term></termSec>
        </langSec>
      </conceptEntry>
    </body>
  </text>
</tbx>
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tbx_basic_martif_is_read_through_load_glossary_file(tmp_path: Path) -> None:
    glossary = load_glossary_file(_write(tmp_path, "ministries.tbx", MARTIF))
    kominfo, setneg = glossary.concepts  # the English-only entry has nothing to look for
    assert kominfo.preferred == "Ministry of Communication and Informatics"
    assert kominfo.wrong == ("Ministry of Communication and Information",)
    assert kominfo.accepted == ("Communication Ministry",)
    assert kominfo.indonesian == ("Kementerian Komunikasi dan Informatika", "Kominfo")
    assert kominfo.note == "Ministry in charge of telecoms and broadcasting."
    assert kominfo.source == "setkab.go.id" and kominfo.severity == "major"
    assert kominfo.origin == "ministries.tbx:7"
    assert setneg.preferred == "Ministry of State Secretariat" and setneg.wrong == ("Ministry of State Secretary",)
    assert setneg.indonesian == ("Kementerian Sekretariat Negara",) and setneg.severity == "minor"
    assert glossary.names[0].startswith("ministries.tbx@")

    (match,) = glossary.find("The Ministry of Communication and Information said the outage was fixed.")
    assert match.kind == "wrong" and match.concept.preferred == "Ministry of Communication and Informatics"


def test_tbx_v3_with_namespace_is_read(tmp_path: Path) -> None:
    (concept,) = load_glossary_file(_write(tmp_path, "bps.tbx", TBX3)).concepts
    assert concept.preferred == "Statistics Indonesia"
    assert concept.wrong == ("Central Statistics Agency",)
    assert concept.accepted == ("Central Bureau of Statistics",)
    assert concept.indonesian == ("Badan Pusat Statistik", "BPS")
    assert concept.note == "Indonesia's national statistics agency." and concept.source == "bps.go.id"
    assert concept.origin == "bps.tbx:6"


def test_tbx_v3_without_namespace_and_xml_suffix_dispatch(tmp_path: Path) -> None:
    text = TBX3.replace(' xmlns="urn:iso:std:iso:30042:ed-2"', "")
    glossary = load_glossary_file(_write(tmp_path, "bps.xml", text))
    (match,) = glossary.find("Data from the Central Statistics Agency showed inflation eased.")
    assert match.concept.preferred == "Statistics Indonesia"


def test_without_preferred_status_the_first_admitted_term_is_preferred() -> None:
    data = b"""<martif><text><body><termEntry>
<langSet xml:lang="id"><tig><term>Dewan Perwakilan Rakyat</term></tig></langSet>
<langSet xml:lang="en"><tig><term>House of Representatives</term></tig><tig><term>DPR</term></tig></langSet>
</termEntry></body></text></martif>"""
    (concept,) = parse_tbx(data, "dpr.tbx")
    assert concept.preferred == "House of Representatives" and concept.accepted == ("DPR",)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE martif [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<martif><text><body><termEntry>
<langSet xml:lang="id"><tig><term>&lol9;</term></tig></langSet>
<langSet xml:lang="en"><tig><term>laughs</term></tig></langSet>
</termEntry></body></text></martif>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE martif [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<martif><text><body><termEntry>
<langSet xml:lang="id"><tig><term>&xxe;</term></tig></langSet>
<langSet xml:lang="en"><tig><term>secret</term></tig></langSet>
</termEntry></body></text></martif>
"""


@pytest.mark.parametrize(("text", "line", "entity"), [(BILLION_LAUGHS, 3, "lol"), (EXTERNAL_ENTITY, 3, "xxe")])
def test_entity_declarations_are_refused_before_expanding(tmp_path: Path, text: str, line: int, entity: str) -> None:
    path = _write(tmp_path, "evil.tbx", text)
    with pytest.raises(GlossaryError, match=rf"^evil.tbx:{line}: entity declarations are not allowed") as info:
        load_glossary_file(path)
    assert repr(entity) in str(info.value) and "root:" not in str(info.value)  # nothing from /etc/passwd
    assert inspect_tbx(text.encode(), "evil.tbx")[1][0][0] == line


def test_parameter_entity_pointing_at_the_network_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE martif [\n'
        b'<!ENTITY % pe SYSTEM "http://example.invalid/x.dtd">\n%pe;\n]>\n<martif/>'
    )
    with pytest.raises(GlossaryError, match="entity declarations are not allowed"):
        parse_tbx(data, "pe.tbx")


def test_malformed_xml_names_the_line(tmp_path: Path) -> None:
    text = MARTIF.replace('</termEntry>\n      <termEntry id="setneg">', '</termEntr>\n      <termEntry id="setneg">')
    with pytest.raises(GlossaryError, match=r"^bad.tbx:31: not well-formed XML: mismatched tag"):
        load_glossary_file(_write(tmp_path, "bad.tbx", text))


def test_unknown_root_is_named() -> None:
    with pytest.raises(GlossaryError, match=r"x.xml:2: root element is <glossary>, expected <martif>"):
        parse_tbx(b'<?xml version="1.0"?>\n<glossary><entry/></glossary>', "x.xml")


def test_invalid_severity_extension_is_an_error() -> None:
    data = MARTIF.replace('<descrip type="severity">major</descrip>', '<descrip type="severity">huge</descrip>')
    with pytest.raises(GlossaryError, match=r"m.tbx:10: severity 'huge' is not one of"):
        parse_tbx(data.encode(), "m.tbx")


def test_inspect_tbx_lists_problems_with_lines() -> None:
    data = b"""<?xml version="1.0"?>
<martif><text><body>
<termEntry>
  <langSet xml:lang="id"><tig><term>Mahkamah Konstitusi</term></tig></langSet>
</termEntry>
<termEntry>
  <langSet xml:lang="en"><tig><term>Constitutional Court</term></tig></langSet>
</termEntry>
<termEntry>
  <langSet xml:lang="id"><tig><term>Mahkamah Agung</term></tig></langSet>
  <langSet xml:lang="en">
    <tig><term>Supreme Court</term><termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></tig>
    <tig><term>High Court</term><termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></tig>
    <tig><term>Great Court</term><termNote type="administrativeStatus">obsolete</termNote></tig>
  </langSet>
</termEntry>
</body></text></martif>
"""
    problems = inspect_tbx(data, "courts.tbx")[1]
    assert [line for line, _ in problems] == [3, 6, 9, 14]
    assert "no English term" in problems[0][1]
    assert "neither Indonesian nor deprecated" in problems[1][1]
    assert "2 preferred English terms" in problems[2][1]
    assert "unknown administrativeStatus value 'obsolete'" in problems[3][1]
    # parse_tbx is lenient: only the usable entry survives
    (concept,) = parse_tbx(data, "courts.tbx")
    assert concept.preferred == "Supreme Court" and "High Court" in concept.accepted


def test_inspect_tbx_fatal_problems_and_clean_files() -> None:
    (skipped,) = inspect_tbx(MARTIF.encode(), "m.tbx")[1]
    assert skipped == (51, "entry 'State Palace' has neither Indonesian nor deprecated English terms to look for")
    assert inspect_tbx(TBX3.encode(), "bps.tbx")[1] == []
    (problem,) = inspect_tbx(b"<martif>\n<text>\n</txt></martif>", "bad.tbx")[1]
    assert problem[0] == 3 and problem[1].startswith("not well-formed XML")
    (problem,) = inspect_tbx(b"<html/>", "x.xml")[1]
    assert problem == (1, "root element is <html>, expected <martif> (TBX-Basic/TBX 2008) or <tbx> (TBX v3)")
    assert inspect_tbx(b"<tbx><text><body/></text></tbx>", "e.tbx")[1][0][1].startswith("no termEntry")


# --- property: any input loads or raises GlossaryError, and `glossary check` agrees ----------

_FRAGMENTS = st.one_of(
    st.sampled_from([
        "<", ">", "&", "&amp;", "&bogus;", "]]>", "<!--", "-->", "<![CDATA[x]]>", "</termEntry>", "<termEntry>",
        '<langSet xml:lang="id"><tig><term>Kominfo</term></tig></langSet>', '<descrip type="severity">huge</descrip>',
        '<termNote type="administrativeStatus">oddTerm</termNote>', '<!ENTITY a "b">', "<?xml version='1.0'?>",
        '<langSet xml:lang="en"><tig><term>x</term></tig></langSet>', "\x00", "\r\n", '"', "xml:lang=", "\u00e9",
    ]),
    st.text(max_size=10),
)


def _agree(data: bytes) -> None:
    try:
        concepts = parse_tbx(data, "t.tbx")
    except GlossaryError as exc:
        error: str | None = str(exc)
    else:
        error = None
    checked_concepts, problems = inspect_tbx(data, "t.tbx")
    if error is None:
        assert checked_concepts == concepts
    else:
        assert checked_concepts == [] and any(error == f"t.tbx:{line}: {message}" for line, message in problems)
    if not problems:
        assert error is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(MARTIF)), _FRAGMENTS), max_size=4), st.sampled_from([MARTIF, TBX3]))
def test_any_damaged_tbx_loads_or_raises_and_check_agrees(edits: list[tuple[int, str]], base: str) -> None:
    text = base
    for position, fragment in edits:
        position = min(position, len(text))
        text = text[:position] + fragment + text[position:]
    _agree(text.encode("utf-8", "replace"))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_as_tbx_load_or_raise_and_check_agrees(data: bytes) -> None:
    _agree(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<?xml version='1.0' encoding='no-such-codec'?><martif/>", r"t\.tbx:1: .*unknown encoding"),
        (b"<martif><text><body><termEntry>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</termEntry></body></text></martif>",
         None),
    ],
)
def test_hostile_tbx_is_a_glossary_error_or_loads(data: bytes, message: str | None) -> None:
    if message:
        with pytest.raises(GlossaryError, match=message):
            parse_tbx(data, "t.tbx")
    else:
        assert parse_tbx(data, "t.tbx") == []  # thousands deep, nothing to look for: no RecursionError
    _agree(data)
