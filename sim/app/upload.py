"""An area of the user's own uploaded as a zip (no Streamlit): checked, unpacked into a private temporary
directory and validated as a run would compose and build it, or refused with one line and nothing kept.

A zip is what zipping the folder ``python -m sim.new_area`` writes gives: ``tcp/<name>.yaml`` and
``system/<name>.yaml`` (the areas), CSVs under ``tcp/``, ``system/`` or ``census/`` (their censuses), all
possibly inside one folder. Everything is checked before anything is written: the zip itself (a zip, of at
most ``MAX_BYTES`` unpacked, by the sizes it declares and counted again while reading, so a zip bomb
stops at the limit; at most ``MAX_MEMBERS`` members and ``MAX_AREAS`` areas), each member's path
(relative, inside the upload, a plain file or folder of the kinds above), each YAML file (parsed by
``yaml.safe_load``; no anchors or aliases, nothing nested deeper than ``MAX_DEPTH``; no OmegaConf
interpolation or resolver, ``${...}``, which could read the server's environment or files; no
``@package`` outside its own area; census paths inside the upload). Then each area is composed and
built exactly as a run would (``Area.compose`` and ``sim.config.build``), so a census row with a bad
value is refused with the command line's line, and the composed config must differ from the shipped
one only in the area's own keys (``tcp.*``, and for a system ``system.*``): an uploaded file cannot set
``run.*`` (a resume directory, a Dask scheduler) nor a scenario.

A ``--config-dir`` given to the server is the user's own folder on it, trusted as the command line
trusts it, and only ever read (``areas_in``).
"""

from __future__ import annotations

import atexit
import io
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from sim.api import compose
from sim.app.levers import Area, areas, areas_in, start_of
from sim.config import build
from sim.config.build import SAFE_NAME
from sim.config.census import CENSUS_KEYS
from sim.config.errors import ConfigError, user_error_line
from sim.config.store import CONFIG_DIR

#: The most an upload may hold, unpacked (and the zip itself): a TCP file is about 30 kB, a census of
#: England's 2,000 inpatients about 100 kB; 5 MB leaves room for many areas and long censuses.
MAX_BYTES = 5 * 2**20
#: The most members (files and folders) a zip may have.
MAX_MEMBERS = 200
#: The most areas (TCP and system files) an upload may hold: each is composed and built before any is
#: offered (about half a second each), and a planner's zip holds a few.
MAX_AREAS = 20
#: The deepest a YAML file's mappings and lists may nest (the shipped configs' are 7 deep at most).
MAX_DEPTH = 20
#: The folders an upload's files may be in: its areas and their censuses.
TOPS = ("tcp", "system", "census")
#: The prefix of an unpacked upload's temporary directory.
PREFIX = "tcp-sim-upload-"
#: Files an operating system adds when it zips a folder (macOS's ``__MACOSX/`` copies, Finder's and
#: Windows' folder settings): left out, not refused.
CLUTTER_FOLDERS = ("__MACOSX",)
CLUTTER_FILES = (".DS_Store", "Thumbs.db", "desktop.ini")
#: Bytes read from a member at a time, counted against ``MAX_BYTES``.
CHUNK = 64 * 2**10
#: The sizes a message states.
_MB = 2**20

