"""The sources a run's configs cite, as data: which config files the run read, each value's comment, which
of those name a source, the start census's comment lines, the seed documents and the model's event rules.

Every value in configs/ carries a YAML comment naming where it comes from (a seed document, PARAMETERS.md,
another dated publication) or saying "assumption" and why. The report lists them; this module only finds
and parses them (plain lists and dicts, no prose), so the report's wording lives in its template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig

from sim.config import CONFIG_DIR
from sim.config.store import plain

#: A comment cites a source if it names a seed document or a figure of PARAMETERS.md (``_SEED``), or
#: another dated document, "Name (Mon 2017):" or "Name 2019-20 (...):" (``_DATED``), or a web site.
_SEED = re.compile(r"seed \d{3}|seeds/|PARAMETERS\.md")
_DATED = re.compile(r"\b(?:19|20)\d\d(?:-\d\d)?\)?\s*:|\([^()]*\b(?:19|20)\d\d\)")
_WEB = re.compile(r"\b[\w-]+\.(?:uk|org|com|gov|net)\b")
#: A comment names seed NNN as "seed NNN" or by its file, "seeds/NNN_<digest>.txt".
_SEED_NUMBER = (re.compile(r"seed (\d{3})"), re.compile(r"seeds/(\d{3})_"))
#: The seed documents' titles, packaged with the report (copied from ../shared/seeds/README.md).
SEED_DOCUMENTS = "seed_documents.yaml"
#: A path to a seed document, as a config's comment may give it ("../shared/seeds/001_<digest>.txt"):
#: the report names it "seed 001" instead (the documents' list gives its title, publisher and date).
_SEED_PATH = re.compile(r"(?:(?:\.\./|/[\w.-]+/)*shared/)?seeds/(\d{3})_[0-9a-f]+\.txt")
#: A path to one of the project's notes kept outside the repository ("../shared/PARAMETERS.md"): named
#: by its file name alone.
_SHARED_PATH = re.compile(r"(?:\.\./|/[\w.-]+/)*shared/([\w.-]+\.md)")


def pathway_rules() -> list[str]:
    """The numbered event rules of the SimPy model's docstring (each named as in DESIGN.md), one line each:
    the readable reference model documents the rules it implements, so the report quotes them from there."""
    import sim.model.model as model

    doc = model.__doc__ or ""
    items = re.findall(r"^(\d+)\.\s+(.*?)(?=^\d+\.\s|\n\s*\n|\Z)", doc, flags=re.M | re.S)
    return [" ".join(text.split()).replace("``", "`") for _, text in items]


def tcp_configs(cfg: DictConfig) -> list[tuple[str, dict]]:
    """(name, plain config) of each TCP of the run: the system's TCPs, or the single ``tcp`` config."""
    tcps = plain(cfg.system.tcps) if cfg.system.tcps else {}
    if tcps:
        return [(str(t.get("name", k)), t) for k, t in tcps.items()]
    if cfg.tcp is None:
        return []
    t = plain(cfg.tcp)
    return [(str(t.get("name")), t)]


def config_files(cfg: DictConfig, config_dirs: Sequence[Path] = ()) -> list[Path]:
    """The config files of this run whose comments cite sources: each TCP's file, the system's file and
    the scenario's file (those that exist, each once, in that order), looked for in the user's config
    directories first (``--config-dir``), as Hydra found them."""
    roots = [*config_dirs, CONFIG_DIR]
    files = [tcp_file(name, config_dirs) for name, _ in tcp_configs(cfg)]
    files.append(_first(roots, "system", cfg.system.name))
    files.append(_first(roots, "scenario", cfg.scenario.name))
    seen: list[Path] = []
    for f in files:
        if f is not None and f.is_file() and f not in seen:
            seen.append(f)
    return seen


def run_prefix(cfg: DictConfig, path: Path, config_dirs: Sequence[Path] = ()) -> str:
    """The dotted prefix a config file's keys have in the run's config: ``tcp.`` for the TCP's file,
    ``system.tcps.<name>.`` for a system's TCP, ``system.`` for the system's file, '' for a scenario's
    (its keys are written from the top)."""
    for name, _ in tcp_configs(cfg):
        if tcp_file(name, config_dirs) == path:
            return f"system.tcps.{name}." if cfg.system.tcps else "tcp."
    return "system." if path.parent.name == "system" else ""


