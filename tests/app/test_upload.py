"""Areas of the user's own in the app: a zip of an area (as ``python -m sim.new_area`` writes one, filled
with made-up figures) is unpacked, built as a run builds it and offered; a zip that is not a valid area is
refused in one line naming the file (and key or row) with nothing of it kept; the server's
``--config-dir`` folders are passed to the script, offered, and never written."""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sim import api
from sim.app import __main__ as app_main
from sim.app import upload
from sim.app.areas_panel import SEEN, UPLOAD_KEY, load_server_areas, take_upload
from sim.app.common import OWN_AREAS, SERVER_AREAS
from sim.app.levers import Area, areas_in, census_start, start_of
from sim.app.upload import MAX_BYTES, MAX_MEMBERS, UploadRefused, read_area_zip
from sim.config import build
from sim.new_area import new_area

#: The made-up census of the area: six inpatients at the end of March 2016, the month before the shipped
#: run start (2016-04), so the app runs it as it is.
CENSUS_ROWS = """\
1,atu,in,2015-11-02,,,,
2,atu,in,2016-02-20,,,,
3,low_secure,in,2013-06-01,,yes,2016-01-10,funding
4,medium_secure,out,2010-05-05,need,,,
5,atu,out,2016-03-01,beds,,,
6,low_secure,in,2014-09-14,,,,
"""
TCP = "tcp/mine.yaml"
CENSUS = "census/mine_2016-03.csv"


def filled_area(folder: Path, name: str = "mine") -> Path:
    """``python -m sim.new_area``'s area in ``folder``, filled with made-up figures (the new-area test's)."""
    from e2e.test_new_area import fill

    made = new_area(name, folder, title="My Area", month="2016-03")
    made.tcp_file.write_text(fill(made.tcp_file.read_text()))
    made.census_file.write_text(made.census_file.read_text().replace("1,???,???,???,,,,\n", CENSUS_ROWS))
    return folder


@pytest.fixture(scope="module")
def area_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The filled area's files by their path in it."""
    folder = filled_area(tmp_path_factory.mktemp("area") / "mine")
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def zipped(files: Mapping[str, str | bytes], wrap: str = "", beside: Mapping[str, bytes] | None = None) -> bytes:
    """A zip of ``files`` (path -> text), each inside the folder ``wrap`` if given (as zipping a folder
    gives), and the members ``beside`` as they are (an operating system's own)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if wrap:
            z.writestr(f"{wrap}/", b"")
        for path, content in files.items():
            z.writestr(f"{wrap}/{path}" if wrap else path, content)
        for path, content in (beside or {}).items():
            z.writestr(path, content)
    return buf.getvalue()


def edited(files: Mapping[str, str], path: str, old: str, new: str) -> dict[str, str]:
    """``files`` with ``old`` replaced by ``new`` in the file ``path`` (once, and it must be there)."""
    assert old in files[path], old
    return {**files, path: files[path].replace(old, new, 1)}


def refused(data: bytes, tmp_path: Path) -> str:
    """The message of an upload's refusal; nothing of it is left in the directory it would be unpacked in."""
    into = tmp_path / "uploads"
    into.mkdir(exist_ok=True)
    with pytest.raises(UploadRefused) as e:
        read_area_zip(data, name="mine.zip", into=into)
    assert list(into.iterdir()) == []
    return str(e.value)


def uploads_in_tmp() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob(f"{upload.PREFIX}*"))


# ------------------------------------------------------------------------------------------- a valid zip