_DRIVE = re.compile(r"^[A-Za-z]:")
_PACKAGE = re.compile(r"^\s*#\s*@package\s+(\S+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadRefused(ConfigError):
    """An upload that is not a valid area: ``key`` names the file (or ``upload``), the message says why,
    in one line (a control character of a file name or key, a newline, shown as ``\\xNN``). Nothing of
    it is kept."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(_escaped(key), _escaped(problem))


def _escaped(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True)
class UploadedArea:
    """A valid upload: the directory it was unpacked into (its areas' ``config_dir``) and its areas."""

    folder: Path
    areas: tuple[Area, ...]

    def clashes(self) -> list[Area]:
        """Its areas that have the name of a shipped area of their kind (both are offered, told apart by
        their folder)."""
        shipped = {(a.kind, a.name) for a in areas()}
        return [a for a in self.areas if (a.kind, a.name) in shipped]


def read_area_zip(
    data: bytes, *, name: str = "upload", into: str | Path | None = None, overrides: Sequence[str] = ()
) -> UploadedArea:
    """The areas of an uploaded zip (``data``), unpacked into a fresh private directory made in ``into``
    (default: the system's temporary directory) and validated as a run composes and builds them, with
    ``overrides`` (e.g. ``run.start=2024-04``) too. ``name`` (the zip's file name) ends the directory's
    name, so the area's label says where it came from. Raises ``UploadRefused`` (nothing kept) when the
    zip is not a valid area."""
    folder: Path | None = None
    try:
        files = read_members(data)
        check_files(files)
        folder = Path(tempfile.mkdtemp(prefix=PREFIX, suffix=f"-{_slug(name)}", dir=into)).resolve()
        for rel, content in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as f:  # "x": the directory is new, nothing in it is overwritten
                f.write(content)
        found = tuple(replace(a, source=f"uploaded {name}") for a in areas_in(folder))
        for area in found:
            validate(area, folder, overrides)
    except BaseException as e:  # whatever stopped it (a YAML nested too deep, Ctrl-C), nothing is kept
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(e, UploadRefused) or not isinstance(e, Exception):
            raise
        raise UploadRefused("upload", f"could not be read: {type(e).__name__}: {_said(e)}") from None
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the server's copy, gone when it stops
    return UploadedArea(folder, found)


# ------------------------------------------------------------------------------------------------ the zip


def read_members(data: bytes) -> dict[PurePosixPath, bytes]:
    """The files of a zip by their path in the area (one wrapping folder removed), read into memory and
    checked: its size and member count, each member's path and kind. Folders and an operating system's
    clutter are left out."""
    if len(data) > MAX_BYTES:
        raise UploadRefused("upload", f"is {len(data) / _MB:.1f} MB, more than {MAX_BYTES / _MB:g} MB")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UploadRefused("upload", "is not a zip file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise UploadRefused("upload", f"has {len(infos)} files and folders, more than {MAX_MEMBERS}")
            declared = sum(i.file_size for i in infos)
            if declared > MAX_BYTES:
                raise UploadRefused("upload", f"unpacks to {declared / _MB:.1f} MB, more than {MAX_BYTES / _MB:g} MB")
            kept = [(info, path) for info in infos if (path := member_path(info)) is not None]
            paths = _unwrapped(kept)
            files: dict[PurePosixPath, bytes] = {}
            total = 0
            for (info, _), path in zip(kept, paths):
                if info.is_dir():
                    if path.parts and path.parts[0] not in TOPS:
                        raise UploadRefused(info.filename, f"is not in {_tops()}")
                    continue
                check_place(info.filename, path)
                if path in files:
                    raise UploadRefused(info.filename, "is in the zip twice")
                content = bytearray()
                with zf.open(info) as f:
                    while chunk := f.read(CHUNK):
                        total += len(chunk)
                        if total > MAX_BYTES:  # zipfile stops a member at its declared size; counted again
                            raise UploadRefused("upload", f"unpacks to more than {MAX_BYTES / _MB:g} MB")
                        content += chunk
                files[path] = bytes(content)
    except UploadRefused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as e:
        raise UploadRefused("upload", f"is a damaged zip, or one that cannot be read ({_said(e)})") from None
    return files


def member_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """A member's path, relative and inside the upload, or None for an operating system's clutter;
    refused: absolute paths, drive letters, backslashes, ``..``, symbolic links and anything else that is
    not a plain file or folder, and encrypted members."""
    raw = info.filename
    if "\\" in raw:
        raise UploadRefused(raw, "has a backslash in its path (zip paths use /)")
    if raw.startswith("/") or _DRIVE.match(raw):
        raise UploadRefused(raw, "is an absolute path: every path must be inside the upload")
    parts = raw.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise UploadRefused(raw, "points outside the upload (an empty, . or .. part of its path)")
    if any(":" in p or any(ord(c) < 32 for c in p) for p in parts):
        raise UploadRefused(raw, "has a character a path may not have (: or a control character)")
    kind = stat.S_IFMT(info.external_attr >> 16)  # a Unix zipper's file type; 0 when it gives none
    if kind == stat.S_IFLNK:
        raise UploadRefused(raw, "is a symbolic link: only plain files and folders are taken")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UploadRefused(raw, "is not a plain file or folder")
    if info.flag_bits & 0x1:
        raise UploadRefused(raw, "is encrypted")
    if parts[0] in CLUTTER_FOLDERS or parts[-1] in CLUTTER_FILES:
        return None
    return PurePosixPath(*parts)


def _unwrapped(members: list[tuple[zipfile.ZipInfo, PurePosixPath]]) -> list[PurePosixPath]:
    """The members' paths without the one folder that wraps them all (zipping a folder gives one), if they
    have one that is not itself one of ``TOPS``."""
    paths = [p for _, p in members]
    firsts = {p.parts[0] for p in paths}
    wrapped = all(len(p.parts) > 1 or info.is_dir() for info, p in members)
    if len(firsts) != 1 or next(iter(firsts)) in TOPS or not wrapped:
        return paths
    return [PurePosixPath(*p.parts[1:]) for p in paths]


def check_place(member: str, path: PurePosixPath) -> None:
    """A file may be a TCP or system (``tcp/<name>.yaml``, ``system/<name>.yaml``, ``name`` a TCP name) or
    a CSV under ``TOPS``; nothing else."""
    top, suffix = path.parts[0], path.suffix.lower()
    if len(path.parts) < 2 or top not in TOPS:
        raise UploadRefused(member, f"is not in {_tops()}")
    if suffix == ".csv":
        return
    if suffix in (".yaml", ".yml"):
        if top == "census" or len(path.parts) != 2:
            raise UploadRefused(member, "a YAML file must be tcp/<name>.yaml or system/<name>.yaml")
        if path.suffix != ".yaml":
            raise UploadRefused(member, "name it .yaml: the simulator reads only .yaml files")
        if not SAFE_NAME.fullmatch(path.stem):
            raise UploadRefused(
                member, f"'{path.stem}' must be 1 to 64 letters, digits, _ or -, starting with a letter or digit"
            )
        if top == "system" and path.stem == "single":
            raise UploadRefused(member, "'single' is the system of whichever TCP is chosen: name your system otherwise")
        return
    raise UploadRefused(member, "only .yaml and .csv files are taken (a TCP or system, and its census)")


def _tops() -> str:
    return "tcp/, system/ or census/ (or one folder holding them)"


# ------------------------------------------------------------------------------------------------ the files


def check_files(files: dict[PurePosixPath, bytes]) -> None:
    """Every file is UTF-8 text, every YAML file a safe one (``check_yaml``), and there is an area."""
    for path, content in files.items():
        try:
            text = content.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
        except UnicodeDecodeError as e:
            raise UploadRefused(str(path), f"is not UTF-8 text (byte {e.start})") from None
        if path.suffix == ".yaml":
            check_yaml(str(path), text, files)
    found = sum(p.suffix == ".yaml" for p in files)
    if not found:
        raise UploadRefused("upload", "has no area in it (no tcp/<name>.yaml or system/<name>.yaml)")
    if found > MAX_AREAS:
        raise UploadRefused("upload", f"has {found} areas, more than {MAX_AREAS}: upload them in several zips")


def check_yaml(member: str, text: str, files: dict[PurePosixPath, bytes]) -> None:
    """A TCP or system file as YAML: parsed safely, no anchors or aliases (one alias can stand for millions
    of values), a mapping of keys, no ``${...}`` anywhere, no ``@package`` but its own, and each census
    path a file of the upload."""
    kind = PurePosixPath(member).parts[0]
    for lineno, line in enumerate(text.splitlines(), start=1):
        package = _PACKAGE.match(line)
        if package and package.group(1) not in (kind, "_group_"):
            raise UploadRefused(
                member, f"line {lineno}: '@package {package.group(1)}' sets keys outside its {kind} (only {kind}.*)"
            )
    try:
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            mark = event.start_mark
            line = f"line {mark.line + 1}: " if mark is not None else ""
            if isinstance(event, yaml.AliasEvent):
                raise UploadRefused(member, f"{line}YAML anchors and aliases (&, *) are not taken: write values out")
            depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
            if depth > MAX_DEPTH:  # before a recursive reader meets it
                raise UploadRefused(member, f"{line}mappings and lists nested more than {MAX_DEPTH} deep")
        doc = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise UploadRefused(member, f"{line}is not valid YAML ({e.problem or e.context})") from None
    except yaml.YAMLError as e:
        raise UploadRefused(member, f"is not valid YAML ({_said(e)})") from None
    if not isinstance(doc, dict):
        raise UploadRefused(member, "is not a mapping of keys (key: value lines)")
    for key, value in _leaves(doc):
        if not isinstance(value, (str, int, float, bool, date)) and value is not None:
            raise UploadRefused(member, f"{key}: a value of type {type(value).__name__} is not taken")
        if "${" in key or (isinstance(value, str) and "${" in value):
            raise UploadRefused(
                member, f"{key}: '${{...}}' (an interpolation or resolver) is not taken in an uploaded file"
            )
        if key.rsplit(".", 1)[-1] in CENSUS_KEYS and isinstance(value, str):
            check_census_path(member, key, value, files)


def _leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every key of a parsed YAML document (dotted, ``[i]`` for list items) with its value, leaves and
    empty mappings or lists alike, mapping keys checked too."""
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, (dict, list)):
                yield key, None
                yield from _leaves(v, key)
            else:
                yield key, v
    elif isinstance(node, list):
        for i, v in enumerate(node):
            key = f"{prefix}[{i}]"
            if isinstance(v, (dict, list)):
                yield from _leaves(v, key)
            else:
                yield key, v


def check_census_path(member: str, key: str, value: str, files: dict[PurePosixPath, bytes]) -> None:
    """A census path of an uploaded file must be a relative path to one of the upload's files (as the
    template writes it: ``census/<name>_<month>.csv``)."""
    if value.startswith("/") or "\\" in value or _DRIVE.match(value) or ".." in value.split("/"):
        raise UploadRefused(
            member, f"{key}: '{value}' points outside the upload (give a path inside it, e.g. census/<file>.csv)"
        )
    if PurePosixPath(value) not in files:
        raise UploadRefused(member, f"{key}: '{value}' is not in the upload")


# ------------------------------------------------------------------------------------------------ the areas


def validate(area: Area, folder: Path, overrides: Sequence[str] = ()) -> None:
    """Compose and build an unpacked area as a run would, and check that its files set only its own keys
    and read only its own or the shipped censuses; a refusal names the area's file."""
    member = f"{area.kind}/{area.name}.yaml"
    try:
        cfg = area.compose([area.choice, *overrides])
        start = start_of(area, cfg)  # a census of 2024 is validated as the page runs it: from 2024
        if start != str(cfg.run.start) and not any(o.startswith("run.start=") for o in overrides):
            overrides = [*overrides, f"run.start={start}"]
            cfg = area.compose([area.choice, *overrides])
        outside(area, cfg, compose(list(overrides)))
        census_files(cfg, folder)
        build(cfg)
    except UploadRefused as e:
        raise UploadRefused(member, e.problem) from None
    except Exception as e:  # noqa: BLE001 - sorted below: the user's mistakes in one line, the rest too
        line = user_error_line(e) or f"error: {type(e).__name__}: {' '.join(str(e).split())}"
        said = line.removeprefix("config error: ").replace(f"{folder}/", "")
        raise UploadRefused(member, said) from None


def outside(area: Area, cfg: DictConfig, shipped: DictConfig) -> None:
    """Refused if the area's composed config differs from the shipped one outside the area's own keys
    (``tcp``, and for a system ``system``): an uploaded file cannot change the run or the scenario."""
    own = {"tcp"} | ({"system"} if area.kind == "system" else set())
    for top in sorted(set(cfg) | set(shipped)):
        if top in own:
            continue
        mine, theirs = _plain(cfg.get(top)), _plain(shipped.get(top))
        if isinstance(mine, dict) and isinstance(theirs, dict) and top == "run":
            mine.pop("config_dirs", None)
            theirs.pop("config_dirs", None)
        if mine != theirs:
            raise UploadRefused("upload", f"sets {top}.* keys, outside its area ({' and '.join(sorted(own))}.* only)")


def census_files(cfg: DictConfig, folder: Path) -> None:
    """Each census the composed area reads is one of the upload's files or a shipped one."""
    nodes = [cfg.tcp] if cfg.get("tcp") is not None else []
    nodes += list((cfg.system.get("tcps") or {}).values())
    places = (folder.resolve(), CONFIG_DIR.resolve())
    for node in nodes:
        for key in CENSUS_KEYS:
            value = node.get(key)
            if not value:
                continue
            path = Path(str(value))
            path = (path if path.is_absolute() else CONFIG_DIR / path).resolve()
            if not any(path.is_relative_to(p) for p in places):
                raise UploadRefused("upload", f"{node.get('name')}.{key}: '{value}' points outside the upload")


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=False) if isinstance(node, DictConfig) else node


def _slug(name: str) -> str:
    """A file name as a short, safe part of a directory name."""
    stem = Path(name).name.removesuffix(".zip")
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem)[:40].strip("_") or "upload"


def _said(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


__all__ = ["MAX_AREAS", "MAX_BYTES", "MAX_MEMBERS", "UploadRefused", "UploadedArea", "read_area_zip"]
