"""The layout rules of issue [9], checked on the tree and the build so
they stay true:

- plug-in code (every file of src/plugins/<name>/, its subfolders and
  t/plugin_example/ but its registration file, *_module.c) reaches
  neither ngx_http.h nor
  libxml2, directly or through our headers (`cc -M`);
- registration files reach ngx_http.h but not libxml2;
- no core file includes a plug-in header, names a plug-in's functions or
  types (ngx_wsman_<plug-in>_...) or defines a plug-in's directives
  (wsman_<plug-in>...), and no core object refers to a symbol a plug-in
  object defines (`nm`): the core knows no plug-in by name;
- every folder under src/ but src/plugins/ is a core folder these rules
  check (a plug-in's code cannot live beside the core, as the shell's did
  in src/shell/);
- no `_none.c` stand-ins: an optional library decides whether a plug-in
  is built at all;
- no comment in src/ points outside the repository;
- no source file under src/ (or the example plug-in) is over 1,600
  lines: a file that grows past it is split along its sections."""

import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
BUILD = ROOT / "build"
NGX_SRC = pathlib.Path("/usr/share/nginx/src")

CORE_DIRS = ["src", "src/http", "src/auth", "src/soap", "src/access",
             "src/engine"]
PLUGIN_DIRS = sorted(p for p in (SRC / "plugins").iterdir() if p.is_dir())
# a plug-in's own subfolders (the shell's host/)
PLUGIN_SUBDIRS = sorted(p for d in PLUGIN_DIRS for p in d.rglob("*")
                        if p.is_dir())
EXAMPLE = ROOT / "t" / "plugin_example"

# plug-in files that still walk libxml2 trees themselves; each is an
# expected failure until it reads the body through the SOAP layer's
# accessors (strict: fixing one fails here until it leaves the list)
NOT_YET_NARROW = set()

# the most lines a source file may have
MAX_LINES = 1600


def _incs():
    dirs = ([ROOT / d for d in CORE_DIRS] + PLUGIN_DIRS + PLUGIN_SUBDIRS
            + [EXAMPLE])
    dirs += [NGX_SRC / "src" / d for d in
             ("core", "event", "event/modules", "os/unix", "http",
              "http/modules", "http/v2")]
    dirs += [BUILD, pathlib.Path("/usr/include/libxml2"),
             pathlib.Path("/usr/include/postgresql")]
    return ["-I%s" % d for d in dirs]