def test_a_zipped_area_is_unpacked_and_runs_as_the_command_line_would(
    area_files: dict[str, str], tmp_path: Path
) -> None:
    clutter = {"__MACOSX/mine/._tcp": b"\0\5\26\7", "mine/.DS_Store": b"\0\0\0\1Bud1"}
    data = zipped(area_files, wrap="mine", beside=clutter)  # a folder zipped by macOS's Finder
    up = read_area_zip(data, name="my area.zip", into=tmp_path)
    assert up.folder.parent == tmp_path and up.folder.name.startswith(upload.PREFIX)
    assert up.folder.name.endswith("-my_area")
    assert up.areas == (Area("tcp", "mine", str(up.folder)),) and up.clashes() == []
    assert up.areas[0].label == "mine (TCP, uploaded my area.zip)"  # the user's name for it, not the server's path
    kept = sorted(str(p.relative_to(up.folder)) for p in up.folder.rglob("*") if p.is_file())
    assert kept == [CENSUS, TCP]  # the clutter left out
    cfg = up.areas[0].compose([up.areas[0].choice, "run.replications=5", "run.years=1", "run.progress=false"])
    assert cfg.tcp.census == str(up.folder / CENSUS)
    result = api.run(cfg, progress=False)
    start = result.summary[(result.summary.metric == "inpatients") & (result.summary.month == "2016-03")]
    assert float(start["mean"].iloc[0]) == 6  # the made-up census's six inpatients
    assert result.manifest["replications"] == 5


def test_a_zip_without_a_wrapping_folder_and_a_system_of_its_own_tcp_and_a_shipped_one(
    area_files: dict[str, str], tmp_path: Path
) -> None:
    system = (
        "# @package system\n"
        "defaults:\n"
        "  - /tcp@tcps.mine: mine\n"
        "  - /tcp@tcps.bhr: bhr\n"
        "  - override /tcp@_global_.tcp: null\n"
        "  - _self_\n"
        "name: mine_and_bhr\n"
    )
    up = read_area_zip(zipped({**area_files, "system/mine_and_bhr.yaml": system}), into=tmp_path)
    assert [(a.kind, a.name) for a in up.areas] == [("tcp", "mine"), ("system", "mine_and_bhr")]
    cfg = up.areas[1].compose([up.areas[1].choice])
    assert sorted(cfg.system.tcps) == ["bhr", "mine"]
    assert cfg.system.tcps.mine.census == str(up.folder / CENSUS)  # its own census; BHR's the shipped one
    assert [t.name for t in build(cfg).system.tcps] == ["mine", "bhr"]


# ------------------------------------------------------------------------------------------- refusals


def test_what_is_not_a_zip_or_is_too_big_is_refused(area_files: dict[str, str], tmp_path: Path) -> None:
    assert refused(b"name: mine\n", tmp_path) == "upload: is not a zip file"
    assert refused(b"PK\3\4" + b"\0" * 100, tmp_path) == "upload: is not a zip file"
    assert refused(b"\0" * (MAX_BYTES + 1), tmp_path) == "upload: is 5.0 MB, more than 5 MB"
    big = zipped({**area_files, "census/big.csv": "0" * (6 * 2**20)})  # 6 MB of zeros: a few kB zipped
    assert len(big) < 100_000
    assert refused(big, tmp_path) == "upload: unpacks to 6.0 MB, more than 5 MB"
    many = zipped({**area_files, **{f"census/c{i}.csv": "id\n" for i in range(MAX_MEMBERS)}})
    assert refused(many, tmp_path) == f"upload: has {MAX_MEMBERS + 2} files and folders, more than {MAX_MEMBERS}"


def patched(data: bytes, member: str, offset: int, value: int, size: int) -> bytes:
    """A zip whose central directory entry of ``member`` has ``value`` (``size`` bytes, little-endian) at
    ``offset`` from the entry's start (8: the flags, 24: the size unpacked): what zipfile does not write."""
    out = bytearray(data)
    entry = out.rindex(b"PK\1\2", 0, out.index(member.encode(), out.index(b"PK\1\2")))
    out[entry + offset : entry + offset + size] = value.to_bytes(size, "little")
    return bytes(out)