def _first(roots: Sequence[Path], group: str, name: str) -> Path | None:
    """<root>/<group>/<name>.yaml in the first root that has it."""
    return next((r / group / f"{name}.yaml" for r in roots if (r / group / f"{name}.yaml").is_file()), None)


def tcp_file(name: str, config_dirs: Sequence[Path] = ()) -> Path | None:
    """<dir>/tcp/<name>.yaml, or the TCP file whose ``name:`` is ``name``, in the user's config
    directories then configs/; None if there is none."""
    for root in [*config_dirs, CONFIG_DIR]:
        path = root / "tcp" / f"{name}.yaml"
        if path.is_file():
            return path
        for p in sorted((root / "tcp").glob("*.yaml")):
            if re.search(rf"^name:\s*['\"]?{re.escape(name)}['\"]?\s*(#.*)?$", p.read_text(), flags=re.M):
                return p
    return None


def census_file(tcp: dict) -> Path | None:
    """The start census a TCP's config names (``census``, else ``census_counts``; relative paths are under
    configs/), or None if it has none."""
    name = tcp.get("census") or tcp.get("census_counts")
    if not name:
        return None
    path = Path(str(name))
    return path if path.is_absolute() else CONFIG_DIR / path


def cites_source(comment: str) -> bool:
    """Whether a value's comment names a source (see ``_SEED``), not only an assumption."""
    return any(p.search(comment) for p in (_SEED, _DATED, _WEB))


def is_assumption(comment: str) -> bool:
    """Whether a value's comment marks it (or part of it) as an assumption."""
    return "assumption" in comment.lower()


def cited_seeds(comments: list[str]) -> set[str]:
    """The three-digit numbers of the seed documents that any of ``comments`` names."""
    return {n for c in comments for p in _SEED_NUMBER for n in p.findall(c)}


def config_comments(path: Path) -> list[tuple[str, str]]:
    """(key, comment) for each commented key of a YAML config file, in file order: a key's inline comment
    and the comment lines just above it, joined; list items are keyed ``key[i]``. The comment block at the
    top of the file is keyed ``(file)``; Hydra's ``@package`` line is left out."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[int, str, bool]] = []  # (indent, segment, is a list item)
    counts: dict[str, int] = {}
    pending: list[str] = []
    seen_key = False
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            text = stripped.lstrip("#").strip()
            if not text.startswith("@package"):
                pending.append(text)
            continue
        if not seen_key and pending:
            out.append(("(file)", " ".join(pending)))
            pending = []
        seen_key = True
        indent = len(raw) - len(raw.lstrip())
        body, inline = _split_comment(stripped)
        item = re.match(r"^-\s*(.*)$", body)
        if item:
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and stack[-1][2])):
                stack.pop()
            parent = _path(stack)
            counts[parent] = counts.get(parent, -1) + 1
            stack.append((indent, f"[{counts[parent]}]", True))
            body = item.group(1)
            key = re.match(r"^([A-Za-z_][\w]*)\s*:(?!\S)", body)
            if key:  # a mapping item: "- name: value"
                stack.append((indent + 2, key.group(1), False))
        else:
            key = re.match(r"^([A-Za-z_][\w]*)\s*:(?!\S)", body)
            if not key:  # a continuation of a value: keep its comment with the pending ones
                if inline:
                    pending.append(inline)
                continue
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, key.group(1), False))
        comment = " ".join(pending + ([inline] if inline else []))
        pending = []
        if comment:
            out.append((_path(stack), comment))
    return out


def census_comments(path: Path) -> list[str]:
    """The '#' lines at the top of a census CSV (its sources), without the column notes."""
    lines: list[str] = []
    if not path.is_file():
        return [f"(file {path} not found)"]
    for line in path.read_text().splitlines():
        if not line.lstrip().startswith("#"):
            break
        text = line.lstrip().lstrip("#").strip()
        if text.startswith("columns:") or (lines and lines[-1].startswith("columns:")):
            lines.append("columns:")  # marker: drop the column notes and their continuation
            continue
        lines.append(text)
    return [t for t in lines if t != "columns:"]


def census_rows(path: Path) -> int | None:
    """How many rows a census CSV holds (not its comment lines or header), or None if it is not there."""
    if not path.is_file():
        return None
    lines = [t for t in path.read_text().splitlines() if t.strip() and not t.lstrip().startswith("#")]
    return max(len(lines) - 1, 0)


def seed_documents() -> dict[str, tuple[str, str]]:
    """Seed number -> (file name, what it is), from the copy of the seeds' README packaged with the report
    (``seed_documents.yaml``): the report reads nothing outside the project at run time."""
    text = resources.files(__package__).joinpath(SEED_DOCUMENTS).read_text(encoding="utf-8")
    table = yaml.safe_load(text) or {}
    return {f"{int(n):03d}": (str(d["file"]), str(d["what"])) for n, d in table.items()}


def seed_document_details() -> dict[str, dict[str, str]]:
    """Seed number -> its file name, what it is, title, publisher and date (``seed_documents.yaml``; a
    field the table lacks is "not stated"), so that the report names a document a reader can find."""
    text = resources.files(__package__).joinpath(SEED_DOCUMENTS).read_text(encoding="utf-8")
    table = yaml.safe_load(text) or {}
    fields = ("file", "what", "title", "publisher", "date")
    return {f"{int(n):03d}": {k: str(d.get(k, "not stated")) for k in fields} for n, d in table.items()}


def portable(text: str) -> str:
    """Text with the paths that point outside the repository replaced by names: a seed document's path
    becomes "seed NNN", a shared note's path ("../shared/PARAMETERS.md") its file name."""
    return _SHARED_PATH.sub(r"\1", _SEED_PATH.sub(r"seed \1", text))


