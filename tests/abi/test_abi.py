"""The shipped binary interface: only perch_* exported, the SONAME, the header compiling as
C99 and C++20, the C++20 wrapper perch.hpp compiling cleanly (with and without exceptions),
every declaration documented and exported, and no incompatible change against the committed
abidw baseline (abigail-tools). Regenerate the baseline only at a release, or for a deliberate
0.x break (and say why in the commit message):
  abidw --headers-dir include/perch --suppressions tests/abi/opaque_handles.suppr \
        --drop-private-types --exported-interfaces-only --no-comp-dir-path --short-locs \
        --out-file tests/abi/libperch.abi build/capi/libperch.so"""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PERCH_BUILD_DIR", os.path.join(ROOT, "build"))
LIB = os.path.join(BUILD, "capi", "libperch.so")
HEADER = os.path.join(ROOT, "include", "perch", "perch.h")
BASELINE = os.path.join(ROOT, "tests", "abi", "libperch.abi")
SUPPRESSIONS = os.path.join(ROOT, "tests", "abi", "opaque_handles.suppr")


def exported():
    out = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True, text=True,
                         check=True).stdout
    return {l.split()[-1] for l in out.splitlines() if l.split() and l.split()[1] in "TDBRVWi"}


def declared():
    text = open(HEADER).read()
    return set(re.findall(r"PERCH_API[^;(]*?\b(perch_\w+)\s*\(", text))


def test_only_perch_symbols_are_exported():
    stray = {s for s in exported() if not s.startswith("perch_")}
    assert not stray, f"exported outside the C ABI: {sorted(stray)[:10]}"


def test_every_declared_function_is_exported_and_nothing_else():
    syms = {s.split("@")[0] for s in exported()}
    assert declared() == syms


def test_the_soname_carries_the_major_version():
    out = subprocess.run(["readelf", "-d", LIB], capture_output=True, text=True, check=True).stdout
    assert "Library soname: [libperch.so.0]" in out


@pytest.mark.parametrize("cmd", [
    ["cc", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only", "-x", "c"],
    ["c++", "-std=c++20", "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only", "-x", "c++"],
])
def test_the_header_compiles_cleanly(cmd):
    r = subprocess.run(cmd + ["-I", os.path.join(ROOT, "include"), "-"],
                       input="#include <perch/perch.h>\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


CXX20_STRICT = ["c++", "-std=c++20", "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only",
                "-x", "c++"]


@pytest.mark.parametrize("extra", [[], ["-fno-exceptions"]])
def test_the_cxx_wrapper_compiles_cleanly(extra):
    r = subprocess.run(CXX20_STRICT + extra + ["-I", os.path.join(ROOT, "include"), "-"],
                       input="#include <perch/perch.hpp>\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_every_function_declaration_is_documented_with_its_thread_rule():
    text = open(HEADER).read()
    # Each declaration, or the group of declarations it belongs to, follows a comment that
    # says which thread may call it.
    blocks = re.split(r"\n\s*\n", text)
    for block in blocks:
        if "PERCH_API" not in block or "#define" in block:
            continue
        assert block.lstrip().startswith("/*"), f"undocumented declaration:\n{block}"
        assert "Thread:" in block, f"no Thread: rule:\n{block}"


def test_no_function_like_macros_unions_or_varargs_in_the_api():
    code = re.sub(r"/\*.*?\*/", "", open(HEADER).read(), flags=re.S)
    assert not re.search(r"#define\s+PERCH_\w+\(", code)
    assert not re.search(r"\bunion\b", code) and "..." not in code


def test_no_incompatible_change_against_the_baseline():
    current = os.path.join(BUILD, "libperch.current.abi")
    headers = os.path.join(ROOT, "include", "perch")
    subprocess.run(["abidw", "--headers-dir", headers, "--suppressions", SUPPRESSIONS,
                    "--drop-private-types", "--exported-interfaces-only", "--no-comp-dir-path",
                    "--short-locs", "--out-file", current, LIB], check=True, capture_output=True)
    r = subprocess.run(["abidiff", "--suppressions", SUPPRESSIONS, BASELINE, current],
                       capture_output=True, text=True)
    # abidiff's status is a bit field: 4 = some ABI change (additions), 8 = incompatible.
    assert not (r.returncode & 8), r.stdout
    assert not (r.returncode & (1 | 2)), r.stdout + r.stderr