def test_a_zip_whose_declared_sizes_lie_is_refused(area_files: dict[str, str], tmp_path: Path) -> None:
    data = zipped({**area_files, "census/big.csv": "0" * 100_000})
    # big.csv says it unpacks to 10 bytes: a zip bomb passing the declared-size check
    lying = patched(data, "census/big.csv", 24, 10, 4)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("census/big.csv").file_size == 10
    assert refused(lying, tmp_path) == (
        "upload: is a damaged zip, or one that cannot be read (Bad CRC-32 for file 'census/big.csv')"
    )


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("../x.yaml", "../x.yaml: points outside the upload (an empty, . or .. part of its path)"),
        ("tcp/../../x.yaml", "tcp/../../x.yaml: points outside the upload (an empty, . or .. part of its path)"),
        ("/etc/x.yaml", "/etc/x.yaml: is an absolute path: every path must be inside the upload"),
        ("C:/area/tcp/x.yaml", "C:/area/tcp/x.yaml: is an absolute path: every path must be inside the upload"),
        ("tcp\\x.yaml", "tcp\\x.yaml: has a backslash in its path (zip paths use /)"),
        ("tcp/a:b.yaml", "tcp/a:b.yaml: has a character a path may not have (: or a control character)"),
        ("tcp/a\nb.yaml", "tcp/a\\x0ab.yaml: has a character a path may not have (: or a control character)"),
        ("tcp/run.py", "tcp/run.py: only .yaml and .csv files are taken (a TCP or system, and its census)"),
        ("census/notes.txt", "census/notes.txt: only .yaml and .csv files are taken (a TCP or system, and its census)"),
        ("tcp/mine2.yml", "tcp/mine2.yml: name it .yaml: the simulator reads only .yaml files"),
        (
            "tcp/my area.yaml",
            "tcp/my area.yaml: 'my area' must be 1 to 64 letters, digits, _ or -, starting with a letter or digit",
        ),
        ("tcp/sub/x.yaml", "tcp/sub/x.yaml: a YAML file must be tcp/<name>.yaml or system/<name>.yaml"),
        (
            "scenario/baseline.yaml",
            "scenario/baseline.yaml: is not in tcp/, system/ or census/ (or one folder holding them)",
        ),
        ("run/default.yaml", "run/default.yaml: is not in tcp/, system/ or census/ (or one folder holding them)"),
        (
            "system/single.yaml",
            "system/single.yaml: 'single' is the system of whichever TCP is chosen: name your system otherwise",
        ),
    ],
)
def test_a_member_outside_the_upload_or_not_an_area_file_is_refused(
    area_files: dict[str, str], tmp_path: Path, member: str, message: str
) -> None:
    assert refused(zipped({**area_files, member: "name: x\n"}), tmp_path) == message