def assumed_values(cfg: DictConfig, config_dirs: Sequence[Path] = ()) -> list[dict[str, Any]]:
    """Every value a config file of the run marks "assumption" in its comment: the file (relative to
    configs/ or the user's config directory it is in), the key, the value this run used (after the
    scenario's changes; None if the run does not set it) and the comment. Each TCP's file is read against
    that TCP's config, the system's file against ``system`` and a ``@package _global_`` file (a
    scenario's) against the whole config."""
    root = plain(cfg)
    roots = [*config_dirs, CONFIG_DIR]
    trees: list[tuple[Path, Any]] = [
        (p, t) for name, t in tcp_configs(cfg) if (p := tcp_file(name, config_dirs)) is not None
    ]
    for found in (_first(roots, "system", cfg.system.name), _first(roots, "scenario", cfg.scenario.name)):
        if found is not None:
            path = found
            package = re.search(r"^#\s*@package\s+(\S+)", path.read_text(), flags=re.M)
            where = package.group(1) if package else "_global_"
            trees.append((path, root if where == "_global_" else value_at(root, where)))
    out: list[dict[str, Any]] = []
    seen: set[Path] = set()
    for path, tree in trees:
        if path in seen:  # two TCPs from one file: the first's values
            continue
        seen.add(path)
        for key, comment in config_comments(path):
            if key != "(file)" and is_assumption(comment):
                out.append(
                    {
                        "file": _relative(path, roots),
                        "key": key,
                        "value": value_at(tree, key),
                        "comment": portable(comment),
                    }
                )
    return out


def _relative(path: Path, roots: Sequence[Path]) -> str:
    """A config file's name relative to the config directory it is in (``tcp/bhr.yaml``)."""
    for root in roots:
        try:
            return path.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            continue
    return path.name


def value_at(tree: Any, key: str) -> Any:
    """The value at a dotted key with list items as ``[i]`` (``beds.atu.los.components[0].mean``) in plain
    nested dicts and lists; None where the key is missing."""
    node = tree
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        if part.startswith("["):
            i = int(part[1:-1])
            node = node[i] if isinstance(node, list) and i < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def _path(stack: list[tuple[int, str, bool]]) -> str:
    """The dotted key of the innermost entry of a YAML nesting stack (list items as ``[i]``)."""
    text = ""
    for _, seg, _ in stack:
        text += seg if seg.startswith("[") or not text else f".{seg}"
    return text


def _split_comment(text: str) -> tuple[str, str]:
    """A YAML line's value and its inline comment (a '#' after whitespace, outside quotes)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip(), text[i + 1 :].strip()
    return text, ""
