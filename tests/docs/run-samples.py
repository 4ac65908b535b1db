#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs every code sample of the documentation, as a TAP test each.

    run-samples.py --source-root DIR --build-root DIR [--cc CC...] [--gir]
                   [--gjs GJS] [--valac VALAC]

Takes every fenced code block tagged c, python (or py), js (or
javascript) or vala from README.md and docs/*.md, and:

- c: writes it to a file, compiles it with
  `cc $(pkg-config --cflags --libs fsthread-1)` against the build tree
  (its uninstalled fsthread-1.pc), warnings fatal, and runs it;
- python: runs it with /usr/bin/python3, the typelib and library from the
  build tree and the override from the source tree;
- js: runs it with gjs, the typelib and library from the build tree: as
  an ES module (gjs -m) when it has an import or export statement, else as
  a legacy script;
- vala: compiles it with `valac --pkg fsthread-1` against the vapi and the
  uninstalled fsthread-1.pc of the build tree, and runs it.

A sample passes when it builds and exits with status 0 within the time
limit. An HTML comment on the line before a fence marks the block:

    <!-- fragment -->                   not a whole program: skipped
    <!-- known-failure: REASON -->      a bug outside the docs, with its
                                        reason: run, reported as TODO, so
                                        it fails the test once it passes

Blocks in other languages (sh, text, none) are not run. A block tagged
with an unknown word after its language fails, so that a typo never hides
a sample.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

RUN_LANGUAGES = {"c", "python", "js", "vala"}
MODULE_RE = re.compile(r"^\s*(import|export)\b", re.M)
ALIASES = {"javascript": "js", "py": "python", "python3": "python"}
FENCE_RE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
FRAGMENT_MARK = "<!-- fragment -->"
KNOWN_FAILURE_RE = re.compile(r"^<!-- known-failure: (?P<reason>.+?) -->$")
TIMEOUT = 120


class Sample:
    def __init__(self, path, line, language, words, code, fragment, known_failure):
        self.known_failure = known_failure
        self.path = path
        self.line = line
        self.language = language
        self.words = words
        self.code = code
        self.fragment = fragment

    def __str__(self):
        return "%s:%d (%s)" % (self.path, self.line, self.language)


def extract(path, display):
    """The fenced code blocks of a markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")

    samples = []
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group("fence")
        info = m.group("info").strip()
        start = i
        body = []
        i += 1
        while i < len(lines):
            close = lines[i].strip()
            if close.startswith(fence[0] * len(fence)) and close.strip(fence[0]) == "":
                break
            body.append(lines[i])
            i += 1
        else:
            raise SystemExit("%s:%d: unclosed code fence" % (display, start + 1))
        i += 1

        # The line before the fence, blank lines skipped, may mark it.
        j = start - 1
        while j >= 0 and lines[j].strip() == "":
            j -= 1
        mark = lines[j].strip() if j >= 0 else ""
        fragment = mark == FRAGMENT_MARK
        known = KNOWN_FAILURE_RE.match(mark)
        known_failure = known.group("reason") if known else None

        words = info.replace("{", " ").replace("}", " ").replace(".", " ").split()
        language = words[0].lower() if words else ""
        language = ALIASES.get(language, language)
        samples.append(Sample(display, start + 1, language, words[1:],
                              "\n".join(body) + "\n", fragment, known_failure))
    return samples


def documents(source_root):
    docs = [os.path.join(source_root, "README.md")]
    docs_dir = os.path.join(source_root, "docs")
    docs += sorted(os.path.join(docs_dir, name) for name in os.listdir(docs_dir)
                   if name.endswith(".md"))
    return docs


def run(argv, env, cwd, stdin=subprocess.DEVNULL):
    """Runs argv; returns (ok, output)."""
    try:
        proc = subprocess.run(argv, env=env, cwd=cwd, stdin=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return False, out + "\ntimed out after %d s: %s" % (TIMEOUT, " ".join(argv))
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        return False, out + "\nexit status %d: %s" % (proc.returncode, " ".join(argv))
    return True, out


class Runner:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_root)
        self.source = os.path.abspath(args.source_root)
        lib_dir = os.path.join(self.build, "fsthread")

        base = dict(os.environ)
        for var in ("GI_TYPELIB_PATH", "FS_PYTHON_OVERRIDES", "PYTHONPATH"):
            base.pop(var, None)
        base["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (lib_dir, os.environ.get("LD_LIBRARY_PATH")) if p)
        self.c_env = dict(base)
        self.c_env["PKG_CONFIG_PATH"] = os.pathsep.join(
            p for p in (os.path.join(self.build, "meson-uninstalled"),
                        os.environ.get("PKG_CONFIG_PATH")) if p)
        self.gi_env = dict(base)
        self.gi_env["GI_TYPELIB_PATH"] = lib_dir
        self.py_env = dict(self.gi_env)
        self.py_env["FS_PYTHON_OVERRIDES"] = os.path.join(self.source, "fsthread")
        self.py_env["PYTHONDONTWRITEBYTECODE"] = "1"
        # The drop-in module, fsthread.multithreading, from the source tree.
        self.py_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (os.path.join(self.source, "fsthread", "python"),
                        os.environ.get("PYTHONPATH")) if p)

    def c(self, sample, work):
        src = os.path.join(work, "sample.c")
        exe = os.path.join(work, "sample")
        with open(src, "w", encoding="utf-8") as f:
            f.write(sample.code)
        ok, flags = run(["pkg-config", "--cflags", "--libs", "fsthread-1"], self.c_env, work)
        if not ok:
            return False, flags
        ok, out = run(self.args.cc + ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror",
                                      src, "-o", exe] + flags.split(), self.c_env, work)
        if not ok:
            return False, out
        return run([exe], self.c_env, work)

    def python(self, sample, work):
        src = os.path.join(work, "sample.py")
        with open(src, "w", encoding="utf-8") as f:
            f.write(sample.code)
        # As tests/python/fsthread_testing.py: the override from the source
        # tree first, then the sample as a script.
        loader = ("import os, runpy, sys, gi.overrides; "
                  "gi.overrides.__path__.insert(0, os.environ['FS_PYTHON_OVERRIDES']); "
                  "sys.argv = sys.argv[1:]; "
                  "runpy.run_path(sys.argv[0], run_name='__main__')")
        return run([self.args.python, "-c", loader, src], self.py_env, work)

    def js(self, sample, work):
        src = os.path.join(work, "sample.js")
        with open(src, "w", encoding="utf-8") as f:
            f.write(sample.code)
        module = ["-m"] if MODULE_RE.search(sample.code) else []
        return run([self.args.gjs] + module + [src], self.gi_env, work)

    def vala(self, sample, work):
        src = os.path.join(work, "sample.vala")
        exe = os.path.join(work, "sample")
        with open(src, "w", encoding="utf-8") as f:
            f.write(sample.code)
        ok, out = run([self.args.valac, "--fatal-warnings",
                       "--vapidir", os.path.join(self.build, "fsthread"),
                       "--pkg", "fsthread-1", "--pkg", "gio-2.0",
                       "-X", "-w", src, "-o", exe], self.c_env, work)
        if not ok:
            return False, out
        return run([exe], self.c_env, work)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-root", required=True)
    parser.add_argument("--build-root", required=True)
    parser.add_argument("--cc", nargs="+", default=["cc"])
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--gjs", default="gjs")
    parser.add_argument("--valac", default=None,
                        help="the vapi was built: compile and run vala samples")
    parser.add_argument("--gir", action="store_true",
                        help="the typelib was built: run python and js samples")
    args = parser.parse_args()

    samples = []
    for path in documents(args.source_root):
        samples += extract(path, os.path.relpath(path, args.source_root))
    samples = [s for s in samples if s.language in RUN_LANGUAGES]

    runner = Runner(args)
    counts = {lang: 0 for lang in RUN_LANGUAGES}
    failed = 0
    print("1..%d" % (len(samples) + 1))
    n = 0
    for sample in samples:
        n += 1
        if sample.words:
            print("not ok %d - %s: unknown tag %r (mark fragments with %s on the line before)"
                  % (n, sample, " ".join(sample.words), FRAGMENT_MARK))
            failed += 1
            continue
        if sample.fragment:
            print("ok %d - %s # SKIP a fragment, not a whole program" % (n, sample))
            continue
        if sample.language in ("python", "js") and not args.gir:
            print("ok %d - %s # SKIP built without introspection" % (n, sample))
            continue
        if sample.language == "js" and shutil.which(args.gjs) is None:
            print("ok %d - %s # SKIP gjs not found" % (n, sample))
            continue
        if sample.language == "vala" and args.valac is None:
            print("ok %d - %s # SKIP built without the Vala bindings" % (n, sample))
            continue
        work = tempfile.mkdtemp(prefix="fs-doc-sample-")
        try:
            ok, out = getattr(runner, sample.language)(sample, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if sample.known_failure:
            # TAP TODO: a failure is expected; a pass is reported as
            # unexpected, so that the mark goes once the bug is fixed.
            print("%s %d - %s # TODO known failure: %s"
                  % ("ok" if ok else "not ok", n, sample, sample.known_failure))
            for line in out.rstrip("\n").split("\n")[-5:]:
                print("# " + line)
        elif ok:
            counts[sample.language] += 1
            print("ok %d - %s" % (n, sample))
        else:
            failed += 1
            print("not ok %d - %s" % (n, sample))
            for line in out.rstrip("\n").split("\n"):
                print("# " + line)
        sys.stdout.flush()

    # The extractor itself: samples of each language were found and run.
    n += 1
    want = ["c"] + (["python", "js"] if args.gir else []) + (["vala"] if args.valac else [])
    missing = [lang for lang in want if counts[lang] == 0]
    if missing:
        print("not ok %d - a sample ran for every language (none ran for %s)"
              % (n, ", ".join(missing)))
        failed += 1
    else:
        print("ok %d - samples run: %s" % (n, ", ".join(
            "%d %s" % (counts[lang], lang) for lang in sorted(counts))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