def with_member(files: Mapping[str, str], member: zipfile.ZipInfo, content: str) -> bytes:
    """A zip of ``files`` and one member made by hand (its file type, its flags)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr(member, content)
    return buf.getvalue()


def test_a_member_twice_is_refused(area_files: dict[str, str], tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zipped(area_files, wrap="mine", beside={f"mine/{CENSUS}": b"id,unit,area,admitted\n"})
    assert refused(data, tmp_path) == f"mine/{CENSUS}: is in the zip twice"


def test_a_symbolic_link_or_an_encrypted_member_is_refused(area_files: dict[str, str], tmp_path: Path) -> None:
    link = zipfile.ZipInfo("census/passwd.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert refused(with_member(area_files, link, "/etc/passwd"), tmp_path) == (
        "census/passwd.csv: is a symbolic link: only plain files and folders are taken"
    )
    fifo = zipfile.ZipInfo("census/pipe.csv")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    assert refused(with_member(area_files, fifo, ""), tmp_path) == "census/pipe.csv: is not a plain file or folder"
    secret = patched(zipped({**area_files, "census/secret.csv": "id\n"}), "census/secret.csv", 8, 0x1, 2)
    assert refused(secret, tmp_path) == "census/secret.csv: is encrypted"


def test_too_many_areas_or_yaml_nested_too_deep_is_refused(area_files: dict[str, str], tmp_path: Path) -> None:
    many = {**area_files, **{f"tcp/t{i}.yaml": area_files[TCP] for i in range(upload.MAX_AREAS)}}
    assert refused(zipped(many), tmp_path) == (
        f"upload: has {upload.MAX_AREAS + 1} areas, more than {upload.MAX_AREAS}: upload them in several zips"
    )
    deep = "name: mine\nx:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(11))
    assert refused(zipped({TCP: deep}), tmp_path) == (
        f"tcp/mine.yaml: line 12: mappings and lists nested more than {upload.MAX_DEPTH} deep"
    )


def test_bad_yaml_is_refused_naming_the_file_and_line(area_files: dict[str, str], tmp_path: Path) -> None:
    bad = edited(area_files, TCP, "title: My Area\n", "title: My Area\n  oops: here\n")
    line = 1 + area_files[TCP].split("title: My Area\n")[0].count("\n")  # the title's
    assert refused(zipped(bad), tmp_path) == (
        f"tcp/mine.yaml: line {line + 1}: is not valid YAML (mapping values are not allowed here)"
    )
    alias = edited(area_files, TCP, "title: My Area\n", "title: &t My Area\nshort: *t\n")
    assert refused(zipped(alias), tmp_path) == (
        f"tcp/mine.yaml: line {line + 1}: YAML anchors and aliases (&, *) are not taken: write values out"
    )
    assert refused(zipped({TCP: "- a list\n- not keys\n"}), tmp_path) == (
        "tcp/mine.yaml: is not a mapping of keys (key: value lines)"
    )
    latin = zipped({**area_files, TCP: area_files[TCP].replace("My Area", "My Área").encode("latin-1")})
    assert refused(latin, tmp_path).startswith("tcp/mine.yaml: is not UTF-8 text (byte ")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "title: My Area\n",
            "title: ${oc.env:HOME}\n",
            "tcp/mine.yaml: title: '${...}' (an interpolation or resolver) is not taken in an uploaded file",
        ),
        (
            "people: {red: 5,",
            "people: {red: '${population.adults}',",
            "tcp/mine.yaml: register.people.red: '${...}' (an interpolation or resolver) is not taken in an "
            "uploaded file",
        ),
        (
            "name: mine\n",
            "name: mine\n'${oc.env:HOME}': 1\n",
            "tcp/mine.yaml: ${oc.env:HOME}: '${...}' (an interpolation or resolver) is not taken in an uploaded file",
        ),
        (
            "census: census/mine_2016-03.csv",
            "census: ../../etc/passwd",
            "tcp/mine.yaml: census: '../../etc/passwd' points outside the upload (give a path inside it, e.g. "
            "census/<file>.csv)",
        ),
        (
            "census: census/mine_2016-03.csv",
            "census: /etc/passwd",
            "tcp/mine.yaml: census: '/etc/passwd' points outside the upload (give a path inside it, e.g. "
            "census/<file>.csv)",
        ),
        (
            "census: census/mine_2016-03.csv",
            "census: census/mine_2016-04.csv",
            "tcp/mine.yaml: census: 'census/mine_2016-04.csv' is not in the upload",
        ),
        (
            "name: mine\n",
            "name: mine\ncommunity_census: ../community.csv\n",
            "tcp/mine.yaml: community_census: '../community.csv' points outside the upload (give a path inside it, "
            "e.g. census/<file>.csv)",
        ),
    ],
)
def test_an_interpolation_or_a_census_outside_is_refused_naming_the_key(
    area_files: dict[str, str], tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert refused(zipped(edited(area_files, TCP, old, new)), tmp_path) == message


def test_a_file_that_sets_keys_outside_its_area_is_refused(area_files: dict[str, str], tmp_path: Path) -> None:
    global_ = {**area_files, TCP: "# @package _global_\nrun:\n  resume: /somewhere\n"}
    assert refused(zipped(global_), tmp_path) == (
        "tcp/mine.yaml: line 1: '@package _global_' sets keys outside its tcp (only tcp.*)"
    )
    # a defaults list can place a config anywhere too: the composed config must differ only in tcp.*
    defaults = "defaults:\n  - override /run@_global_.run: quick\n  - _self_\nname: mine\n"
    by_defaults = edited(area_files, TCP, "name: mine\n", defaults)
    assert refused(zipped(by_defaults), tmp_path) == "tcp/mine.yaml: sets run.* keys, outside its area (tcp.* only)"


def test_a_census_row_with_a_bad_value_is_refused_with_the_command_lines_line(
    area_files: dict[str, str], tmp_path: Path
) -> None:
    bad = edited(area_files, CENSUS, "2,atu,in,2016-02-20", "2,ward,in,2016-02-20")
    # the template's six comment lines and header, then the rows: the second is line 9
    assert refused(zipped(bad), tmp_path) == (
        "tcp/mine.yaml: tcp.census: mine_2016-03.csv line 9: unknown unit type 'ward' (expected one of atu, "
        "low_secure, medium_secure, camhs_t4)"
    )
    unfilled = edited(area_files, TCP, "adults: 250000", 'adults: "???"')
    said = refused(zipped(unfilled), tmp_path)
    assert said.startswith("tcp/mine.yaml: tcp.population.adults: ") and "missing mandatory value" in said


def test_a_zip_with_no_area_is_refused(area_files: dict[str, str], tmp_path: Path) -> None:
    message = "upload: has no area in it (no tcp/<name>.yaml or system/<name>.yaml)"
    assert refused(zipped({CENSUS: area_files[CENSUS]}, wrap="mine"), tmp_path) == message
    assert refused(zipped({}), tmp_path) == message


def test_a_refusal_keeps_nothing_in_the_temporary_directory(area_files: dict[str, str]) -> None:
    before = uploads_in_tmp()
    bad = edited(area_files, CENSUS, "2,atu,in,2016-02-20", "2,atu,in,2016-02-30")
    with pytest.raises(UploadRefused, match="admitted '2016-02-30' is not a date"):
        read_area_zip(zipped(bad))  # refused after unpacking, when built
    assert uploads_in_tmp() == before


# ------------------------------------------------------------------------------------------- the panel


def test_the_panel_adds_an_upload_once_and_tells_a_refusal(area_files: dict[str, str]) -> None:
    state: dict = {}
    data = zipped(area_files, wrap="mine")
    before = uploads_in_tmp()
    notice = take_upload("mine.zip", data, state)
    (area,) = state[OWN_AREAS]
    assert notice.ok and notice.text == (
        f"Added from mine.zip: mine (TCP). Choose it in the Area box (from {area.config_dir})."
    )
    assert take_upload("mine.zip", data, state) == notice  # a rerun hands the same bytes over: not again
    assert state[OWN_AREAS] == [area] and len(uploads_in_tmp() - before) == 1
    no = take_upload("notes.zip", b"not a zip", state)
    assert not no.ok and no.text == "notes.zip was not taken: upload: is not a zip file"
    assert state[OWN_AREAS] == [area] and len(state[SEEN]) == 2


def test_the_panel_says_when_an_upload_has_a_shipped_areas_name(tmp_path: Path) -> None:
    folder = filled_area(tmp_path / "bhr", name="bhr")
    files = {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}
    state: dict = {}
    notice = take_upload("bhr.zip", zipped(files), state)
    (area,) = state[OWN_AREAS]
    assert notice.ok and notice.text == (
        f"Added from bhr.zip: bhr (TCP). Choose it in the Area box (from {area.config_dir}). bhr: a shipped area "
        "has the same name; both are offered, yours is the one from that folder."
    )


def test_the_sidebar_upload_joins_the_run_pages_area_box(area_files: dict[str, str]) -> None:
    script = (
        "from sim.app.areas_panel import areas_panel\nfrom sim.app.page import run_page\nareas_panel()\nrun_page()\n"
    )
    at = AppTest.from_string(script, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.sidebar.file_uploader(key=UPLOAD_KEY).set_value(("mine.zip", zipped(area_files), "application/zip"))
    at.run()
    assert not at.exception and not at.sidebar.error, at.exception
    assert at.sidebar.success[0].value.startswith("Added from mine.zip: mine (TCP).")
    (own,) = at.session_state[OWN_AREAS]
    box = at.selectbox(key="run:area")
    assert own.label in box.options
    box.set_value(own).run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert at.number_input(key=f"replications:{own.choice}@{own.config_dir}:baseline").value == 1000
    at.sidebar.file_uploader(key=UPLOAD_KEY).set_value(("bad.zip", b"PK no zip", "application/zip"))
    at.run()
    assert not at.exception
    assert [e.value for e in at.sidebar.error] == ["bad.zip was not taken: upload: is not a zip file"]


# ------------------------------------------------------------------------------------------- --config-dir


def test_config_dirs_go_to_the_script_after_a_double_dash() -> None:
    cmd = app_main.command("127.0.0.1", 8501, ["/a", "/b c"])
    assert cmd[:5] == [app_main.sys.executable, "-m", "streamlit", "run", str(app_main.SCRIPT)]
    assert cmd[cmd.index("--") :] == ["--", "--config-dir", "/a", "--config-dir", "/b c"]
    assert "--" not in app_main.command("127.0.0.1", 8501)
    assert app_main.script_config_dirs(cmd[cmd.index("--") + 1 :]) == ["/a", "/b c"]
    assert app_main.script_config_dirs([]) == []
    assert app_main.script_config_dirs(["--config", "/x"]) == []  # no abbreviation taken for it


def test_the_server_checks_its_config_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = filled_area(tmp_path / "area")
    ran: list[list[str]] = []
    monkeypatch.setattr(app_main.os, "execv", lambda path, cmd: ran.append(cmd))
    monkeypatch.chdir(tmp_path)
    app_main.main(["--config-dir", "area", "--port", "8600"])
    assert ran[0][-2:] == ["--config-dir", str(folder.resolve())]
    no_area = "holds no area (no tcp/NAME.yaml or system/NAME.yaml)"
    for bad, said in [(tmp_path / "none", "not a folder"), (tmp_path, no_area)]:
        with pytest.raises(SystemExit) as e:
            app_main.main(["--config-dir", str(bad)])
        err = capsys.readouterr().err.splitlines()
        assert e.value.code == 2 and err[-1] == f"python -m sim.app: error: --config-dir {bad}: {said}"


def test_the_script_offers_the_config_dirs_areas_and_never_writes_there(tmp_path: Path) -> None:
    folder = filled_area(tmp_path / "area")
    state: dict = {}
    load_server_areas([str(folder)], state)
    assert state[SERVER_AREAS] == [Area("tcp", "mine", str(folder.resolve()))] == areas_in(folder)

    def snapshot() -> list[tuple[str, int, int]]:
        return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))

    before = snapshot()
    (area,) = state[SERVER_AREAS]
    cfg = area.compose([area.choice, "run.replications=5", "run.years=1"])
    api.run(cfg, progress=False)
    assert snapshot() == before


def test_the_apps_script_offers_its_config_dirs_areas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = filled_area(tmp_path / "area")
    script = Path(app_main.SCRIPT)
    monkeypatch.setattr(app_main.sys, "argv", [str(script), "--config-dir", str(folder)])  # as Streamlit sets it
    at = AppTest.from_file(str(script), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    mine = Area("tcp", "mine", str(folder.resolve()))
    assert at.session_state[SERVER_AREAS] == [mine]
    assert mine.label in at.selectbox(key="run:area").options


def test_an_area_with_a_later_census_is_taken_and_offered_from_the_month_after_it(tmp_path: Path) -> None:
    """A census of March 2024 (the template's own month, as a planner makes one) is validated, and
    offered by the Run page, from April 2024: from the shipped 2016 start its admissions would be after
    the start and refused."""
    folder = tmp_path / "later"
    made = new_area("later", folder, title="Later Area", month="2024-03")
    from e2e.test_new_area import fill

    made.tcp_file.write_text(fill(made.tcp_file.read_text()))
    made.census_file.write_text(made.census_file.read_text().replace("1,???,???,???,,,,\n", CENSUS_ROWS))
    files = {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}
    assert "census/later_2024-03.csv" in files
    up = read_area_zip(zipped(files), name="later.zip", into=tmp_path)
    (area,) = up.areas
    cfg = area.compose([area.choice])
    assert str(cfg.run.start) == "2016-04" and census_start(cfg) == "2024-04" and start_of(area, cfg) == "2024-04"
    assert start_of(Area("tcp", "bhr"), cfg) == "2016-04"  # a shipped area starts where its files say
    script = "from sim.app.page import run_page\nrun_page()\n"
    at = AppTest.from_string(script, default_timeout=180)
    at.session_state[OWN_AREAS] = [area]
    at.run()
    at.selectbox(key="run:area").set_value(area).run()
    tag = f"tcp=later@{area.config_dir}:baseline"
    assert at.text_input(key=f"start:{tag}").value == "2024-04"
    assert "run.start=2024-04" in at.code[0].value
    at.number_input(key=f"replications:{tag}").set_value(5)
    at.number_input(key=f"years:{tag}").set_value(1.0)
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.image) >= 1