def _deps(path):
    if not (BUILD / "ngx_auto_config.h").exists():
        pytest.skip("run `make` first: the build directory holds "
                    "ngx_auto_config.h")
    p = subprocess.run(["cc", "-M", *_incs(), str(path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.replace("\\\n", " ").split()[1:]


def _plugin_sources():
    files = []
    for d in PLUGIN_DIRS + PLUGIN_SUBDIRS + [EXAMPLE]:
        files += sorted(d.glob("*.c"))
    return files


def _rel(path):
    return str(path.relative_to(ROOT))


def _code_params():
    out = []
    for f in _plugin_sources():
        if f.name.endswith("_module.c"):
            continue
        marks = ([pytest.mark.xfail(strict=True, reason="walks libxml2")]
                 if _rel(f) in NOT_YET_NARROW else [])
        out.append(pytest.param(f, id=_rel(f), marks=marks))
    return out


def _http(deps):
    return [d for d in deps if d.endswith("/ngx_http.h")]


def _libxml(deps):
    return [d for d in deps if "/libxml2/" in d or "/libxml/" in d]


@pytest.mark.parametrize("path", _code_params())
def test_plugin_code_sees_neither_http_nor_libxml2(path):
    deps = _deps(path)
    assert not _http(deps), "%s reaches ngx_http.h" % _rel(path)
    assert not _libxml(deps), "%s reaches libxml2: %s" % (
        _rel(path), _libxml(deps)[:3])


@pytest.mark.parametrize("path", [
    pytest.param(f, id=_rel(f)) for f in _plugin_sources()
    if f.name.endswith("_module.c")])
def test_registration_files_see_http_but_not_libxml2(path):
    deps = _deps(path)
    assert _http(deps), "%s: a registration file defines a module" % path
    assert not _libxml(deps), _libxml(deps)[:3]


def test_every_plugin_has_a_registration_file_and_a_config():
    for d in PLUGIN_DIRS + [EXAMPLE]:
        assert (d / "config").exists(), d
        regs = list(d.glob("*_module.c"))
        assert len(regs) == 1, (d, regs)
        assert "NGX_WSMAN_PLUGIN_PADDING" in regs[0].read_text(), regs[0]


def test_core_includes_no_plugin_header():
    plugin_headers = {h.name for d in PLUGIN_DIRS for h in d.rglob("*.h")}
    bad = []
    for d in CORE_DIRS:
        for f in list((ROOT / d).glob("*.[ch]")):
            for inc in re.findall(r'#include\s+"([^"]+)"', f.read_text()):
                if pathlib.Path(inc).name in plugin_headers:
                    bad.append("%s: %s" % (_rel(f), inc))
    assert not bad, bad


def _core_sources():
    return [f for d in CORE_DIRS for f in sorted((ROOT / d).glob("*.[ch]"))]


def test_every_src_folder_is_core_or_plugins():
    folders = {_rel(d) for d in SRC.iterdir() if d.is_dir()}
    assert folders - {"src/plugins"} == set(CORE_DIRS) - {"src"}


def test_core_names_no_plugin_identifier():
    bad = []
    for d in PLUGIN_DIRS:
        ident = re.compile(r"\bngx_wsman_%s_\w+" % re.escape(d.name))
        for f in _core_sources():
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if ident.search(line):
                    bad.append("%s:%d: %s" % (_rel(f), n, line.strip()))
    assert not bad, bad


def test_plugin_directives_are_the_plugins():
    # a plug-in's directives are its module's (wsman_shell* are the shell
    # plug-in's), never the core module's
    bad = []
    for d in PLUGIN_DIRS:
        name = re.compile(r'ngx_string\("wsman_%s(_\w+)?"\)'
                          % re.escape(d.name))
        for f in _core_sources():
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if name.search(line):
                    bad.append("%s:%d: %s" % (_rel(f), n, line.strip()))
    assert not bad, bad


def _symbols(objs, flag):
    if not objs:
        return set()
    p = subprocess.run(["nm", flag, *map(str, objs)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = set()
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.endswith(":"):
            out.add(parts[-1])
    return out


def test_core_objects_refer_to_no_plugin_symbol():
    addon = BUILD / "addon"
    if not addon.exists():
        pytest.skip("run `make` first")
    # nginx names an object by its source's folder and file name
    def objs(dirs):
        return [addon / d.name / (c.stem + ".o") for d in dirs
                for c in d.glob("*.c")
                if (addon / d.name / (c.stem + ".o")).exists()]
    plugin_objs = objs(PLUGIN_DIRS + PLUGIN_SUBDIRS)
    core_objs = objs([ROOT / d for d in CORE_DIRS])
    assert plugin_objs and core_objs
    defined = _symbols(plugin_objs, "--defined-only") - {"ngx_modules"}
    defined = {s for s in defined if s.startswith("ngx_wsman_")}
    used = _symbols(core_objs, "--undefined-only")
    assert not (defined & used), sorted(defined & used)


def test_no_none_stubs():
    assert not list(SRC.rglob("*_none.c"))


def test_no_comment_points_outside_the_repository():
    bad = []
    for f in SRC.rglob("*.[ch]"):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if re.search(r"DESIGN\.md|\bshared/|reference/|recipes/", line):
                bad.append("%s:%d: %s" % (_rel(f), n, line.strip()))
    assert not bad, bad


def test_no_source_file_over_max_lines():
    files = sorted(SRC.rglob("*.[ch]")) + sorted(EXAMPLE.glob("*.[ch]"))
    assert len(files) > 50
    big = []
    for f in files:
        n = len(f.read_text().splitlines())
        if n > MAX_LINES:
            big.append("%s: %d lines" % (_rel(f), n))
    assert not big, big
